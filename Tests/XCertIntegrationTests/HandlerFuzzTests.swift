import Foundation
import Synchronization
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire
import XCertWireFuzzing

/// How a handler fuzzing run goes, from the environment (`scripts/fuzz --handlers` sets it):
///
/// - `XCERT_HANDLER_FUZZ_SEED`: the seed (default 1); a call's request follows from the
///   seed and its index alone;
/// - `XCERT_HANDLER_FUZZ_CALLS`: how many calls (default: two rounds, so at least two for
///   every method of every service as every caller, eight as each caller it allows; about
///   3,100 calls, some 25 s on 2 cores);
/// - `XCERT_HANDLER_FUZZ_SECONDS`: instead, call for that long;
/// - `XCERT_HANDLER_FUZZ_INDEX`: only these calls, e.g. `17,242` (to replay a finding);
/// - `XCERT_HANDLER_FUZZ_CONCURRENCY`: calls in flight at once (default 4);
/// - `XCERT_HANDLER_FUZZ_WORLD`: `demo` (default) or `bare`, see ``World``;
/// - `XCERT_HANDLER_FUZZ_VERBOSE=1`: the answers of each method by status code, too;
/// - `XCERT_HANDLER_FUZZ_METHODS`: only the methods whose name contains this, e.g.
///   `ReferenceDataService/Import` (to dwell on one).
struct HandlerFuzzSettings: Sendable {
    var seed: UInt64 = 1
    var calls: Int?
    var seconds: Int?
    var indices: [UInt64]?
    var concurrency = 4
    var world = World.demo
    var verbose = false
    var methods: String?

    /// What the services hold before the fuzzing: a small pilot year (default), or only a
    /// city, an organization, a certificate and a school (`XCERT_HANDLER_FUZZ_WORLD=bare`).
    enum World: String, Sendable {
        case demo, bare
    }

    static let current = HandlerFuzzSettings(ProcessInfo.processInfo.environment)

    init(_ environment: [String: String]) {
        func number(_ name: String) -> UInt64? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        }
        self.seed = number("XCERT_HANDLER_FUZZ_SEED") ?? 1
        self.calls = number("XCERT_HANDLER_FUZZ_CALLS").map { Int(clamping: $0) }
        self.seconds = number("XCERT_HANDLER_FUZZ_SECONDS").map { Int(clamping: $0) }
        self.indices = environment["XCERT_HANDLER_FUZZ_INDEX"].map {
            $0.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        }
        self.concurrency = max(1, number("XCERT_HANDLER_FUZZ_CONCURRENCY").map { Int(clamping: $0) } ?? 4)
        self.world = environment["XCERT_HANDLER_FUZZ_WORLD"].flatMap(World.init(rawValue:)) ?? .demo
        self.verbose = environment["XCERT_HANDLER_FUZZ_VERBOSE"].map { !$0.isEmpty && $0 != "0" } ?? false
        self.methods = environment["XCERT_HANDLER_FUZZ_METHODS"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The test's time limit: the run, the stack's start and stop, and room to spare.
    var timeLimitMinutes: Int {
        if let seconds { return seconds / 60 + 6 }
        if let calls { return calls / 600 + 6 }
        return 8
    }
}

/// Issue 17, item 5: the four real services, every method of every service called as every
/// caller (no token, province admin, city reviewer, school, organization, service) with
/// requests of extreme values (``RequestGenerator``), over real TCP. A call fails the test
/// when it is answered INTERNAL or UNKNOWN, when its answer's frame is over 4 MiB, when
/// the answer comes later than the deadline and 2 s, or when none comes; and at the end
/// every process must still run and report SERVING.
@Suite(
    "Handler fuzzing: every method of the four services as every caller, with extreme requests",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(HandlerFuzzSettings.current.timeLimitMinutes))
)
struct HandlerFuzzTests {
    /// Who calls: no token, or a principal of each role.
    enum Caller: String, CaseIterable, Sendable {
        case anonymous = "no token"
        case provinceAdmin = "province_admin"
        case cityReviewer = "city_reviewer"
        case school
        case organization
        case service
    }

    /// One method as one process serves it (health and reflection: each of the four).
    struct Target: Sendable {
        let process: String
        let method: String
        let requestType: String
        let contract: MethodContract
    }

