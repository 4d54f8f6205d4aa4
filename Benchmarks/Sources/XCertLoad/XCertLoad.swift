import ArgumentParser
import BenchSupport
import Foundation
import Histogram
import Synchronization
import XCertAPI
import XCertDomain
import XCertProto
import XCertWire

/// `xcert-load`: the load generators of scenarios B2–B5, each a separate process from the
/// services it loads. Every command prints what it measured as BenchSupport's `CELL {json}`
/// line for scripts/bench.
@main
struct XCertLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xcert-load",
        abstract: "Load generators for the service scenarios of scripts/bench (B2–B5) and scripts/soak.",
        subcommands: [Setup.self, Filings.self, Schools.self, Roster.self, Rebuild.self, Soak.self]
    )
}

/// Where a load generator sends and as whom.
struct Target: ParsableArguments, Sendable {
    @Option(help: "The service, host:port.") var address: String
    @Option(help: "The caller's bearer token.") var token: String

    func client(timeout: Duration = .seconds(60)) throws -> RPCClient {
        try loadClient(self.address, timeout: timeout)
    }

    func metadata(idempotencyKey: String? = nil) -> [String: String] {
        var metadata = ["authorization": "Bearer \(self.token)"]
        if let idempotencyKey { metadata["idempotency-key"] = idempotencyKey }
        return metadata
    }
}

/// A client of the service at `address` (host:port).
func loadClient(_ address: String, timeout: Duration = .seconds(60)) throws -> RPCClient {
    guard var configuration = RPCClientConfiguration(address: address) else { throw ValidationError("\(address) is not host:port") }
    configuration.defaultTimeout = timeout
    return RPCClient(configuration: configuration)
}

/// Latencies (nanoseconds) and counts of one measured run.
final class Measurement: Sendable {
    let latencies = Mutex(makeLatencyHistogram())
    let completed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let firstError = Mutex<String?>(nil)
    /// The next call's number, shared by the loops.
    let next = Atomic<Int>(0)
    /// This process's and the server's CPU when the warm-up ended.
    let samples = Mutex<(client: ProcessSample?, server: ProcessSample?)>((nil, nil))

    func record(since start: UInt64) {
        let elapsed = monotonicNanoseconds() &- start
        self.latencies.withLock { _ = $0.record(max(1_000, elapsed)) }
        self.completed.add(1, ordering: .relaxed)
    }

    func fail(_ error: any Error) {
        self.failed.add(1, ordering: .relaxed)
        self.firstError.withLock { if $0 == nil { $0 = "\(error)" } }
    }

    /// Prints the cell (one human line, one `CELL {json}` line) for scripts/bench.
    func report(
        target: String, connections: Int, inFlight: Int, seconds: Double,
        client: (ProcessSample, ProcessSample)?, server: (ProcessSample, ProcessSample)?, serverPID: String?, note: String,
        completed: Int? = nil
    ) {
        if let error = self.firstError.withLock({ $0 }) { writeLine("\(target): first error: \(error)") }
        CellReport(
            target: target, connections: connections, inFlight: inFlight, seconds: seconds,
            completed: completed ?? self.completed.load(ordering: .relaxed), failed: self.failed.load(ordering: .relaxed),
            latencies: self.latencies.withLock { $0 }, client: client, server: server, serverPID: serverPID, note: note
        ).print()
    }
}

/// What the closed-loop generators take: how many clients, for how long, and the server to sample.
struct LoopOptions: ParsableArguments, Sendable {
    @Option(help: "Concurrent clients, one connection each.") var clients = 16
    @Option(help: "Seconds to measure.") var seconds = 10.0
    @Option(help: "Seconds of warm-up first.") var warmup = 1.0
    @Option(help: "The server's pid, for its CPU and peak RSS.") var serverPID: String?
}

