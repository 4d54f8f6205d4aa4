import ArgumentParser
import Crypto
import Foundation
import SwiftProtobuf
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// Options shared by the commands that call the filing service.
struct FilingOptions: ServiceOptions {
    @Option(help: "The filing service, host:port.") var filing: String = "127.0.0.1:7102"
    @OptionGroup var credentials: Credentials
    @Option(help: "The call's deadline in milliseconds.") var timeoutMs: Int = 30_000

    var address: String { self.filing }
}

/// `xctl filing …`: filing rounds, organizations' filings of their work plans, the
/// province's review, the approved certificates.
struct Filing: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Filing rounds, organizations' work-plan filings and their review, the approved certificates and their feed.",
        subcommands: [
            RoundCommand.self, Submit.self, Show.self, List.self, Withdraw.self, Review.self, Approved.self, Changes.self,
            ReportCommand.self, RosterCommand.self, Periodic.self,
        ]
    )

    // MARK: - Rounds

    struct RoundCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "round", abstract: "Filing rounds (province admins open and close them).",
            subcommands: [Open.self, List.self, Close.self])

        struct Open: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Open a filing round; it takes filings until 23:59:59 Asia/Shanghai of its last day.")
            @Option(help: "The pilot year.") var year: Int32
            @Option(help: "The round's number in its year (1, 2, …).") var number: Int32
            @Option(help: "The last day, YYYY-MM-DD (Asia/Shanghai).") var closes: String
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_OpenRoundRequest()
                request.year = self.year
                request.number = self.number
                request.closes = try wireDate(self.closes, option: "--closes")
                let round = try await self.options.call(
                    Xcert_Filing_V1_FilingService.Method.openRound, request, idempotencyKey: self.change.idempotencyKey)
                print("opened round \(round.number) of \(round.year): open until \(round.closingInstant)")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Filing rounds, oldest first.")
            @Option(help: "Only this year's.") var year: Int32 = 0
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_ListRoundsRequest()
                request.year = self.year
                let response = try await self.options.call(Xcert_Filing_V1_FilingService.Method.listRounds, request)
                emit(
                    ["year", "number", "closes", "closing_instant", "open", "closed_early"],
                    response.rounds.map {
                        [
                            "\($0.year)", "\($0.number)", dateText($0.closes), $0.closingInstant, $0.open ? "yes" : "no",
                            $0.hasClosedAt ? shanghaiTime($0.closedAt) : "",
                        ]
                    },
                    format: self.format
                )
            }
        }

        struct Close: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Close a round before its last day; it takes no more filings.")
            @Option(help: "The pilot year.") var year: Int32
            @Option(help: "The round's number.") var number: Int32
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_CloseRoundRequest()
                request.year = self.year
                request.number = self.number
                let round = try await self.options.call(
                    Xcert_Filing_V1_FilingService.Method.closeRound, request, idempotencyKey: self.change.idempotencyKey)
                print("closed round \(round.number) of \(round.year)" + (round.hasClosedAt ? " at \(shanghaiTime(round.closedAt))" : ""))
            }
        }
    }

    // MARK: - Filings

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An organization files its pilot work plan for a certificate it owns; prints the filing as JSON.",
            discussion: """
                The work plan comes from --json FILE (a WorkPlan in protobuf JSON, proto field names) or from
                the flags. Each --attachment is read here: its name, size and SHA-256 are filed.
                Example: xctl filing submit --certificate AUTO --year 2020 --round 1 --school-level 高职 \\
                  --specialty 汽车检测与维修技术 --site-arrangement … --teacher-requirements … \\
                  --teaching-conditions … --exam-arrangement … --fee 初级:38000:成本测算 --attachment 方案.pdf
                """
        )
        @Option(help: "The certificate's code.") var certificate: String
        @Option(help: "The pilot year.") var year: Int32
        @Option(help: "The filing round's number.") var round: Int32
        @Option(help: "A file with the WorkPlan as protobuf JSON (instead of the plan's flags).") var json: String?
        @Option(
            name: .customLong("school-level"),
            help: "中职/secondary, 高职/higher-vocational or 本科/undergraduate (repeatable, or comma-separated).") var schoolLevels: [String] =
                []
        @Option(name: .customLong("specialty"), help: "A specialty (or category) it fits (repeatable).") var specialties: [String] = []
        @Option(help: "How assessment sites are set up and managed.") var siteArrangement: String?
        @Option(help: "The requirements on pilot schools' teachers.") var teacherRequirements: String?
        @Option(help: "The teaching conditions pilot schools need.") var teachingConditions: String?
        @Option(help: "How the exam is carried out.") var examArrangement: String?
        @Option(name: .customLong("fee"), help: "LEVEL:FEN:COST-BASIS, e.g. 初级:38000:场地与考评员成本 (repeatable; one per level).") var fees:
            [String] = []
        @Option(name: .customLong("attachment"), help: "A file to record by name, size and SHA-256 (repeatable).") var attachments:
            [String] = []
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: FilingOptions

        func run() async throws {
            var request = Xcert_Filing_V1_SubmitFilingRequest()
            request.certificateCode = self.certificate
            request.year = self.year
            request.roundNumber = self.round
            request.plan = try self.plan()
            try emit(
                try await self.options.call(
                    Xcert_Filing_V1_FilingService.Method.submitFiling, request, idempotencyKey: self.change.idempotencyKey))
        }

        private func plan() throws -> Xcert_Filing_V1_WorkPlan {
            let flagged =
                !self.schoolLevels.isEmpty || !self.specialties.isEmpty || !self.fees.isEmpty || !self.attachments.isEmpty
                || [self.siteArrangement, self.teacherRequirements, self.teachingConditions, self.examArrangement].contains { $0 != nil }
            if let file = self.json {
                guard !flagged else { throw ValidationError("give the work plan either as --json or as flags, not both") }
                return try readJSON(file, as: Xcert_Filing_V1_WorkPlan.self)
            }
            // Missing elements are left empty: the service names each one to fix.
            var plan = Xcert_Filing_V1_WorkPlan()
            plan.schoolLevels = try self.schoolLevels.flatMap { $0.split(separator: ",") }.map { try wireSchoolLevel(String($0)) }
            plan.specialtyScope = self.specialties
            plan.siteArrangement = self.siteArrangement ?? ""
            plan.teacherRequirements = self.teacherRequirements ?? ""
            plan.teachingConditions = self.teachingConditions ?? ""
            plan.examArrangement = self.examArrangement ?? ""
            plan.fees = try self.fees.map(levelFee)
            plan.attachments = try self.attachments.map(attachment)
            return plan
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One filing version with its work plan and review, as JSON.")
        @Argument(help: "The filing's id.") var id: Int64
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_GetFilingRequest()
            request.id = self.id
            try emit(try await self.options.call(Xcert_Filing_V1_FilingService.Method.getFiling, request))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Filings the caller may see (an organization: its own), every page.")
        @Option(help: "Only this organization's (province admins).") var organization: Int64 = 0
        @Option(help: "Only this certificate's.") var certificate: String = ""
        @Option(help: "Only this year's.") var year: Int32 = 0
        @Option(help: "submitted, approved, rejected or withdrawn.") var state: String?
        @Flag(help: "Every version, not only each filing's latest.") var allVersions = false
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: FilingOptions

        func run() async throws {
            let state = try self.state.map { name -> Xcert_Filing_V1_FilingState in
                guard let state = filingStates.first(where: { filingStateName($0) == name }) else {
                    throw ValidationError("--state must be one of \(filingStates.map(filingStateName).joined(separator: ", "))")
                }
                return state
            }
            let filings = try await allPages { token in
                var request = Xcert_Filing_V1_ListFilingsRequest()
                request.organizationID = self.organization
                request.certificateCode = self.certificate
                request.year = self.year
                request.state = state ?? .unspecified
                request.allVersions = self.allVersions
                request.page.pageToken = token
                let page = try await self.options.call(Xcert_Filing_V1_FilingService.Method.listFilings, request)
                return (page.filings, page.page.nextPageToken)
            }
            emit(
                ["id", "organization", "certificate", "year", "round", "version", "state", "fees", "submitted", "reason"],
                filings.map {
                    [
                        "\($0.id)", "\($0.organizationID)", $0.certificateCode, "\($0.year)", "\($0.roundNumber)", "\($0.version)",
                        filingStateName($0.state),
                        feeText($0.plan.fees), shanghaiTime($0.submittedAt),
                        $0.state == .withdrawn ? $0.withdrawalReason : $0.review.reason,
                    ]
                },
                format: self.format
            )
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An organization withdraws its filing awaiting review; it stays on record.")
        @Argument(help: "The filing's id.") var id: Int64
        @Option(help: "Why (required).") var reason: String
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_WithdrawFilingRequest()
            request.id = self.id
            request.reason = self.reason
            let filing = try await self.options.call(
                Xcert_Filing_V1_FilingService.Method.withdrawFiling, request, idempotencyKey: self.change.idempotencyKey)
            print(
                """
                filing \(filing.id) (\(filing.certificateCode) \(filing.year), version \(filing.version)): \(filingStateName(filing.state))
                """
            )
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The province approves (within the fee ceilings) or rejects a submitted filing.")
        @Argument(help: "The filing's id.") var id: Int64
        @Flag(exclusivity: .exclusive, help: "The decision.") var decision: Decision
        @Option(help: "Why (required to reject).") var reason: String = ""
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: FilingOptions

        enum Decision: String, EnumerableFlag { case approve, reject }

        func run() async throws {
            var request = Xcert_Filing_V1_ReviewFilingRequest()
            request.id = self.id
            request.approve = self.decision == .approve
            request.reason = self.reason
            let filing = try await self.options.call(
                Xcert_Filing_V1_FilingService.Method.reviewFiling, request, idempotencyKey: self.change.idempotencyKey)
            print(
                """
                filing \(filing.id) (\(filing.certificateCode) \(filing.year), version \(filing.version)): \(filingStateName(filing.state))
                """
            )
        }
    }

    // MARK: - Approvals

    struct Approved: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The approved list of a year (备案通过名单), per round, with the fees.")
        @Option(help: "The pilot year.") var year: Int32
        @Option(help: "Only this round (0: every round).") var round: Int32 = 0
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_ListApprovedCertificatesRequest()
            request.year = self.year
            request.roundNumber = self.round
            let response = try await self.options.call(Xcert_Filing_V1_ApprovalService.Method.listApprovedCertificates, request)
            emit(
                ["certificate", "organization", "year", "round", "filing", "version", "fees", "approved"],
                response.certificates.map { approvalRow($0) },
                format: self.format
            )
        }
    }

    struct Changes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The approval change feed after a cursor, oldest first (services and province admins).")
        @Option(help: "The cursor to read after (0: from the beginning).") var after: Int64 = 0
        @Option(help: "At most this many (up to 1000).") var limit: Int32 = 100
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_ListApprovalChangesRequest()
            request.after = self.after
            request.limit = self.limit
            let response = try await self.options.call(Xcert_Filing_V1_ApprovalService.Method.listApprovalChanges, request)
            emit(
                ["cursor", "certificate", "organization", "year", "round", "filing", "version", "fees", "approved"],
                response.changes.map { ["\($0.cursor)"] + approvalRow($0.approval) },
                format: self.format
            )
            FileHandle.standardError.write(Data("next cursor: \(response.nextCursor)\n".utf8))
        }
    }
}