    static let deadline: Duration = .seconds(5)
    static let lateness: Duration = .seconds(2)
    static let frameLimit = 4 * 1024 * 1024

    /// Every method of the generated API by the process that serves it.
    static let served: [(process: String, methods: [String])] = [
        (
            "registry",
            Xcert_Registry_V1_ReferenceDataService.Method.all + Xcert_Registry_V1_PrincipalService.Method.all
                + Xcert_Registry_V1_PilotService.Method.all + Xcert_Registry_V1_SiteService.Method.all
                + Xcert_Registry_V1_AllianceService.Method.all + Xcert_Registry_V1_OversightService.Method.all
                + Xcert_Registry_V1_TeacherTrainingService.Method.all
        ),
        (
            "filing",
            Xcert_Filing_V1_FilingService.Method.all + Xcert_Filing_V1_ApprovalService.Method.all
                + Xcert_Filing_V1_RosterService.Method.all + Xcert_Filing_V1_ReportService.Method.all
                + Xcert_Filing_V1_PeriodicReportService.Method.all + Xcert_Filing_V1_ResultNoticeService.Method.all
                + Xcert_Filing_V1_CertificateService.Method.all + Xcert_Filing_V1_CreditBankService.Method.all
        ),
        (
            "assessment",
            Xcert_Assessment_V1_EvaluationService.Method.all + Xcert_Assessment_V1_OutcomeService.Method.all
                + Xcert_Assessment_V1_ResultService.Method.all + Xcert_Assessment_V1_SchemeService.Method.all
        ),
        (
            "settlement",
            Xcert_Settlement_V1_FeeCeilingService.Method.all + Xcert_Settlement_V1_LedgerService.Method.all
                + Xcert_Settlement_V1_SettlementReportService.Method.all + Xcert_Settlement_V1_SubsidyService.Method.all
        ),
    ]
    /// What every process serves.
    static let servedEverywhere = Xcert_Health_V1_Health.Method.all + Xcert_Reflection_V1_Reflection.Method.all