/// Runs one loop per client (`clients[i]` its connection) for the warm-up and `seconds`,
/// and prints the cell.
func closedLoop(
    target: String, clients: [RPCClient], _ options: LoopOptions, note: String,
    _ call: @escaping @Sendable (RPCClient, Int) async throws -> Void
) async throws {
    let measurement = Measurement()
    let warmUpEnds = monotonicNanoseconds() + UInt64(options.warmup * 1e9)
    let ends = warmUpEnds + UInt64(options.seconds * 1e9)
    let serverPID = options.serverPID
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            sleep(until: warmUpEnds)
            measurement.samples.withLock { $0 = (ProcessSample.read(pid: "self"), serverPID.flatMap { ProcessSample.read(pid: $0) }) }
        }
        for client in clients {
            group.addTask {
                while monotonicNanoseconds() < ends {
                    let index = measurement.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    let start = monotonicNanoseconds()
                    do {
                        try await call(client, index)
                        if start >= warmUpEnds, monotonicNanoseconds() < ends { measurement.record(since: start) }
                    } catch {
                        measurement.fail(error)
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    let (clientStart, serverStart) = measurement.samples.withLock { ($0.client, $0.server) }
    let clientEnd = ProcessSample.read(pid: "self")
    let serverEnd = options.serverPID.flatMap { ProcessSample.read(pid: $0) }
    measurement.report(
        target: target, connections: clients.count, inFlight: 1, seconds: options.seconds,
        client: clientStart.flatMap { start in clientEnd.map { (start, $0) } },
        server: serverStart.flatMap { start in serverEnd.map { (start, $0) } },
        serverPID: options.serverPID, note: note
    )
    for client in clients { await client.close() }
}

// MARK: - B2

/// Organizations' filings, each a new one: certificate `BENCH-nnnn` × year, as many as
/// `clients` at once.
struct Filings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "B2: SubmitFiling end to end (token, validation, idempotency key, insert), closed loop.")
    @OptionGroup var target: Target
    @OptionGroup var loop: LoopOptions
    @Option(help: "Certificates BENCH-0001 … owned by the token's organization.") var certificates = 200
    @Option(help: "The first year with an open round 1; years follow.") var firstYear: Int32 = 2019
    @Option(help: "How many years have an open round 1.") var years: Int32 = 82

    func run() async throws {
        let clients = try (0..<self.loop.clients).map { _ in try self.target.client() }
        let plan = Self.plan()
        let (certificates, firstYear, years, target) = (self.certificates, self.firstYear, self.years, self.target)
        try await closedLoop(
            target: "xcert", clients: clients, self.loop, note: "SubmitFiling, each a new filing, one connection per client"
        ) { client, index in
            guard index < certificates * Int(years) else { throw ValidationError("more submissions than certificates × years") }
            _ = try await client.unary(
                Self.method, Self.request(index, certificates: certificates, firstYear: firstYear, plan: plan),
                options: CallOptions(metadata: target.metadata(idempotencyKey: "bench-\(UUID().uuidString)"))
            )
        }
    }

    static let method = Xcert_Filing_V1_FilingService.Method.submitFiling

    /// Submission `index`, a new filing: certificate BENCH-nnnn (`index` mod `certificates`)
    /// for year `firstYear` + `index` / `certificates`, round 1.
    static func request(
        _ index: Int, certificates: Int, firstYear: Int32, plan: Xcert_Filing_V1_WorkPlan
    ) -> Xcert_Filing_V1_SubmitFilingRequest {
        var request = Xcert_Filing_V1_SubmitFilingRequest()
        request.certificateCode = self.certificateCode(index % certificates)
        request.year = firstYear + Int32(index / certificates)
        request.roundNumber = 1
        request.plan = plan
        return request
    }

    /// BENCH-0001 for 0, as `xcert-load setup` names them.
    static func certificateCode(_ index: Int) -> String {
        String(format: "BENCH-%04d", index + 1)
    }

    static func plan() -> Xcert_Filing_V1_WorkPlan {
        var plan = Xcert_Filing_V1_WorkPlan()
        plan.schoolLevels = [.secondary, .higherVocational]
        plan.specialtyScope = ["5102 计算机类"]
        plan.siteArrangement = "每个设区市至少一个考核站点"
        plan.teacherRequirements = "持证培训教师"
        plan.teachingConditions = "实训室"
        plan.examArrangement = "理论机考，实操现场考核"
        plan.fees = [Xcert_Common_V1_CertificateLevel.elementary, .intermediate, .advanced].enumerated().map { index, level in
            var fee = Xcert_Filing_V1_LevelFee()
            fee.level = level
            fee.fee.fen = Int64(20_000 + 10_000 * index)
            fee.costBasis = "考评员、场地、耗材"
            return fee
        }
        return plan
    }
}

// MARK: - B4

/// School look-ups by code, at random from a file of codes.
struct Schools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "B4: GetSchool by code, closed loop.")
    @OptionGroup var target: Target
    @OptionGroup var loop: LoopOptions
    @Option(help: "A file of school codes, one a line.") var codes: String

    func run() async throws {
        let codes = try String(contentsOfFile: self.codes, encoding: .utf8).split(separator: "\n").map(String.init)
        guard !codes.isEmpty else { throw ValidationError("no codes in \(self.codes)") }
        let clients = try (0..<self.loop.clients).map { _ in try self.target.client() }
        let metadata = self.target.metadata()
        try await closedLoop(target: "xcert", clients: clients, self.loop, note: "GetSchool of a random one of \(codes.count) schools") {
            client, index in
            _ = try await client.unary(Self.method, Self.request(index, codes: codes), options: CallOptions(metadata: metadata))
        }
    }

    static let method = Xcert_Registry_V1_ReferenceDataService.Method.getSchool

    /// Look-up `index`: one of `codes`, scattered.
    static func request(_ index: Int, codes: [String]) -> Xcert_Registry_V1_GetSchoolRequest {
        var request = Xcert_Registry_V1_GetSchoolRequest()
        request.code = codes[(index &* 7919) % codes.count]
        return request
    }
}

