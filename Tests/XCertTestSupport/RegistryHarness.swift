import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import Synchronization
import XCertAPI
import XCertProto
import XCertStore
import XCertWire

/// The filing service as the registry sees it for rule 2, until the real one exists: it
/// answers `CheckCertificateApproval` from the approvals a test grants, and only to the
/// registry's service token.
public final class FilingApprovalsFake: Sendable {
    /// The filing's scope per "certificate/year": its school levels and specialty scope.
    private let approved = Mutex<[String: (levels: [Xcert_Filing_V1_SchoolLevel], specialties: [String])]>([:])
    private let questions = Atomic<Int>(0)
    public let serviceToken: String

    public init(serviceToken: String) {
        self.serviceToken = serviceToken
    }

    /// Grants an approved filing of `certificate` for `year`, for every school level and
    /// specialty unless a scope is given.
    public func approve(
        _ certificate: String, year: Int32, levels: [Xcert_Filing_V1_SchoolLevel] = [.secondary, .higherVocational, .undergraduate],
        specialtyScope: [String] = ["不限"]
    ) {
        self.approved.withLock { $0["\(certificate)/\(year)"] = (levels, specialtyScope) }
    }

    /// How many questions it was asked.
    public var questionCount: Int { self.questions.load(ordering: .relaxed) }

    public var methods: [RPCMethod] {
        [
            // By name, so no admission runs: the fake checks the one token it knows itself.
            .unary(Xcert_Filing_V1_ApprovalService.Method.checkCertificateApproval.name) {
                (
                    request: Xcert_Filing_V1_CheckCertificateApprovalRequest, context: RequestContext
                ) -> Xcert_Filing_V1_CheckCertificateApprovalResponse in
                guard context.metadata["authorization"] == "Bearer \(self.serviceToken)" else {
                    throw RPCError(.unauthenticated, "the fake filing service knows only the registry's service token")
                }
                self.questions.add(1, ordering: .relaxed)
                var response = Xcert_Filing_V1_CheckCertificateApprovalResponse()
                if let scope = self.approved.withLock({ $0["\(request.certificateCode)/\(request.year)"] }) {
                    response.approved = true
                    response.filingID = 1
                    response.roundNumber = 1
                    response.schoolLevels = scope.levels
                    response.specialtyScope = scope.specialties
                }
                return response
            }
        ]
    }
}

/// The settlement service as the filing and assessment services see it, until the real
/// one exists: it answers `CheckFees` from the ceilings a test sets (rule 10), and
/// `GetPaymentTimeliness` from the schools' payments a test sets (1-4-1, 1-4-2).
public final class SettlementFake: Sendable {
    private let ceilings = Mutex<[String: Int64]>([:])
    private let timeliness = Mutex<[Int32: [String: Xcert_Settlement_V1_SchoolPaymentTimeliness]]>([:])
    private let answersTimeliness = Mutex(true)

    public init() {}

    /// Sets the ceiling of a certificate's level, in fen.
    public func setCeiling(_ certificate: String, level: Xcert_Common_V1_CertificateLevel, fen: Int64) {
        self.ceilings.withLock { $0["\(certificate)/\(level.rawValue)"] = fen }
    }

    /// Sets a school's receivables of the year and how it paid them.
    public func setPayments(_ school: String, year: Int32, due: Int32, paidByDueDate: Int32, receivableFen: Int64, receivedFen: Int64) {
        var payments = Xcert_Settlement_V1_SchoolPaymentTimeliness()
        payments.schoolCode = school
        payments.receivablesDue = due
        payments.paidByDueDate = paidByDueDate
        payments.receivable.fen = receivableFen
        payments.received.fen = receivedFen
        self.timeliness.withLock { $0[year, default: [:]][school] = payments }
    }

    /// Whether `GetPaymentTimeliness` answers; when not, it is UNAVAILABLE.
    public func answerTimeliness(_ answers: Bool) {
        self.answersTimeliness.withLock { $0 = answers }
    }