private let filingStates: [Xcert_Filing_V1_FilingState] = [.submitted, .approved, .rejected, .withdrawn]

private func filingStateName(_ state: Xcert_Filing_V1_FilingState) -> String {
    switch state {
    case .submitted: "submitted"
    case .approved: "approved"
    case .rejected: "rejected"
    case .withdrawn: "withdrawn"
    default: "unspecified"
    }
}

private func approvalRow(_ approval: Xcert_Filing_V1_ApprovedCertificate) -> [String] {
    [
        approval.certificateCode, "\(approval.organizationID)", "\(approval.year)", "\(approval.roundNumber)", "\(approval.filingID)",
        "\(approval.filingVersion)", feeText(approval.fees), shanghaiTime(approval.approvedAt),
    ]
}

/// Fees in yuan by level, e.g. `初级 380.00; 中级 480.00`.
private func feeText(_ fees: [Xcert_Filing_V1_LevelFee]) -> String {
    fees.map { "\(CertificateLevel(wire: $0.level)?.chineseName ?? "?") \(Money(fen: $0.fee.fen))" }.joined(separator: "; ")
}

/// `YYYY-MM-DD` as a wire date; a date that does not exist is refused here.
func wireDate(_ text: String, option: String) throws -> Xcert_Common_V1_Date {
    guard let date = LocalDate(iso: text) else {
        throw ValidationError("\(option) takes a real date, YYYY-MM-DD; not \(text)")
    }
    return date.wire
}