    static func targets() throws -> [Target] {
        let declarations = Dictionary(uniqueKeysWithValues: EveryMethod.declarations.map { ($0.name, $0) })
        let listed = Set(Self.served.flatMap(\.methods) + Self.servedEverywhere)
        let missing = Set(declarations.keys).subtracting(listed)
        try #require(
            missing.isEmpty, "rpcs of proto/ this test does not call (add their service to HandlerFuzzTests.served): \(missing.sorted())")
        var targets: [Target] = []
        for (process, methods) in Self.served {
            for method in methods + Self.servedEverywhere {
                let declaration = try #require(declarations[method], "\(method) is not in XCertDescriptorSet")
                let contract = try #require(EveryMethod.contracts[method])
                targets.append(Target(process: process, method: method, requestType: declaration.requestType, contract: contract))
            }
        }
        return targets
    }

    @Test(
        """
        every method as every caller with generated extreme requests: no INTERNAL or UNKNOWN, no answer over 4 MiB or late, no process lost
        """
    )
    func everyMethodAsEveryCaller() async throws {
        let settings = HandlerFuzzSettings.current
        let targets = try Self.targets().filter { target in settings.methods.map { target.method.contains($0) } ?? true }
        try #require(!targets.isEmpty, "no method's name contains \(settings.methods ?? "")")
        // No rate limit: the fuzzer calls as fast as the services answer.
        let unlimited = [
            "XCERT_LIMIT_READS_PER_SECOND", "XCERT_LIMIT_READ_BURST", "XCERT_LIMIT_WRITES_PER_SECOND",
            "XCERT_LIMIT_WRITE_BURST", "XCERT_LIMIT_UNAUTHENTICATED_PER_SECOND", "XCERT_LIMIT_UNAUTHENTICATED_BURST",
        ].reduce(into: [String: String]()) { $0[$1] = "0" }
        try await withFullStack(environment: unlimited) { stack in
            let processes = [
                "registry": stack.registry, "filing": stack.filing, "assessment": stack.assessment, "settlement": stack.settlement,
            ]
            let (tokens, context) = try await Self.fixtures(stack, world: settings.world)
            let clients = processes.mapValues { process in
                testClient(port: process.port, timeout: Self.deadline, localDeadlineSlack: .seconds(10))
            }
            let run = HandlerFuzzRun(
                settings: settings, targets: targets, tokens: tokens, clients: clients,
                generator: RequestGenerator(context: context)
            )
            try await run.go()
            for client in clients.values { await client.close() }

            if settings.verbose { print("handler fuzz: answers to the callers each method allows:\n\(run.answersByMethod())") }
            print(run.summary())
            // Not failures, but worth a look: each kind once, with the service's log lines.
            var noted: Set<String> = []
            for observation in run.observations() where noted.insert(observation.kind).inserted && noted.count <= 20 {
                let log = processes[observation.process].map { Self.logLines(of: $0, mentioning: observation.requestID) } ?? ""
                print("handler fuzz: noted \(observation.description)\(log.isEmpty ? "" : "\n  service log:\n\(log)")")
            }

            // What it found, each kind once in detail (method, caller, code, message).
            let findings = run.findings()
            var kinds: [String: [HandlerFuzzRun.Finding]] = [:]
            for finding in findings { kinds[finding.kind, default: []].append(finding) }
            for (_, same) in kinds.sorted(by: { $0.value[0].index < $1.value[0].index }).prefix(40) {
                let finding = same[0]
                let log = processes[finding.process].map { Self.logLines(of: $0, mentioning: finding.requestID) } ?? ""
                let others = same.dropFirst().prefix(8).map { "\n    request \($0.index) as \($0.caller): \($0.request)" }.joined()
                Issue.record(
                    Comment(
                        rawValue: "\(finding.description)\n  (\(same.count) such call(s)\(others.isEmpty ? "" : "; also:")\(others))"
                            + (log.isEmpty ? "" : "\n  service log:\n\(log)")))
            }
            if !findings.isEmpty {
                Issue.record(
                    """
                    handler fuzz: \(findings.count) call(s) failed, \(kinds.count) kind(s); seed \(settings.seed) (again: \
                    XCERT_HANDLER_FUZZ_SEED=\(settings.seed) XCERT_HANDLER_FUZZ_INDEX=<index> scripts/test --filter HandlerFuzzTests)
                    """
                )
            }

            // No process lost, each still serving.
            for (name, process) in processes.sorted(by: { $0.key < $1.key }) {
                guard process.isRunning else {
                    let tail = process.log.split(separator: "\n").suffix(40).joined(separator: "\n")
                    Issue.record("\(name) (pid \(process.pid)) exited during the run; the end of its log:\n\(tail)")
                    continue
                }
                do {
                    try await process.waitForHealth(.serving, within: .seconds(15))
                } catch {
                    Issue.record("\(name) no longer reports SERVING after the run: \(String(describing: await process.health()))")
                }
            }
        }
    }

    /// What the services hold when the fuzzing starts, and a principal of each role with
    /// its token: in the bare world, a city, an organization, a certificate and a school
    /// made through the registry's API as the province admin; in the demo world, a small
    /// pilot year driven through the four services by `xctl demo` (filings, applications,
    /// qualifications, sites, rosters, results, payments, evaluations), so that realistic
    /// values name things that exist and calls reach the handlers' deeper code.
    static func fixtures(
        _ stack: FullStack, world: HandlerFuzzSettings.World
    ) async throws -> (tokens: [Caller: String], context: RequestGenerator.Context) {
        let client = testClient(port: stack.registry.port)
        defer { Task { await client.close() } }
        let admin = client.authorized(token: stack.admin)
        let reference = Xcert_Registry_V1_ReferenceDataService.Client(admin)
        let principals = Xcert_Registry_V1_PrincipalService.Client(admin)
        func once() -> CallOptions { CallOptions(idempotencyKey: "handler-fuzz-setup-\(UUID().uuidString)") }

        let school: Xcert_Registry_V1_School
        var context = RequestGenerator.Context()
        switch world {
        case .bare:
            var province = Xcert_Registry_V1_SetProvinceRequest()
            province.province.code = "36"
            province.province.name = "江西省"
            _ = try await reference.setProvince(province, options: once())
            var city = Xcert_Registry_V1_CreateCityRequest()
            city.city.code = "360100"
            city.city.name = "南昌市"
            _ = try await reference.createCity(city, options: once())
            var organization = Xcert_Registry_V1_CreateOrganizationRequest()
            organization.organization.name = "廊坊市中科建筑产业化创新研究中心"
            var contact = Xcert_Registry_V1_Contact()
            contact.name = "陈学峰"
            contact.mobile = "13051681116"
            contact.email = "1681116@163.com"
            organization.organization.contacts = [contact]
            let organizationID = try await reference.createOrganization(organization, options: once()).id
            var certificate = Xcert_Registry_V1_CreateCertificateRequest()
            certificate.certificate.code = "BIM"
            certificate.certificate.name = "建筑信息模型（BIM）"
            certificate.certificate.batch = 1
            certificate.certificate.levels = [.elementary, .intermediate, .advanced]
            certificate.certificate.organizationID = organizationID
            _ = try await reference.createCertificate(certificate, options: once())
            var request = Xcert_Registry_V1_CreateSchoolRequest()
            request.school.code = "4136010001"
            request.school.name = "江西职业技术学院"
            request.school.type = .higherVocational
            request.school.cityCode = "360100"
            request.school.specialtyCount = 10
            request.school.enrolledStudents = 10_000
            request.school.specialties = (1...10).map { index in
                var specialty = Xcert_Registry_V1_Specialty()
                specialty.code = String(format: "S%03d", index)
                specialty.name = "专业\(index)"
                return specialty
            }
            school = try await reference.createSchool(request, options: once())
            context = RequestGenerator.Context(
                schoolCodes: [school.code], cityCodes: [school.cityCode], certificateCodes: ["BIM"], organizationIDs: [organizationID]
            )
        case .demo:
            let started = ContinuousClock.now
            try await Self.driveDemo(stack)
            var page = Xcert_Registry_V1_ListSchoolsRequest()
            page.page.pageSize = 100
            let schools = try await reference.listSchools(page).schools
            var certificatesPage = Xcert_Registry_V1_ListCertificatesRequest()
            certificatesPage.page.pageSize = 100
            let certificates = try await reference.listCertificates(certificatesPage).certificates
            var organizationsPage = Xcert_Registry_V1_ListOrganizationsRequest()
            organizationsPage.page.pageSize = 100
            let organizations = try await reference.listOrganizations(organizationsPage).organizations
            school = try #require(schools.first { $0.type == .higherVocational } ?? schools.first, "the demo made no school")
            try #require(!certificates.isEmpty && !organizations.isEmpty, "the demo's reference data has no certificates or organizations")
            context = RequestGenerator.Context(
                schoolCodes: schools.map(\.code), cityCodes: Array(Set(schools.map(\.cityCode))).sorted(),
                certificateCodes: certificates.map(\.code), organizationIDs: organizations.map(\.id), years: [Self.demoYear]
            )
            print(
                "handler fuzz: demo world of \(Self.demoYear) in \(ContinuousClock.now - started): \(schools.count) schools, "
                    + "\(certificates.count) certificates, \(organizations.count) organizations")
        }

        var tokens: [Caller: String] = [.provinceAdmin: stack.admin]
        let organizationID = context.organizationIDs[0]
        let parties: [(Caller, Xcert_Registry_V1_Role, String)] = [
            (.cityReviewer, .cityReviewer, school.cityCode), (.school, .school, school.code),
            (.organization, .organization, String(organizationID)), (.service, .service, "filing"),
        ]
        for (caller, role, party) in parties {
            var request = Xcert_Registry_V1_CreatePrincipalRequest()
            request.name = "handler fuzz \(caller.rawValue)"
            request.role = role
            request.party = party
            let principal = try await principals.createPrincipal(request, options: once())
            var token = Xcert_Registry_V1_CreateTokenRequest()
            token.principalID = principal.id
            token.label = "handler fuzz"
            tokens[caller] = try await principals.createToken(token).token
        }
        // The caller's own party first among the realistic values.
        context.schoolCodes = [school.code] + context.schoolCodes.filter { $0 != school.code }
        context.cityCodes = [school.cityCode] + context.cityCodes.filter { $0 != school.cityCode }

        // The tokens the run needs (the callers', the services' own, the demo's parties'):
        // a generated RevokeToken must not revoke them.
        var kept: Set<Int64> = []
        var page = Xcert_Registry_V1_ListTokensRequest()
        page.includeRevoked = true
        page.page.pageSize = 100
        repeat {
            let listed = try await principals.listTokens(page)
            kept.formUnion(listed.tokens.map(\.id))
            page.page.pageToken = listed.page.nextPageToken
        } while !page.page.pageToken.isEmpty
        try #require(kept.count >= 9, "the services', the admin's and the four callers' tokens: \(kept.sorted())")
        context.avoidedIntegers = ["token_id": kept]
        return (tokens, context)
    }

    static let demoYear: Int32 = 2025

    /// The reference data as `scripts/up` loads it, and a small pilot year (`xctl demo`).
    static func driveDemo(_ stack: FullStack) async throws {
        let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/reference").standardized
            .path
        let registry = ["--registry", "127.0.0.1:\(stack.registry.port)", "--token", stack.admin]
        for arguments in [
            ["registry", "province", "set", "--code", "36", "--name", "江西省"],
            ["registry", "import", "cities", "\(data)/cities-jiangxi.csv"],
            ["registry", "import", "organizations", "\(data)/organizations-first-batch.csv"],
            ["registry", "import", "certificates", "\(data)/certificates-first-batch.csv"],
        ] {
            let result = try await runCommand(xctl, arguments + registry)
            try #require(result.status == 0, "xctl \(arguments.joined(separator: " ")): \(result.output)")
        }
        // The demo's credit bank file goes to a temporary folder, not the repository's .xcert/.
        let creditBankFile = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-fuzz-outcomes-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: creditBankFile) }
        let demo = try await runCommand(
            xctl,
            [
                "demo", "--year", String(Self.demoYear), "--seed", "7", "--schools", "12", "--candidates", "300",
                "--summary-only", "--credit-bank-file", creditBankFile.path, "--token", stack.admin,
            ] + stack.addressOptions)
        try #require(demo.status == 0, "xctl demo: \(demo.output.suffix(4000))")
    }

    /// The log records of `process` that name `requestID`: a record is its first line (a
    /// timestamp) and the lines that follow up to the next (an error's query spans several).
    static func logLines(of process: ServiceProcess, mentioning requestID: String) -> String {
        let lines = process.log.split(separator: "\n", omittingEmptySubsequences: false)
        func startsRecord(_ line: Substring) -> Bool {
            line.count > 10 && line.prefix(4).allSatisfy(\.isNumber) && line.dropFirst(4).first == "-"
        }
        var records: [String] = []
        for (index, line) in lines.enumerated() where line.contains(requestID) && records.count < 5 {
            var first = index
            while first > 0, index - first < 20, !startsRecord(lines[first]) { first -= 1 }
            records.append(lines[first...index].map { "    " + String($0.prefix(1_500)) }.joined(separator: "\n"))
        }
        return records.joined(separator: "\n")
    }
}