    public var methods: [RPCMethod] {
        [
            // By name, so no admission runs: the fake answers whoever asks.
            .unary(Xcert_Settlement_V1_FeeCeilingService.Method.checkFees.name) {
                (request: Xcert_Settlement_V1_CheckFeesRequest, _: RequestContext) -> Xcert_Settlement_V1_CheckFeesResponse in
                var response = Xcert_Settlement_V1_CheckFeesResponse()
                for fee in request.fees {
                    guard let ceiling = self.ceilings.withLock({ $0["\(request.certificateCode)/\(fee.level.rawValue)"] }) else {
                        response.unconfiguredLevels.append(fee.level)
                        continue
                    }
                    if fee.fee.fen > ceiling {
                        var excess = Xcert_Settlement_V1_FeeExcess()
                        excess.level = fee.level
                        excess.fee = fee.fee
                        excess.ceiling.fen = ceiling
                        response.excesses.append(excess)
                    }
                }
                response.withinCeilings = response.excesses.isEmpty
                return response
            },
            .unary(Xcert_Settlement_V1_SettlementReportService.Method.getPaymentTimeliness.name) {
                (
                    request: Xcert_Settlement_V1_GetPaymentTimelinessRequest, _: RequestContext
                ) -> Xcert_Settlement_V1_GetPaymentTimelinessResponse in
                guard self.answersTimeliness.withLock({ $0 }) else { throw RPCError(.unavailable, "settlement is down (the test says so)") }
                var response = Xcert_Settlement_V1_GetPaymentTimelinessResponse()
                response.schools = self.timeliness.withLock { $0[request.year] ?? [:] }.values
                    .filter { request.schoolCode.isEmpty || $0.schoolCode == request.schoolCode }
                    .sorted { $0.schoolCode < $1.schoolCode }
                return response
            },
        ]
    }
}

/// A registry on a fresh database and a province-admin token: what the registry's
/// integration tests start from. With `withRegistry` (of the integration tests, which
/// serve the registry in process) the registry asks a filing fake (``filing``); with
/// ``withFilingStack(_:)`` it is a process that asks a real filing process, which asks a
/// settlement fake (``settlement``).
public struct RegistryHarness: Sendable {
    public let registry: ServiceAddress
    public let client: RPCClient
    public let postgres: PostgresClient
    public let database: DatabaseConfiguration
    /// The filing fake the registry asks (not consulted when a real filing process runs).
    public let filing: FilingApprovalsFake
    /// The real filing service and its client, in the filing stack.
    public var filingAddress: ServiceAddress?
    public var filingClient: RPCClient?
    /// The filing service's process, when the stack runs it as one
    /// (``withFilingStackProcesses(_:)``).
    public var filingProcess: ServiceProcess?
    /// The settlement fake the real filing process asks.
    public var settlement: SettlementFake?
    /// The filing service's environment, to start it again on its port after a kill.
    public var filingEnvironment: [String: String] = [:]
    /// A province admin's token.
    public let admin: String

    public init(
        registry: ServiceAddress, client: RPCClient, postgres: PostgresClient, database: DatabaseConfiguration,
        filing: FilingApprovalsFake, admin: String
    ) {
        self.registry = registry
        self.client = client
        self.postgres = postgres
        self.database = database
        self.filing = filing
        self.admin = admin
    }

    /// Calls `method` (a generated descriptor of `XCertAPI`) with `token`: the filing
    /// service's methods (`xcert.filing.v1`) on the filing process, else the registry's.
    public func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, token: String, idempotencyKey: String? = nil
    ) async throws -> Response {
        let options = CallOptions(idempotencyKey: idempotencyKey)
        if method.name.hasPrefix("/xcert.filing.v1.") {
            guard let filingClient = self.filingClient else { throw RPCError(.unavailable, "this harness runs no filing process") }
            return try await filingClient.authorized(token: token).unary(method, request, options: options)
        }
        return try await self.client.authorized(token: token).unary(method, request, options: options)
    }

    /// The error a call ends with; nil if it succeeds.
    public func refusal<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, token: String
    ) async -> RPCError? {
        do {
            _ = try await self.call(method, request, token: token)
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(.unknown, "\(error)")
        }
    }

    /// A token of a new principal with `role` acting for `party`, made in the database.
    public func token(role: String, party: String?, name: String? = nil) async throws -> String {
        try await makeToken(self.postgres, role: role, party: party, name: name ?? "\(role) \(party ?? "")")
    }

    /// The first column of the first row of a query, for assertions.
    public func scalar<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as: Value.Type = Value.self) async throws -> Value? {
        try await self.postgres.scalar(query, as: Value.self)
    }
}