/// `YYYY-MM-DD HH:MM[:SS]` in Asia/Shanghai as seconds since the Unix epoch.
func provinceInstant(_ text: String, option: String) throws -> Int64 {
    let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    let time = parts.count == 2 ? parts[1].split(separator: ":").map { Int($0) } : []
    guard parts.count == 2, let day = LocalDate(iso: parts[0]), (2...3).contains(time.count), let hour = time[0], let minute = time[1],
        let second = time.count == 3 ? time[2] : 0, (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
    else { throw ValidationError("\(option) takes \"YYYY-MM-DD HH:MM\" (Asia/Shanghai); not \(text)") }
    return day.endInstant - 86_400 + Int64(hour * 3600 + minute * 60 + second)
}

private func wireSchoolLevel(_ name: String) throws -> Xcert_Filing_V1_SchoolLevel {
    switch name.trimmingCharacters(in: .whitespaces).lowercased() {
    case "中职", "secondary": .secondary
    case "高职", "higher-vocational", "higher_vocational": .higherVocational
    case "本科", "undergraduate": .undergraduate
    default: throw ValidationError("a school level is 中职/secondary, 高职/higher-vocational or 本科/undergraduate; not \(name)")
    }
}

/// `LEVEL:FEN:COST-BASIS`; the cost basis may itself hold colons.
private func levelFee(_ text: String) throws -> Xcert_Filing_V1_LevelFee {
    let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 3, let fen = Int64(parts[1]) else {
        throw ValidationError("--fee takes LEVEL:FEN:COST-BASIS, e.g. 初级:38000:场地与考评员成本; not \(text)")
    }
    var fee = Xcert_Filing_V1_LevelFee()
    fee.level = try wireLevels([parts[0]]).first ?? .unspecified
    fee.fee.fen = fen
    fee.costBasis = parts[2]
    return fee
}

/// A file recorded by its name, size and SHA-256 (64 lowercase hex digits): a filing's
/// attachment, a school's work plan.
func attachment(_ path: String) throws -> Xcert_Filing_V1_Attachment {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the attachment \(path)") }
    var attachment = Xcert_Filing_V1_Attachment()
    attachment.name = URL(fileURLWithPath: path).lastPathComponent
    attachment.sizeBytes = Int64(data.count)
    attachment.sha256 = SHA256.hash(data: data).lowercaseHex
    return attachment
}