/// One fuzzing run: the calls, the answers counted, the findings.
final class HandlerFuzzRun: Sendable {
    struct Finding: Sendable, CustomStringConvertible {
        let index: UInt64
        let seed: UInt64
        let process: String
        let method: String
        let caller: String
        /// What went wrong: `INTERNAL`, `UNKNOWN`, `late`, `oversized`, `no answer`.
        let problem: String
        let message: String
        /// What varies from one such call to the next (how long it took).
        let detail: String
        let request: String
        let requestID: String
        let payloadBytes: Int

        /// Method, caller, problem and the message's start: findings of one kind.
        var kind: String { "\(self.method) \(self.caller) \(self.problem) \(self.message.prefix(80))" }

        var description: String {
            "\(self.problem): \(self.method) (\(self.process)) as \(self.caller), seed \(self.seed), request \(self.index) "
                + "(request-id \(self.requestID), \(self.payloadBytes) bytes): \(self.message)\(self.detail)\n  request: \(self.request)"
        }
    }

    private struct State {
        var calls = 0
        var codes: [String: Int] = [:]
        var targetsCalled: Set<String> = []
        var methodsCalled: Set<String> = []
        var methodsAnsweredOK: Set<String> = []
        var callers: Set<String> = []
        var pairsCalled: [String: Int] = [:]
        /// Of the callers its contract allows: method → code → answers.
        var allowedAnswers: [String: [String: Int]] = [:]
        var findings: [Finding] = []
        /// Answers that fail nothing but deserve a look (UNAVAILABLE, DEADLINE_EXCEEDED, …).
        var observations: [Finding] = []
        var slowest: Duration = .zero
        var largestAnswer = 0
        var bytesSent = 0
    }