/// A token of a new principal, made straight in the database.
public func makeToken(
    _ postgres: PostgresClient, role: String, party: String?, name: String, token: String = "xct_test_\(UUID().uuidString)"
) async throws -> String {
    try await postgres.query(
        """
        WITH p AS (INSERT INTO registry.principals (name, role, party) VALUES (\(name), \(role), \(party)) RETURNING id)
        INSERT INTO registry.tokens (principal_id, token_sha256) SELECT id, sha256(convert_to(\(token), 'UTF8')) FROM p
        """,
        logger: testLogger("tokens")
    )
    return token
}

/// What a registry under test starts from: a fresh database, a filing fake it asks (served
/// over TCP by the test process, answering only the registry's service token), and a
/// province admin's token.
public struct RegistrySetting: Sendable {
    public let database: DatabaseConfiguration
    public let postgres: PostgresClient
    public let filing: FilingApprovalsFake
    public let admin: String
    /// The registry's own environment: the fake's address, its service token and, with
    /// TLS, its certificate settings.
    public let environment: [String: String]
    /// How its clients reach it over TLS, when the setting has TLS.
    public let clientTLS: ClientTLSConfiguration?

    /// The harness of a registry reached at `registry` with `client`.
    public func harness(registry: ServiceAddress, client: RPCClient) -> RegistryHarness {
        RegistryHarness(
            registry: registry, client: client, postgres: self.postgres, database: self.database, filing: self.filing, admin: self.admin
        )
    }
}

/// Makes a ``RegistrySetting`` for the length of `body`. With `tls`, every port is TLS: the
/// registry's (certificate from `tls`), and the fake's, which requires the registry's
/// client certificate.
public func withRegistrySetting<Result: Sendable>(
    tls: TestTLSDeployment? = nil, _ body: @Sendable (RegistrySetting) async throws -> Result
) async throws -> Result {
    try await withTestDatabase { database, postgres in
        let serviceToken = "xct_test_service_\(UUID().uuidString)"
        let filing = FilingApprovalsFake(serviceToken: serviceToken)
        let filingTLS = try tls?.authority.issue("filing").server(clientRoots: tls?.authority, requireClientCertificate: true)
        return try await withTestServer(filing.methods, configure: { $0.tls = filingTLS }) { _, filingPort in
            _ = try await makeToken(postgres, role: "service", party: "registry", name: "registry service", token: serviceToken)
            let admin = try await makeToken(postgres, role: "province_admin", party: nil, name: "省厅管理员")
            let environment = [
                "XCERT_FILING_ADDRESS": "127.0.0.1:\(filingPort)",
                "XCERT_SERVICE_TOKEN": serviceToken,
            ].merging(try tls?.environment(for: "registry") ?? [:]) { $1 }
            return try await body(
                RegistrySetting(
                    database: database, postgres: postgres, filing: filing, admin: admin, environment: environment,
                    clientTLS: try tls?.client()
                ))
        }
    }
}

/// Starts a fresh database, a filing fake and a registry process that asks it, runs `body`
/// with the harness and the process, and stops them: for tests whose subject is the
/// process (its metrics port, its log, its TLS settings read at start). With `tls`, every
/// port is TLS (``withRegistrySetting(tls:_:)``).
public func withRegistryProcess<Result: Sendable>(
    tls: TestTLSDeployment? = nil, _ body: @Sendable (RegistryHarness, ServiceProcess) async throws -> Result
) async throws -> Result {
    try await withRegistrySetting(tls: tls) { setting in
        let registry = try await ServiceProcess.start(
            "registry", database: setting.database, environment: setting.environment, tls: setting.clientTLS)
        let client = testClient(port: registry.port, tls: registry.tls)
        do {
            try await registry.waitForHealth(.serving)
            let result = try await body(setting.harness(registry: registry.address, client: client), registry)
            await client.close()
            _ = try await registry.terminate()
            return result
        } catch {
            await client.close()
            _ = try? await registry.terminate()
            throw error
        }
    }
}

/// The key of the national ID hashes of the filing processes the tests start (every
/// ``ServiceProcess`` gets it).
public let nationalIDKey = "xcert-test-national-id-key-0123456789abcdef"

/// The tests' issuer key (an Ed25519 private key, base64): certificates are signed with it.
public let issuerKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

/// The tests' key under which filing keeps full ID numbers encrypted (AES-256, base64).
public let idEncryptionKey = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

