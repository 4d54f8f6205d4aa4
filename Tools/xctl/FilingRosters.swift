import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

extension Filing {
    /// `xctl filing roster …`: exam result rosters, uploaded from a CSV file in chunks.
    struct RosterCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "roster",
            abstract: "Exam result rosters: create, upload a CSV in chunks (resumable), seal, correct, read.",
            subcommands: [Create.self, Upload.self, Seal.self, Show.self, List.self, Candidates.self, Changes.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Start the roster of an exam session, or a correction of a sealed one (--supersedes, --reason).")
            @Option(help: "The certificate's code.") var certificate: String
            @Option(help: "The level: 初级/elementary, 中级/intermediate or 高级/advanced.") var level: String
            @Option(help: "The code of the school that hosted the exam.") var site: String
            @Option(help: "The exam's day, YYYY-MM-DD.") var date: String
            @Option(help: "The sealed roster this one corrects.") var supersedes: Int64 = 0
            @Option(help: "Why the correction (required with --supersedes).") var reason: String = ""
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_CreateRosterRequest()
                request.session.certificateCode = self.certificate
                request.session.level = try wireLevels([self.level]).first ?? .unspecified
                request.session.siteSchoolCode = self.site
                request.session.examDate = try wireDate(self.date, option: "--date")
                request.supersedesRosterID = self.supersedes
                request.correctionReason = self.reason
                let roster = try await self.options.call(
                    Xcert_Filing_V1_RosterService.Method.createRoster, request, idempotencyKey: self.change.idempotencyKey)
                print("roster \(roster.id) (version \(roster.version)): \(rosterStateName(roster.state))")
            }
        }

        struct Upload: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Upload a roster's candidates from a CSV file, in chunks.",
                discussion: """
                    The CSV (UTF-8, with or without BOM) has a header row with these columns, in English or Chinese:
                      candidate_number 准考证号, name 姓名, national_id 身份证号, school_code 院校代码, specialty 专业,
                      registration 报名状态 (获批/approved or 申报/declared), attended 是否参考 (是/否),
                      scores 成绩 (points per component in the certificate's order, e.g. 80.5;70; empty if absent),
                      passed 是否通过 (是/否).
                    Run it again after an interruption: chunks already acknowledged are recognised and not stored twice.
                    A refused chunk is reported by CSV line and field.
                    """
            )
            @Argument(help: "The roster's id.") var id: Int64
            @Argument(help: "The CSV file.") var file: String
            @Option(help: "Candidates per chunk, 1 to 5000.") var chunkSize: Int = 5000
            @Flag(help: "Seal the roster after the last chunk.") var seal = false
            @OptionGroup var options: FilingOptions

            func run() async throws {
                guard (1...5000).contains(self.chunkSize) else { throw ValidationError("--chunk-size must be 1 to 5000") }
                let rows = try RosterCSV.read(self.file)
                let chunks = stride(from: 0, to: rows.count, by: self.chunkSize).map {
                    Array(rows[$0..<min($0 + self.chunkSize, rows.count)])
                }
                var total: Int64 = 0
                for (index, chunk) in chunks.enumerated() {
                    var request = Xcert_Filing_V1_UploadChunkRequest()
                    request.rosterID = self.id
                    request.chunkIndex = Int32(index)
                    request.rows = chunk.map(\.row)
                    let answer = try await self.options.call(Xcert_Filing_V1_RosterService.Method.uploadChunk, request) { error in
                        RosterCSV.naming(lines: chunk, in: error)
                    }
                    total = answer.rosterRowCount
                    print("chunk \(index): \(chunk.count) candidates\(answer.alreadyUploaded ? " (already uploaded)" : "")")
                }
                print("roster \(self.id): \(total) candidates in \(chunks.count) chunks")
                if self.seal {
                    var request = Xcert_Filing_V1_SealRosterRequest()
                    request.rosterID = self.id
                    request.expectedRowCount = Int64(rows.count)
                    let roster = try await self.options.call(Xcert_Filing_V1_RosterService.Method.sealRoster, request)
                    print("roster \(roster.id): \(rosterStateName(roster.state))")
                }
            }
        }

        struct Seal: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Seal a roster: it never changes afterwards and goes to assessment.")
            @Argument(help: "The roster's id.") var id: Int64
            @Option(help: "The number of candidates it must hold.") var expect: Int64 = 0
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_SealRosterRequest()
                request.rosterID = self.id
                request.expectedRowCount = self.expect
                let roster = try await self.options.call(Xcert_Filing_V1_RosterService.Method.sealRoster, request)
                print("roster \(roster.id): \(rosterStateName(roster.state)), \(roster.rowCount) candidates")
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "A roster with its acknowledged chunks and, once sealed, its counts per school, as JSON.")
            @Argument(help: "The roster's id.") var id: Int64
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_GetRosterRequest()
                request.id = self.id
                try emit(try await self.options.call(Xcert_Filing_V1_RosterService.Method.getRoster, request))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Rosters (all pages).")
            @Option(help: "Only this certificate's.") var certificate: String = ""
            @Option(help: "Only exams of this year.") var year: Int32 = 0
            @Option(help: "uploading, sealed or superseded.") var state: String?
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_ListRostersRequest()
                request.certificateCode = self.certificate
                request.year = self.year
                if let state = self.state {
                    guard
                        let wire = [("uploading", Xcert_Filing_V1_RosterState.uploading), ("sealed", .sealed), ("superseded", .superseded)]
                            .first(where: { $0.0 == state })?.1
                    else {
                        throw ValidationError("--state is uploading, sealed or superseded")
                    }
                    request.state = wire
                }
                let rosters = try await allPages { token in
                    request.page.pageToken = token
                    let page = try await self.options.call(Xcert_Filing_V1_RosterService.Method.listRosters, request)
                    return (page.rosters, page.page.nextPageToken)
                }
                emit(
                    ["id", "certificate", "level", "site", "exam_date", "version", "state", "candidates", "supersedes"],
                    rosters.map { roster in
                        [
                            String(roster.id), roster.session.certificateCode, levelNames([roster.session.level]),
                            roster.session.siteSchoolCode,
                            dateText(roster.session.examDate), String(roster.version), rosterStateName(roster.state),
                            String(roster.rowCount),
                            roster.supersedesRosterID == 0 ? "" : String(roster.supersedesRosterID),
                        ]
                    },
                    format: self.format
                )
            }
        }

        struct Candidates: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "A roster's candidates (all pages); national IDs show their last four characters only.")
            @Argument(help: "The roster's id.") var id: Int64
            @Option(help: "Only this school's candidates.") var school: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_ListCandidatesRequest()
                request.rosterID = self.id
                request.schoolCode = self.school
                request.page.pageSize = 5000
                let candidates = try await allPages { token in
                    request.page.pageToken = token
                    let page = try await self.options.call(Xcert_Filing_V1_RosterService.Method.listCandidates, request)
                    return (page.candidates, page.page.nextPageToken)
                }
                emit(
                    [
                        "candidate_number", "name", "national_id_last4", "school_code", "specialty", "registration", "attended", "scores",
                        "total", "passed",
                    ],
                    candidates.map { candidate in
                        [
                            candidate.candidateNumber, candidate.name, candidate.nationalIDLast4, candidate.schoolCode, candidate.specialty,
                            candidate.registration == .approved ? "获批" : "申报", candidate.attended ? "是" : "否",
                            candidate.componentScoresTenths.map(pointsText).joined(separator: ";"),
                            candidate.attended ? pointsText(candidate.totalScoreTenths) : "", candidate.passed ? "是" : "否",
                        ]
                    },
                    format: self.format
                )
            }
        }

        struct Changes: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The feed of sealed rosters after a cursor, as JSON (province admins and services).")
            @Option(help: "The cursor to read after (0: from the beginning).") var after: Int64 = 0
            @Option(help: "At most this many (1 to 1000).") var limit: Int32 = 100
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_ListRosterChangesRequest()
                request.after = self.after
                request.limit = self.limit
                try emit(try await self.options.call(Xcert_Filing_V1_RosterService.Method.listRosterChanges, request))
            }
        }
    }
}