// MARK: - B3

/// One exam roster of `rows` candidates in chunks, then sealed; optionally the same rows,
/// as the database keeps them, into a CSV file for `psql \copy`.
struct Roster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "B3: one roster uploaded in chunks and sealed; or (--csv-out) the same rows as CSV for the COPY peer.")
    @OptionGroup var target: Target
    @Option(help: "Candidates.") var rows = 1_000_000
    @Option(help: "Rows per chunk.") var chunk = 5_000
    @Option(help: "Chunks in flight at once.") var inFlight = 1
    @Option(help: "The filing service's pid, for its CPU and peak RSS.") var serverPID: String?
    @Option(help: "The certificate (elementary level, the default 40/60 rule).") var certificate: String
    @Option(help: "The site school.") var site: String
    @Option(help: "A file of qualified school codes, one a line.") var schools: String
    @Option(help: "The exam date, YYYY-MM-DD.") var date: String = "2025-06-15"
    @Option(help: "Write the rows as the database keeps them to this CSV file instead of uploading.") var csvOut: String?

    func run() async throws {
        let schools = try String(contentsOfFile: self.schools, encoding: .utf8).split(separator: "\n").map(String.init)
        let rows = self.rows
        if let csvOut = self.csvOut {
            try Self.writeCSV(rows: rows, chunk: self.chunk, schools: schools, to: csvOut)
            return
        }
        let client = try self.target.client(timeout: .seconds(120))
        let parts = self.date.split(separator: "-").compactMap { Int32($0) }
        guard parts.count == 3 else { throw ValidationError("--date must be YYYY-MM-DD") }
        var date = Xcert_Common_V1_Date()
        (date.year, date.month, date.day) = (parts[0], parts[1], parts[2])
        let create = Self.createRequest(certificate: self.certificate, site: self.site, date: date)
        let started = monotonicNanoseconds()
        let clientStart = ProcessSample.read(pid: "self")
        let serverStart = self.serverPID.flatMap { ProcessSample.read(pid: $0) }
        let roster = try await client.unary(
            Self.createMethod, create, options: CallOptions(metadata: self.target.metadata(idempotencyKey: UUID().uuidString)))
        let chunks = (rows + self.chunk - 1) / self.chunk
        let measurement = Measurement()
        let (chunkSize, target) = (self.chunk, self.target)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<self.inFlight {
                group.addTask {
                    while true {
                        let index = measurement.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < chunks else { return }
                        let request = Self.chunkRequest(roster: roster.id, index: index, chunk: chunkSize, rows: rows, schools: schools)
                        let start = monotonicNanoseconds()
                        _ = try await client.unary(
                            Self.chunkMethod, request, options: CallOptions(metadata: target.metadata(idempotencyKey: UUID().uuidString)))
                        measurement.record(since: start)
                    }
                }
            }
            try await group.waitForAll()
        }
        _ = try await client.unary(
            Self.sealMethod, Self.sealRequest(roster: roster.id, rows: rows),
            options: CallOptions(metadata: self.target.metadata(idempotencyKey: UUID().uuidString)))
        let seconds = Double(monotonicNanoseconds() - started) / 1e9
        await client.close()
        writeLine(
            """
            B3 roster: \(rows) rows in \(chunks) chunks, created, uploaded and sealed in \(String(format: "%.2f", seconds)) s = \
            \(Int(Double(rows) / seconds)) rows/s
            """
        )
        measurement.report(
            target: "xcert", connections: 1, inFlight: self.inFlight, seconds: seconds,
            client: clientStart.flatMap { start in ProcessSample.read(pid: "self").map { (start, $0) } },
            server: serverStart.flatMap { start in self.serverPID.flatMap { ProcessSample.read(pid: $0) }.map { (start, $0) } },
            serverPID: self.serverPID, note: "rps: rows a second, from CreateRoster to SealRoster; latencies: per \(self.chunk)-row chunk",
            completed: rows
        )
    }

    static let createMethod = Xcert_Filing_V1_RosterService.Method.createRoster
    static let chunkMethod = Xcert_Filing_V1_RosterService.Method.uploadChunk
    static let sealMethod = Xcert_Filing_V1_RosterService.Method.sealRoster

    /// A first roster of the session (elementary level) of `certificate` at `site` on `date`.
    static func createRequest(certificate: String, site: String, date: Xcert_Common_V1_Date) -> Xcert_Filing_V1_CreateRosterRequest {
        var create = Xcert_Filing_V1_CreateRosterRequest()
        create.session.certificateCode = certificate
        create.session.level = .elementary
        create.session.siteSchoolCode = site
        create.session.examDate = date
        return create
    }

    /// Chunk `index` of a roster of `rows` candidates in chunks of `chunk`: candidates
    /// `index` × `chunk` … (``row(_:schools:)``).
    static func chunkRequest(roster: Int64, index: Int, chunk: Int, rows: Int, schools: [String]) -> Xcert_Filing_V1_UploadChunkRequest {
        var request = Xcert_Filing_V1_UploadChunkRequest()
        request.rosterID = roster
        request.chunkIndex = Int32(index)
        request.rows = (index * chunk..<min(rows, (index + 1) * chunk)).map { Self.row($0, schools: schools) }
        return request
    }

    /// Seals a roster of `rows` candidates.
    static func sealRequest(roster: Int64, rows: Int) -> Xcert_Filing_V1_SealRosterRequest {
        var seal = Xcert_Filing_V1_SealRosterRequest()
        seal.rosterID = roster
        seal.expectedRowCount = Int64(rows)
        return seal
    }

    /// Candidate `n`: approved, most attended, scores by the 40/60 rule.
    static func row(_ n: Int, schools: [String]) -> Xcert_Filing_V1_CandidateRow {
        var row = Xcert_Filing_V1_CandidateRow()
        row.candidateNumber = String(format: "B%09d", n)
        row.name = "考生\(n % 10_000)"
        row.nationalID = nationalID(n)
        row.schoolCode = schools[n % schools.count]
        row.specialty = "510201"
        row.registration = .approved
        row.attended = n % 20 != 0
        if row.attended {
            let theory = Int32(400 + (n * 37) % 600), practical = Int32(400 + (n * 91) % 600)
            row.componentScoresTenths = [theory, practical]
            row.passed = Int(theory) * 40 + Int(practical) * 60 >= 60_000
        }
        return row
    }

    /// A valid 18-character national ID number for person `n` (GB 11643 check character).
    static func nationalID(_ n: Int) -> String {
        NationalID(completing: "360102" + String(20_000_101_000 + n))!.value
    }

    /// The rows as `filing.roster_candidates` keeps them (roster 1), in CSV.
    static func writeCSV(rows: Int, chunk: Int, schools: [String], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot write \(path)")
        }
        var text = ""
        for n in 0..<rows {
            let row = Self.row(n, schools: schools)
            let scores = row.componentScoresTenths
            let total = scores.count == 2 ? (Int(scores[0]) * 40 + Int(scores[1]) * 60) / 100 : 0
            // The keyed hash and the holder's digest are 32 bytes, the salt 16, the sealed ID
            // (format, key id, nonce, 18 bytes, tag) 51: any bytes of those lengths cost COPY the same.
            let hmac = String(format: "%064x", n)
            let salt = String(format: "%032x", n)
            let sealed = String(repeating: "ab", count: 51)
            text +=
                """
                1,\(n / chunk),\(n % chunk),\(row.candidateNumber),\(row.name),\\\\x\(hmac),\(row.nationalID.suffix(4)),\(row.schoolCode),\
                \(row.specialty),t,\(row.attended ? "t" : "f"),\"{\(scores.map(String.init).joined(separator: ","))}\",\(total),\
                \(row.passed ? "t" : "f"),\(row.nationalID.prefix(4)),\\\\x\(salt),\\\\x\(hmac),\\\\x\(sealed)\n
                """
            if text.utf8.count > 1 << 20 {
                file.write(Data(text.utf8))
                text = ""
            }
        }
        file.write(Data(text.utf8))
        try file.close()
    }
}