/// Starts a fresh database, a registry and a filing process that ask each other, and a
/// settlement fake the filing process asks; runs `body`, and stops them: for tests whose
/// subject is the filing process (killed, restarted, its log). Handler tests serve the
/// same stack in process (`withFilingStack` of the integration tests).
public func withFilingStackProcesses<Result: Sendable>(_ body: @Sendable (RegistryHarness) async throws -> Result) async throws -> Result {
    try await withFilingStackSetting { setting in
        let registry = try await ServiceProcess.start(
            "registry", database: setting.database, environment: setting.registryEnvironment)
        let filingEnvironment = setting.filingEnvironment(registryPort: registry.port)
        let filing: ServiceProcess
        do {
            filing = try await ServiceProcess.start(
                "filing", database: setting.database, port: setting.filingPort, environment: filingEnvironment)
        } catch {
            _ = try? await registry.terminate()
            throw error
        }
        let client = testClient(port: registry.port)
        let filingClient = testClient(port: filing.port)
        do {
            try await registry.waitForHealth(.serving)
            try await filing.waitForHealth(.serving)
            var harness = setting.harness(registry: registry.address, client: client, filing: filing.address, filingClient: filingClient)
            harness.filingProcess = filing
            let result = try await body(harness)
            await client.close()
            await filingClient.close()
            _ = try await filing.terminate()
            _ = try await registry.terminate()
            return result
        } catch {
            await client.close()
            await filingClient.close()
            _ = try? await filing.terminate()
            _ = try? await registry.terminate()
            throw error
        }
    }
}

/// What a registry and a filing service under test start from: a fresh database, a
/// settlement fake the filing service asks (served over TCP by the test process), the two
/// services' tokens, a province admin's token, and the filing port picked first (each
/// service is told the other's address before it starts).
public struct FilingStackSetting: Sendable {
    public let database: DatabaseConfiguration
    public let postgres: PostgresClient
    public let settlement: SettlementFake
    public let settlementPort: Int
    public let registryToken: String
    public let filingToken: String
    public let admin: String
    public let filingPort: Int

    /// The registry's environment: the filing service's address and its service token.
    public var registryEnvironment: [String: String] {
        ["XCERT_FILING_ADDRESS": "127.0.0.1:\(self.filingPort)", "XCERT_SERVICE_TOKEN": self.registryToken]
    }

    /// The filing service's environment, with the registry at `registryPort`.
    public func filingEnvironment(registryPort: Int) -> [String: String] {
        [
            "XCERT_PORT": "\(self.filingPort)",
            "XCERT_REGISTRY_ADDRESS": "127.0.0.1:\(registryPort)",
            "XCERT_SETTLEMENT_ADDRESS": "127.0.0.1:\(self.settlementPort)",
            "XCERT_SERVICE_TOKEN": self.filingToken,
            "XCERT_NATIONAL_ID_KEY": nationalIDKey,
            "XCERT_ISSUER_KEY": issuerKey,
            "XCERT_ID_ENCRYPTION_KEY": idEncryptionKey,
        ]
    }

    /// The harness of the stack reached at `registry` and `filing`.
    public func harness(registry: ServiceAddress, client: RPCClient, filing: ServiceAddress, filingClient: RPCClient) -> RegistryHarness {
        var harness = RegistryHarness(
            registry: registry, client: client, postgres: self.postgres, database: self.database,
            filing: FilingApprovalsFake(serviceToken: self.registryToken), admin: self.admin
        )
        harness.filingAddress = filing
        harness.filingClient = filingClient
        harness.settlement = self.settlement
        harness.filingEnvironment = self.filingEnvironment(registryPort: registry.port)
        return harness
    }
}

/// Makes a ``FilingStackSetting`` for the length of `body`.
public func withFilingStackSetting<Result: Sendable>(
    _ body: @Sendable (FilingStackSetting) async throws -> Result
) async throws -> Result {
    try await withTestDatabase { database, postgres in
        let settlement = SettlementFake()
        return try await withTestServer(settlement.methods) { _, settlementPort in
            try await body(
                FilingStackSetting(
                    database: database, postgres: postgres, settlement: settlement, settlementPort: settlementPort,
                    registryToken: try await makeToken(postgres, role: "service", party: "registry", name: "registry service"),
                    filingToken: try await makeToken(postgres, role: "service", party: "filing", name: "filing service"),
                    admin: try await makeToken(postgres, role: "province_admin", party: nil, name: "省厅管理员"),
                    filingPort: try freePort()
                ))
        }
    }
}