    let settings: HandlerFuzzSettings
    let targets: [HandlerFuzzTests.Target]
    let tokens: [HandlerFuzzTests.Caller: String]
    let clients: [String: RPCClient]
    let generator: RequestGenerator
    /// Every (target, caller) in an order of the seed's, those the method's contract
    /// allows (and which therefore reach its decoding and handler) four times, the others
    /// once: call i goes to `order[i % count]`.
    let order: [(target: Int, caller: HandlerFuzzTests.Caller)]
    /// Distinct (target, caller).
    let pairs: Int
    private let state = Mutex(State())
    private let next = Mutex<Int>(0)
    private let started = ContinuousClock.now
    private let finished = Mutex<ContinuousClock.Instant?>(nil)

    init(
        settings: HandlerFuzzSettings, targets: [HandlerFuzzTests.Target], tokens: [HandlerFuzzTests.Caller: String],
        clients: [String: RPCClient], generator: RequestGenerator
    ) {
        self.settings = settings
        self.targets = targets
        self.tokens = tokens
        self.clients = clients
        self.generator = generator
        var random = SplitMix64(seed: settings.seed, stream: .max)
        var order: [(target: Int, caller: HandlerFuzzTests.Caller)] = []
        for target in targets.indices {
            let contract = targets[target].contract
            for caller in HandlerFuzzTests.Caller.allCases {
                let allowed = !contract.isPublic && Self.role(of: caller).map(contract.allows) == true
                order += Array(repeating: (target, caller), count: allowed ? 4 : 1)
            }
        }
        self.pairs = targets.count * HandlerFuzzTests.Caller.allCases.count
        self.order = random.shuffle(order)
    }