/// A roster CSV as provinces' exam offices keep it, read into candidate rows with the
/// line each came from. Problems the file itself has (a missing column, a score that is
/// not a number) are reported by line and column before anything is sent.
enum RosterCSV {
    struct Line {
        var line: Int
        var row: Xcert_Filing_V1_CandidateRow
    }

    /// Each column by its English and Chinese header.
    static let columns: [(key: String, names: [String])] = [
        ("candidate_number", ["candidate_number", "准考证号"]),
        ("name", ["name", "姓名"]),
        ("national_id", ["national_id", "身份证号"]),
        ("school_code", ["school_code", "院校代码"]),
        ("specialty", ["specialty", "专业"]),
        ("registration", ["registration", "报名状态"]),
        ("attended", ["attended", "是否参考"]),
        ("scores", ["scores", "成绩"]),
        ("passed", ["passed", "是否通过"]),
    ]

    static func read(_ file: String) throws -> [Line] {
        var lines: [Line] = []
        var problems: [String] = []
        for csvRow in try CSVTable.read(file, columns: self.columns) {
            let lineNumber = csvRow.line
            let value = csvRow.value
            func flag(_ key: String) -> Bool? {
                switch value(key).lowercased() {
                case "是", "yes", "true", "1", "y": true
                case "否", "no", "false", "0", "n", "": false
                default: nil
                }
            }
            var row = Xcert_Filing_V1_CandidateRow()
            row.candidateNumber = value("candidate_number")
            row.name = value("name")
            row.nationalID = value("national_id")
            row.schoolCode = value("school_code")
            row.specialty = value("specialty")
            switch value("registration").lowercased() {
            case "获批", "approved": row.registration = .approved
            case "申报", "declared": row.registration = .declared
            default:
                problems.append(
                    """
                    line \(lineNumber), column registration: \
                    \(value("registration").isEmpty ? "is empty" : "\"\(value("registration"))\"") — write 获批/approved or 申报/declared
                    """
                )
            }
            if let attended = flag("attended") {
                row.attended = attended
            } else {
                problems.append("line \(lineNumber), column attended: write 是/yes or 否/no")
            }
            if let passed = flag("passed") {
                row.passed = passed
            } else {
                problems.append("line \(lineNumber), column passed: write 是/yes or 否/no")
            }
            let scores = value("scores")
            if !scores.isEmpty {
                for part in scores.split(whereSeparator: { $0 == ";" || $0 == "；" || $0 == "/" }) {
                    if let tenths = self.tenths(String(part)) {
                        row.componentScoresTenths.append(tenths)
                    } else {
                        problems.append(
                            "line \(lineNumber), column scores: \"\(part)\" is not a score in points with at most one decimal, e.g. 80.5")
                    }
                }
            }
            lines.append(Line(line: lineNumber, row: row))
        }
        guard problems.isEmpty else {
            throw CLIError(
                "\(file) was not sent:\n" + problems.prefix(200).joined(separator: "\n")
                    + (problems.count > 200 ? "\n… and \(problems.count - 200) more" : ""))
        }
        guard !lines.isEmpty else { throw CLIError("\(file) has no candidates after its header") }
        return lines
    }

    /// The chunk's refusal with each `rows[i]` named by its CSV line too, e.g.
    /// `line 14 (rows[12]).school_code`.
    static func naming(lines chunk: [Line], in error: RPCError) -> RPCError {
        CSVTable.naming("rows", lines: chunk.map(\.line), in: error)
    }

    /// `80.5` → 805; nil unless a non-negative number with at most one decimal.
    static func tenths(_ text: String) -> Int32? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int32(parts[0]), whole >= 0, whole <= 100_000 else { return nil }
        guard parts.count == 2 else { return whole * 10 }
        guard parts[1].count == 1, let decimal = Int32(parts[1]) else { return nil }
        return whole * 10 + decimal
    }
}

/// Tenths of a point as points, e.g. 805 → `80.5`.
func pointsText(_ tenths: Int32) -> String {
    Points.text(tenths: Int(tenths))
}

func rosterStateName(_ state: Xcert_Filing_V1_RosterState) -> String {
    switch state {
    case .uploading: "uploading"
    case .sealed: "sealed"
    case .superseded: "superseded"
    default: "unspecified"
    }
}