/// The four real services on a fresh database, each told where the others are: what
/// `scripts/up` runs, for the tests that drive the whole system (the demo).
public struct FullStack: Sendable {
    public let registry: ServiceProcess
    public let filing: ServiceProcess
    public let assessment: ServiceProcess
    public let settlement: ServiceProcess
    public let postgres: PostgresClient
    public let database: DatabaseConfiguration
    /// A province admin's token.
    public let admin: String
    /// Each service's environment (its token, its peers' addresses), to start it again.
    let environments: [String: [String: String]]

    /// The `--registry … --settlement …` options of xctl for this stack.
    public var addressOptions: [String] {
        [
            "--registry", "127.0.0.1:\(self.registry.port)", "--filing", "127.0.0.1:\(self.filing.port)",
            "--assessment", "127.0.0.1:\(self.assessment.port)", "--settlement", "127.0.0.1:\(self.settlement.port)",
        ]
    }

    /// The process first started for `name`.
    public func process(_ name: String) -> ServiceProcess {
        switch name {
        case "registry": self.registry
        case "filing": self.filing
        case "assessment": self.assessment
        default: self.settlement
        }
    }

    /// Starts `name` again on its port, as after a crash; the caller terminates it.
    public func restart(_ name: String) async throws -> ServiceProcess {
        let process = try await ServiceProcess.start(
            name, database: self.database, port: self.process(name).port, environment: self.environments[name] ?? [:])
        try await process.waitForHealth(.serving)
        return process
    }

    /// The registry's fixtures' view of this stack: a ``RegistryHarness`` whose filing calls
    /// go to the real filing service. The caller closes its `client` and `filingClient`.
    public func harness() -> RegistryHarness {
        var harness = RegistryHarness(
            registry: self.registry.address, client: testClient(port: self.registry.port), postgres: self.postgres, database: self.database,
            filing: FilingApprovalsFake(serviceToken: ""), admin: self.admin
        )
        harness.filingAddress = self.filing.address
        harness.filingProcess = self.filing
        harness.filingClient = testClient(port: self.filing.port)
        harness.filingEnvironment = self.environments["filing"] ?? [:]
        return harness
    }
}

/// Starts a fresh database and the four services on ports picked first, so that each is
/// told the others' addresses, with `environment` added to each one's own (e.g.
/// `XCERT_LIMIT_…` set to 0 for a test that calls faster than the rate limits allow); runs
/// `body`, and stops them.
public func withFullStack<Result: Sendable>(
    environment: [String: String] = [:], _ body: @Sendable (FullStack) async throws -> Result
) async throws -> Result {
    try await withTestDatabase { database, postgres in
        try await withServices(database: database, postgres: postgres, environment: environment, body)
    }
}

/// As ``withFullStack(_:)``, on database `xcert` of a cluster of the test's own.
public func withFullStack<Result: Sendable>(
    on cluster: PrivateCluster, _ body: @Sendable (FullStack) async throws -> Result
) async throws -> Result {
    try await withRunningClient(cluster.database) { postgres in
        try await Migrator().migrate(client: postgres, logger: testLogger("db"))
        return try await withServices(database: cluster.database, postgres: postgres, body)
    }
}

private func withServices<Result: Sendable>(
    database: DatabaseConfiguration, postgres: PostgresClient, environment extra: [String: String] = [:],
    _ body: @Sendable (FullStack) async throws -> Result
) async throws -> Result {
    let names = ["registry", "filing", "assessment", "settlement"]
    var ports: [String: Int] = [:]
    for name in names { ports[name] = try freePort() }
    var started: [ServiceProcess] = []
    var environments: [String: [String: String]] = [:]
    do {
        for name in names {
            let token = try await makeToken(postgres, role: "service", party: name, name: "\(name) service")
            var environment = extra
            environment["XCERT_SERVICE_TOKEN"] = token
            for peer in names where peer != name { environment["XCERT_\(peer.uppercased())_ADDRESS"] = "127.0.0.1:\(ports[peer]!)" }
            environments[name] = environment
            started.append(try await ServiceProcess.start(name, database: database, port: ports[name], environment: environment))
        }
        for service in started { try await service.waitForHealth(.serving) }
        let admin = try await makeToken(postgres, role: "province_admin", party: nil, name: "省厅管理员")
        let stack = FullStack(
            registry: started[0], filing: started[1], assessment: started[2], settlement: started[3],
            postgres: postgres, database: database, admin: admin, environments: environments
        )
        let result = try await body(stack)
        for service in started.reversed() { _ = try await service.terminate() }
        return result
    } catch {
        for service in started.reversed() { _ = try? await service.terminate() }
        throw error
    }
}