    /// Two rounds of ``order`` (at least two calls for every method and caller), unless the
    /// settings say otherwise.
    var plannedCalls: Int { self.settings.calls ?? 2 * self.order.count }

    /// The index of the next call, or nil when the run is over.
    private func nextIndex() -> UInt64? {
        let position = self.next.withLock { next -> Int in
            defer { next += 1 }
            return next
        }
        if let indices = self.settings.indices {
            return position < indices.count ? indices[position] : nil
        }
        if let seconds = self.settings.seconds {
            return ContinuousClock.now - self.started < .seconds(seconds) ? UInt64(position) : nil
        }
        return position < self.plannedCalls ? UInt64(position) : nil
    }

    func go() async throws {
        let mode =
            self.settings.indices.map { "calls \($0.map(String.init).joined(separator: ","))" }
            ?? self.settings.seconds.map { "for \($0) s" } ?? "\(self.plannedCalls) calls"
        print(
            "handler fuzz: seed \(self.settings.seed), \(mode), \(self.settings.concurrency) at once, "
                + "\(self.targets.count) (process, method) × \(HandlerFuzzTests.Caller.allCases.count) callers")
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<self.settings.concurrency {
                group.addTask {
                    while let index = self.nextIndex() {
                        await self.call(index)
                        if index > 0, index % 2_000 == 0 {
                            print("handler fuzz: \(index) calls, \(self.state.withLock { $0.findings.count }) findings so far")
                        }
                    }
                }
            }
        }
        self.finished.withLock { $0 = .now }
    }

    private func call(_ index: UInt64) async {
        let (targetIndex, caller) = self.order[Int(index % UInt64(self.order.count))]
        let target = self.targets[targetIndex]
        let seed = self.settings.seed
        let request = self.generator.request(of: target.requestType, seed: seed, index: index)
        let requestID = "handler-fuzz-\(seed)-\(index)"
        var metadata = ["request-id": requestID]
        if let token = self.tokens[caller] { metadata["authorization"] = "Bearer \(token)" }
        if target.contract.isMutating { metadata["idempotency-key"] = requestID }
        guard let client = self.clients[target.process] else { return }

        func finding(_ problem: String, _ message: String, _ detail: String = "") -> Finding {
            Finding(
                index: index, seed: seed, process: target.process, method: target.method, caller: caller.rawValue,
                problem: problem, message: message, detail: detail, request: request.summary, requestID: requestID,
                payloadBytes: request.payload.count
            )
        }
        let sent = ContinuousClock.now
        var found: [Finding] = []
        var code = "no answer"
        var answerBytes = 0
        do {
            let response = try await client.call(
                target.method, payload: Data(request.payload), metadata: metadata, timeout: HandlerFuzzTests.deadline)
            let took = ContinuousClock.now - sent
            answerBytes = 4 + ((try? response.serializedBytes() as [UInt8])?.count ?? 0)
            let number = response.hasStatus ? response.status.code.rawValue : 0
            code = RPCError.Code(rawValue: number)?.description ?? "code \(number)"
            if number == RPCError.Code.internal.rawValue || number == RPCError.Code.unknown.rawValue
                || RPCError.Code(rawValue: number) == nil
            {
                found.append(finding(code, response.status.message))
            } else if Self.noteworthy.contains(number) {
                let observation = finding(code, response.status.message)
                self.state.withLock { state in
                    if state.observations.count < 500 { state.observations.append(observation) }
                }
            }
            if answerBytes > HandlerFuzzTests.frameLimit {
                found.append(
                    finding("oversized", "an answer frame of \(answerBytes) bytes, over the \(HandlerFuzzTests.frameLimit) of a frame"))
            }
            if took > HandlerFuzzTests.deadline + HandlerFuzzTests.lateness {
                found.append(
                    finding(
                        "late", "answered \(code) past the \(HandlerFuzzTests.deadline) deadline and \(HandlerFuzzTests.lateness)",
                        ": after \(took)"
                    ))
            }
            self.state.withLock { state in
                state.slowest = max(state.slowest, took)
                if code == "OK" { state.methodsAnsweredOK.insert(target.method) }
            }
        } catch {
            // Nothing from the server: the connection broke (a process gone?) or no answer
            // came by the deadline and the client's own 10 s.
            found.append(finding("no answer", "\(error)", " (after \(ContinuousClock.now - sent))"))
        }
        self.state.withLock { state in
            state.calls += 1
            state.codes[code, default: 0] += 1
            state.targetsCalled.insert("\(target.process) \(target.method)")
            state.methodsCalled.insert(target.method)
            state.callers.insert(caller.rawValue)
            state.pairsCalled["\(target.process) \(target.method) \(caller.rawValue)", default: 0] += 1
            if target.contract.isPublic || HandlerFuzzRun.role(of: caller).map(target.contract.allows) == true {
                state.allowedAnswers[target.method, default: [:]][code, default: 0] += 1
            }
            state.findings += found
            state.largestAnswer = max(state.largestAnswer, answerBytes)
            state.bytesSent += request.payload.count
        }
    }

    /// Codes that fail no call but that a healthy stack should seldom answer.
    static let noteworthy: Set<Int> = [
        RPCError.Code.unavailable, .deadlineExceeded, .resourceExhausted, .cancelled, .dataLoss, .unimplemented,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    func observations() -> [Finding] {
        self.state.withLock { $0.observations }.sorted { $0.index < $1.index }
    }

    static func role(of caller: HandlerFuzzTests.Caller) -> Principal.Role? {
        caller == .anonymous ? nil : Principal.Role(rawValue: caller.rawValue)
    }

    /// Each method's answers to the callers it allows, by code.
    func answersByMethod() -> String {
        self.state.withLock { state in
            state.allowedAnswers.sorted { $0.key < $1.key }.map { method, codes in
                "  \(method): " + codes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            }.joined(separator: "\n")
        }
    }

    func findings() -> [Finding] {
        self.state.withLock { $0.findings }.sorted { $0.index < $1.index }
    }

    func summary() -> String {
        let took = (self.finished.withLock { $0 } ?? .now) - self.started
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        return self.state.withLock { state in
            let codes = state.codes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let fewest = state.pairsCalled.values.min() ?? 0
            let rate = String(format: "%.1f", Double(state.calls) / max(seconds, 0.001))
            return "handler fuzz: \(state.calls) calls in \(String(format: "%.1f", seconds)) s "
                + "(\(rate) calls/s, \(state.bytesSent / 1_048_576) MiB sent), "
                + "\(state.methodsCalled.count) methods (\(state.targetsCalled.count) of \(self.targets.count) process × method), "
                + "\(state.callers.count) callers (\(HandlerFuzzTests.Caller.allCases.map(\.rawValue).joined(separator: ", "))), "
                + "every (method, caller) called at least \(fewest) time(s), \(state.pairsCalled.count) of \(self.pairs) pairs; "
                + "methods answered OK at least once: \(state.methodsAnsweredOK.count); "
                + "answers: \(codes); slowest \(state.slowest), largest answer \(state.largestAnswer) bytes; "
                + "findings: \(state.findings.count); seed \(self.settings.seed)"
        }
    }
}