// MARK: - B5

/// Assessment forgets its outcomes and follows filing's rosters again from the start;
/// measured until it has counted every roster again and answered the year's results.
struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "B5: RebuildOutcomes, until every roster is counted again and the year's results are answered.")
    @OptionGroup var target: Target
    @Option(help: "The year whose results are read at the end.") var year: Int32 = 2025
    @Option(help: "The assessment service's pid, for its CPU and peak RSS.") var serverPID: String?

    func run() async throws {
        let client = try self.target.client(timeout: .seconds(300))
        let metadata = self.target.metadata()
        let before = try await client.unary(
            Xcert_Assessment_V1_OutcomeService.Method.getFollowing, Xcert_Assessment_V1_GetFollowingRequest(),
            options: CallOptions(metadata: metadata))
        let started = monotonicNanoseconds()
        let serverStart = self.serverPID.flatMap { ProcessSample.read(pid: $0) }
        _ = try await client.unary(
            Xcert_Assessment_V1_OutcomeService.Method.rebuildOutcomes, Xcert_Assessment_V1_RebuildOutcomesRequest(),
            options: CallOptions(metadata: self.target.metadata(idempotencyKey: UUID().uuidString)))
        while true {
            let now = try await client.unary(
                Xcert_Assessment_V1_OutcomeService.Method.getFollowing, Xcert_Assessment_V1_GetFollowingRequest(),
                options: CallOptions(metadata: metadata))
            if now.rosterCursor >= before.rosterCursor, now.rostersCounted >= before.rostersCounted { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        var results = Xcert_Assessment_V1_ListResultsRequest()
        results.year = self.year
        _ = try await client.unary(Xcert_Assessment_V1_ResultService.Method.listResults, results, options: CallOptions(metadata: metadata))
        var table = Xcert_Assessment_V1_GetDeclarationTableRequest()
        table.year = self.year
        let declarations = try await client.unary(
            Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, table, options: CallOptions(metadata: metadata))
        let measurement = Measurement()
        measurement.record(since: started)
        let seconds = Double(monotonicNanoseconds() - started) / 1e9
        await client.close()
        writeLine(
            """
            B5 rebuild: \(before.rostersCounted) rosters counted again (\(declarations.total.declared) candidates declared) and the year's \
            results answered in \(String(format: "%.3f", seconds)) s
            """
        )
        measurement.report(
            target: "xcert", connections: 1, inFlight: 1, seconds: seconds, client: nil,
            server: serverStart.flatMap { start in self.serverPID.flatMap { ProcessSample.read(pid: $0) }.map { (start, $0) } },
            serverPID: self.serverPID,
            note: "rps: rebuilds a second (1 / seconds) of \(declarations.total.declared) candidates in \(before.rostersCounted) rosters"
        )
    }
}

// MARK: - The world the scenarios load

/// Makes, through the services' methods as a province admin, what B2–B5 need: an
/// organization with certificates BENCH-0001 … and ROSTER-BENCH, open rounds for years
/// 2019–2100, schools, ROSTER-BENCH filed and approved for 2025 with qualified schools and
/// a site. Writes the organization's token and the school codes into `--out`.
struct Setup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make the benchmark world through the services (as a province admin).")
    @Option(help: "The registry, host:port.") var registry: String
    @Option(help: "The filing service, host:port.") var filing: String
    @Option(help: "The settlement service, host:port.") var settlement: String
    @Option(help: "A province admin's token.") var token: String
    @Option(help: "Certificates BENCH-0001 … for B2.") var certificates = 200
    @Option(help: "Schools for B4.") var schools = 2_000
    @Option(help: "Schools qualified for ROSTER-BENCH in 2025 (B3).") var qualified = 200
    @Option(help: "The folder to write organization.token, schools.txt and qualified.txt into.") var out: String

    func run() async throws {
        let registry = try loadClient(self.registry)
        let filing = try loadClient(self.filing)
        let settlement = try loadClient(self.settlement)
        let admin = ["authorization": "Bearer \(self.token)"]
        @Sendable func change(_ metadata: [String: String] = admin) -> [String: String] {
            metadata.merging(["idempotency-key": UUID().uuidString]) { $1 }
        }

        var province = Xcert_Registry_V1_SetProvinceRequest()
        province.province.code = "36"
        province.province.name = "江西省"
        _ = try await registry.unary(
            Xcert_Registry_V1_ReferenceDataService.Method.setProvince, province, options: CallOptions(metadata: change()))
        let cities = [("360100", "南昌市"), ("360400", "九江市"), ("360700", "赣州市")]
        for (code, name) in cities {
            var city = Xcert_Registry_V1_CreateCityRequest()
            city.city.code = code
            city.city.name = name
            _ = try await registry.unary(
                Xcert_Registry_V1_ReferenceDataService.Method.createCity, city, options: CallOptions(metadata: change()))
        }
        var organization = Xcert_Registry_V1_CreateOrganizationRequest()
        organization.organization.name = "基准测试评价组织"
        let organizationID = try await registry.unary(
            Xcert_Registry_V1_ReferenceDataService.Method.createOrganization, organization, options: CallOptions(metadata: change())
        ).id
        let codes = (1...self.certificates).map { String(format: "BENCH-%04d", $0) } + ["ROSTER-BENCH"]
        try await inParallel(codes) { code in
            var certificate = Xcert_Registry_V1_CreateCertificateRequest()
            certificate.certificate.code = code
            certificate.certificate.name = "基准证书\(code)"
            certificate.certificate.levels = [.elementary, .intermediate, .advanced]
            certificate.certificate.organizationID = organizationID
            _ = try await registry.unary(
                Xcert_Registry_V1_ReferenceDataService.Method.createCertificate, certificate, options: CallOptions(metadata: change()))
        }
        let schoolCodes = (0..<self.schools).map { "41" + cities[$0 % 3].0.prefix(4) + String(format: "%04d", $0 / 3 + 1) }
        try await inParallel(schoolCodes) { code in
            var school = Xcert_Registry_V1_CreateSchoolRequest()
            school.school.code = code
            school.school.name = "基准学校\(code)"
            school.school.type = .higherVocational
            school.school.cityCode = String(code.dropFirst(2).prefix(4)) + "00"
            school.school.specialtyCount = 10
            school.school.enrolledStudents = 40_000
            school.school.specialties = ["510201", "510205", "510208"].map { specialtyCode in
                var specialty = Xcert_Registry_V1_Specialty()
                specialty.code = specialtyCode
                specialty.name = "专业\(specialtyCode)"
                return specialty
            }
            _ = try await registry.unary(
                Xcert_Registry_V1_ReferenceDataService.Method.createSchool, school, options: CallOptions(metadata: change()))
            // Each specialty's teaching team qualifies it to pilot (001 §二.3).
            var teams = Xcert_Registry_V1_SetTeachingTeamsRequest()
            teams.schoolCode = school.school.code
            teams.teams = school.school.specialties.map { specialty in
                var team = Xcert_Registry_V1_TeachingTeam()
                team.specialtyCode = specialty.code
                (team.teachers, team.dualQualifiedTeachers, team.industryExperts, team.continuousEnrolmentYears) = (10, 6, 3, 5)
                return team
            }
            _ = try await registry.unary(
                Xcert_Registry_V1_PilotService.Method.setTeachingTeams, teams, options: CallOptions(metadata: change()))
        }
        var principal = Xcert_Registry_V1_CreatePrincipalRequest()
        principal.name = "基准测试评价组织（对接系统）"
        principal.role = .organization
        principal.party = String(organizationID)
        let principalID = try await registry.unary(
            Xcert_Registry_V1_PrincipalService.Method.createPrincipal, principal, options: CallOptions(metadata: change())
        ).id
        var tokenRequest = Xcert_Registry_V1_CreateTokenRequest()
        tokenRequest.principalID = principalID
        tokenRequest.label = "benchmarks"
        let organizationToken = try await registry.unary(
            Xcert_Registry_V1_PrincipalService.Method.createToken, tokenRequest, options: CallOptions(metadata: admin)
        ).token
        let asOrganization = ["authorization": "Bearer \(organizationToken)"]

        try await inParallel(Array(2019...2100)) { year in
            var round = Xcert_Filing_V1_OpenRoundRequest()
            round.year = Int32(year)
            round.number = 1
            round.closes.year = 2100
            round.closes.month = 12
            round.closes.day = 31
            _ = try await filing.unary(Xcert_Filing_V1_FilingService.Method.openRound, round, options: CallOptions(metadata: change()))
        }
        // ROSTER-BENCH, filed and approved for 2025 within its ceilings.
        var ceilings = Xcert_Settlement_V1_SetFeeCeilingsRequest()
        ceilings.ceilings = [Xcert_Common_V1_CertificateLevel.elementary, .intermediate, .advanced].map { level in
            var ceiling = Xcert_Settlement_V1_FeeCeiling()
            ceiling.certificateCode = "ROSTER-BENCH"
            ceiling.level = level
            ceiling.ceiling.fen = 60_000
            return ceiling
        }
        _ = try await settlement.unary(
            Xcert_Settlement_V1_FeeCeilingService.Method.setFeeCeilings, ceilings, options: CallOptions(metadata: change()))
        var submit = Xcert_Filing_V1_SubmitFilingRequest()
        submit.certificateCode = "ROSTER-BENCH"
        submit.year = 2025
        submit.roundNumber = 1
        submit.plan = Filings.plan()
        let filed = try await filing.unary(
            Xcert_Filing_V1_FilingService.Method.submitFiling, submit, options: CallOptions(metadata: change(asOrganization)))
        var review = Xcert_Filing_V1_ReviewFilingRequest()
        review.id = filed.id
        review.approve = true
        _ = try await filing.unary(Xcert_Filing_V1_FilingService.Method.reviewFiling, review, options: CallOptions(metadata: change()))
        // Schools apply inside an application window: one open for 2025 until the end of 2100.
        var window = Xcert_Registry_V1_SetApplicationWindowRequest()
        window.year = 2025
        window.number = 1
        (window.opens.year, window.opens.month, window.opens.day) = (2019, 1, 1)
        (window.closes.year, window.closes.month, window.closes.day) = (2100, 12, 31)
        _ = try await registry.unary(
            Xcert_Registry_V1_PilotService.Method.setApplicationWindow, window, options: CallOptions(metadata: change()))
        let qualified = Array(schoolCodes.prefix(self.qualified))
        try await inParallel(qualified) { code in
            var apply = Xcert_Registry_V1_SubmitApplicationRequest()
            apply.schoolCode = code
            apply.certificateCode = "ROSTER-BENCH"
            apply.year = 2025
            apply.levels = [.elementary]
            apply.specialtyCodes = ["510201"]
            apply.studentScale = 12_000
            apply.workPlan.name = "\(code)-ROSTER-BENCH-实施方案.pdf"
            apply.workPlan.sizeBytes = 200_000
            apply.workPlan.sha256 = String(repeating: "0", count: 64)
            let application = try await registry.unary(
                Xcert_Registry_V1_PilotService.Method.submitApplication, apply, options: CallOptions(metadata: change()))
            var decision = Xcert_Registry_V1_ReviewApplicationRequest()
            decision.applicationID = application.id
            decision.approve = true
            _ = try await registry.unary(
                Xcert_Registry_V1_PilotService.Method.reviewApplication, decision, options: CallOptions(metadata: change()))
        }
        var site = Xcert_Registry_V1_RegisterSiteRequest()
        site.schoolCode = qualified[0]
        site.certificateCode = "ROSTER-BENCH"
        site.levels = [.elementary]
        site.capacity = 10_000
        site.yearOpened = 2025
        _ = try await registry.unary(
            Xcert_Registry_V1_SiteService.Method.registerSite, site, options: CallOptions(metadata: change(asOrganization)))

        try FileManager.default.createDirectory(atPath: self.out, withIntermediateDirectories: true)
        try (organizationToken + "\n").write(toFile: self.out + "/organization.token", atomically: true, encoding: .utf8)
        try (schoolCodes.joined(separator: "\n") + "\n").write(toFile: self.out + "/schools.txt", atomically: true, encoding: .utf8)
        try (qualified.joined(separator: "\n") + "\n").write(toFile: self.out + "/qualified.txt", atomically: true, encoding: .utf8)
        for client in [registry, filing, settlement] { await client.close() }
        print(
            """
            set up: organization \(organizationID) with \(codes.count) certificates, \(schoolCodes.count) schools (\(qualified.count) \
            qualified for ROSTER-BENCH in 2025), rounds 2019–2100
            """
        )
    }
}

/// Runs `body` for every element, 16 at once.
func inParallel<Element: Sendable>(_ elements: [Element], _ body: @escaping @Sendable (Element) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var iterator = elements.makeIterator()
        for _ in 0..<16 {
            guard let element = iterator.next() else { break }
            group.addTask { try await body(element) }
        }
        while try await group.next() != nil {
            if let element = iterator.next() { group.addTask { try await body(element) } }
        }
    }
}
