import Foundation
import PostgresNIO
import Synchronization
import Testing
import XCertProto
import XCertService
import XCertStore
import XCertTestSupport
import XCertWire

/// Methods that write to the test database through the one transaction helper. The
/// request's `service` field names the row; the handler's behaviour after the insert is
/// chosen per method.
private final class WriteMethods: Sendable {
    let database: Database
    let idempotency: IdempotencyStore
    let handlerEnded = Mutex(0)
    /// What the check before ``countAfterCheck``'s change answers now; nil: it passes.
    let checkRefuses = Mutex<RPCError.Code?>(nil)

    init(database: Database) {
        self.database = database
        self.idempotency = IdempotencyStore(schema: "filing", database: database)
    }

    static let sleepAfterInsert = "/test.v1.Write/SleepAfterInsert"
    static let slowStatementAfterInsert = "/test.v1.Write/SlowStatementAfterInsert"
    static let slowRead = "/test.v1.Write/SlowRead"
    static let count = "/test.v1.Write/Count"
    /// Changes state; public, so the test server needs no token check.
    static let write = MethodContract(isPublic: true, roles: [], isMutating: true, limitClass: .write)
    static let countAfterCheck = "/test.v1.Write/CountAfterCheck"

    static func prepare(_ client: PostgresClient) async throws {
        let logger = testLogger("prepare")
        try await client.query("CREATE TABLE filing.writes (id text PRIMARY KEY)", logger: logger)
        try await client.query("CREATE TABLE filing.counter (id int PRIMARY KEY, value int NOT NULL)", logger: logger)
        try await client.query("INSERT INTO filing.counter VALUES (1, 0)", logger: logger)
    }

    var methods: [RPCMethod] {
        [
            .unary(Self.sleepAfterInsert, contract: Self.write) {
                (request: Xcert_Health_V1_HealthCheckRequest, context) -> Xcert_Health_V1_HealthCheckResponse in
                defer { self.handlerEnded.withLock { $0 += 1 } }
                return try await self.database.transaction(context) { connection in
                    try await connection.query("INSERT INTO filing.writes VALUES (\(request.service))", logger: context.logger)
                    try await Task.sleep(for: .seconds(30))
                    return Xcert_Health_V1_HealthCheckResponse()
                }
            },
            .unary(Self.slowStatementAfterInsert, contract: Self.write) {
                (request: Xcert_Health_V1_HealthCheckRequest, context) -> Xcert_Health_V1_HealthCheckResponse in
                try await self.database.transaction(context) { connection in
                    try await connection.query("INSERT INTO filing.writes VALUES (\(request.service))", logger: context.logger)
                    try await connection.query("SELECT pg_sleep(30)", logger: context.logger)
                    return Xcert_Health_V1_HealthCheckResponse()
                }
            },
            .unary(Self.slowRead, contract: Self.write) {
                (request: Xcert_Health_V1_HealthCheckRequest, context) -> Xcert_Health_V1_HealthCheckResponse in
                try await self.database.read(context) { connection in
                    // The rows read, as a handler reads them: the statement's end (or error) comes with them.
                    for try await _ in try await connection.query("SELECT pg_sleep(30)", logger: context.logger) {}
                    return Xcert_Health_V1_HealthCheckResponse()
                }
            },
            .unary(Self.count, contract: Self.write) {
                (request: Xcert_Health_V1_HealthCheckRequest, context) -> Xcert_Health_V1_HealthCheckResponse in
                try await self.idempotency.perform(context) { connection in
                    let rows = try await connection.query(
                        "UPDATE filing.counter SET value = value + 1 WHERE id = 1 RETURNING value", logger: context.logger)
                    var response = Xcert_Health_V1_HealthCheckResponse()
                    for try await value in rows.decode(Int.self) { response.detail = "count \(value) for \(request.service)" }
                    return response
                }
            },
            // As a method that asks a peer before its change: the peer's answer can change.
            .unary(Self.countAfterCheck, contract: Self.write) {
                (request: Xcert_Health_V1_HealthCheckRequest, context) -> Xcert_Health_V1_HealthCheckResponse in
                if let code = self.checkRefuses.withLock({ $0 }) { throw RPCError(code, "the check before the change says no") }
                return try await self.idempotency.perform(context) { connection in
                    let rows = try await connection.query(
                        "UPDATE filing.counter SET value = value + 1 WHERE id = 1 RETURNING value", logger: context.logger)
                    var response = Xcert_Health_V1_HealthCheckResponse()
                    for try await value in rows.decode(Int.self) { response.detail = "count \(value) for \(request.service)" }
                    return response
                }
            },
        ]
    }
}

/// A fresh database with the test tables, and a server of ``WriteMethods`` on it whose
/// pool has `connections` connections (no `statement_timeout`: only cancellation stops a
/// statement at its deadline).
private func withWriteServer(
    connections: Int = 4,
    _ body:
        @Sendable (_ database: DatabaseConfiguration, _ client: PostgresClient, _ methods: WriteMethods, _ port: Int) async throws -> Void
) async throws {
    try await withTestDatabase { configuration, client in
        try await WriteMethods.prepare(client)
        var configured = configuration
        configured.maximumConnections = connections
        let pool = configured
        try await withRunningClient(pool) { served in
            let methods = WriteMethods(database: Database(client: served, configuration: pool))
            try await withTestServer(methods.methods, changes: methods.idempotency) { _, port in
                try await body(configuration, client, methods, port)
            }
        }
    }
}

@Suite(
    "Transactions, deadlines and idempotency", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(2)))
struct TransactionTests {
    @Test("a request past its deadline gets DEADLINE_EXCEEDED and its write is rolled back")
    func deadlineRollsBack() async throws {
        try await withWriteServer { _, client, methods, port in
            let rpc = testClient(port: port)
            let response = try await rpc.call(
                WriteMethods.sleepAfterInsert, payload: try request("late").serializedData(), timeout: .milliseconds(300)
            )
            #expect(response.status.code == .deadlineExceeded)
            // The answer comes only after the handler unwound.
            #expect(methods.handlerEnded.withLock { $0 } == 1)
            #expect(try await client.scalar("SELECT count(*) FROM filing.writes WHERE id = 'late'", as: Int.self) == 0)
            await rpc.close()
        }
    }

    @Test("a statement still running at the deadline is cancelled and its transaction rolled back")
    func statementCancelled() async throws {
        try await withWriteServer { configuration, client, methods, port in
            let rpc = testClient(port: port)
            let start = ContinuousClock.now
            let response = try await rpc.call(
                WriteMethods.slowStatementAfterInsert, payload: try request("slow").serializedData(), timeout: .milliseconds(400)
            )
            #expect(response.status.code == .deadlineExceeded)
            #expect(ContinuousClock.now - start < .seconds(10), "pg_sleep(30) must have been cut off")
            #expect(try await client.scalar("SELECT count(*) FROM filing.writes WHERE id = 'slow'", as: Int.self) == 0)
            let sleeping = try await client.scalar(
                """
                SELECT count(*)
                FROM pg_stat_activity
                WHERE datname = \(configuration.database) AND query LIKE 'SELECT pg_sleep%' AND state = 'active'
                """,
                as: Int.self
            )
            #expect(sleeping == 0)
            await rpc.close()
        }
    }

    @Test("a slow read stops when its request's deadline passes, and its connection serves the next request")
    func slowReadCancelled() async throws {
        try await withWriteServer(connections: 1) { configuration, client, methods, port in
            let rpc = testClient(port: port)
            let start = ContinuousClock.now
            let response = try await rpc.call(
                WriteMethods.slowRead, payload: try request("read").serializedData(), timeout: .milliseconds(400))
            #expect(response.status.code == .deadlineExceeded)
            #expect(ContinuousClock.now - start < .seconds(10), "pg_sleep(30) must have been cut off")
            let sleeping = try await client.scalar(
                """
                SELECT count(*)
                FROM pg_stat_activity
                WHERE datname = \(configuration.database) AND query LIKE 'SELECT pg_sleep%' AND state = 'active'
                """,
                as: Int.self
            )
            #expect(sleeping == 0)
            // The pool's one connection answers the next requests: it is usable, and the
            // first request's cancellation did not reach theirs.
            for attempt in 1...3 {
                let next = try await rpc.call(WriteMethods.count, payload: try request("after-\(attempt)").serializedData())
                #expect(next.status.code == .ok, "\(next.status)")
            }
            await rpc.close()
        }
    }

    @Test("a client that disconnects mid-request leaves no write behind")
    func disconnectLeavesNoWrite() async throws {
        try await withWriteServer { _, client, methods, port in
            let connection = try await RawConnection.connect(port: port)
            var envelope = RawConnection.request(id: 1, method: WriteMethods.sleepAfterInsert, payload: request("gone"))
            envelope.timeoutMs = 60_000
            try await connection.send(envelope)
            // Wait until the insert happened inside the open transaction.
            try await withTimeout(.seconds(10)) {
                while try await client.scalar(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'filing.writes'::regclass AND mode = 'RowExclusiveLock'", as: Int.self
                ) == 0 {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            await connection.close()
            try await withTimeout(.seconds(10)) {
                while methods.handlerEnded.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(try await client.scalar("SELECT count(*) FROM filing.writes WHERE id = 'gone'", as: Int.self) == 0)
        }
    }

    @Test("a retry with the same idempotency-key returns the first answer without doing the work again")
    func idempotentRetry() async throws {
        try await withWriteServer { _, client, methods, port in
            let rpc = testClient(port: port)
            let first = try await rpc.unary(
                WriteMethods.count, request("a"), as: Xcert_Health_V1_HealthCheckResponse.self, metadata: ["idempotency-key": "key-1"])
            let retry = try await rpc.unary(
                WriteMethods.count, request("a"), as: Xcert_Health_V1_HealthCheckResponse.self, metadata: ["idempotency-key": "key-1"])
            #expect(first.detail == "count 1 for a")
            #expect(retry == first)
            #expect(try await client.scalar("SELECT value FROM filing.counter", as: Int.self) == 1)

            // The same key with another payload.
            do {
                _ = try await rpc.unary(
                    WriteMethods.count, request("b"), as: Xcert_Health_V1_HealthCheckResponse.self, metadata: ["idempotency-key": "key-1"])
                Issue.record("expected FAILED_PRECONDITION")
            } catch let error as RPCError {
                #expect(error.code == .failedPrecondition)
                #expect(error.fieldViolations.first?.field == "metadata.idempotency-key")
            }
            // Without a key the work is done each time.
            _ = try await rpc.unary(WriteMethods.count, request("c"), as: Xcert_Health_V1_HealthCheckResponse.self)
            _ = try await rpc.unary(WriteMethods.count, request("c"), as: Xcert_Health_V1_HealthCheckResponse.self)
            #expect(try await client.scalar("SELECT value FROM filing.counter", as: Int.self) == 3)
            await rpc.close()
        }
    }

    @Test("a retry refused by a check before the change gets the first answer of its key; a new key gets the refusal")
    func firstAnswerOnRefusal() async throws {
        try await withWriteServer { _, client, methods, port in
            let rpc = testClient(port: port)
            func call(_ text: String, key: String) async throws -> String {
                try await rpc.unary(
                    WriteMethods.countAfterCheck, request(text), as: Xcert_Health_V1_HealthCheckResponse.self,
                    metadata: ["idempotency-key": key]
                ).detail
            }
            func refusal(_ text: String, key: String) async -> RPCError? {
                await rpcRefusal { _ = try await call(text, key: key) }
            }
            let first = try await call("a", key: "key-1")
            #expect(first == "count 1 for a")
            // Now the check refuses: the retry with key-1 is answered as the first time.
            methods.checkRefuses.withLock { $0 = .failedPrecondition }
            let retry = try await call("a", key: "key-1")
            #expect(retry == first)
            let newKey = await refusal("a", key: "key-2")
            #expect(newKey?.code == .failedPrecondition)
            // The same key with another payload is still refused as such.
            let otherPayload = await refusal("b", key: "key-1")
            #expect(otherPayload?.fieldViolations.first?.field == "metadata.idempotency-key")
            // A check that could not be made (the peer unavailable) is not a refusal: retry later.
            methods.checkRefuses.withLock { $0 = .unavailable }
            let unavailable = await refusal("a", key: "key-1")
            #expect(unavailable?.code == .unavailable)
            #expect(try await client.scalar("SELECT value FROM filing.counter", as: Int.self) == 1)
            await rpc.close()
        }
    }

    @Test("20 concurrent calls with one key do the work once and all get the same answer")
    func concurrentSameKey() async throws {
        try await withWriteServer { _, client, methods, port in
            let rpc = testClient(port: port)
            let answers = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await rpc.unary(
                            WriteMethods.count, request("x"), as: Xcert_Health_V1_HealthCheckResponse.self,
                            metadata: ["idempotency-key": "same"]
                        ).detail
                    }
                }
                var answers: Set<String> = []
                for try await answer in group { answers.insert(answer) }
                return answers
            }
            #expect(answers == ["count 1 for x"])
            #expect(try await client.scalar("SELECT value FROM filing.counter", as: Int.self) == 1)
            await rpc.close()
        }
    }

    @Test("a malformed idempotency-key is INVALID_ARGUMENT and nothing is written")
    func malformedKey() async throws {
        try await withWriteServer { _, client, methods, port in
            let rpc = testClient(port: port)
            for key in ["", String(repeating: "k", count: 129), "tab\there", "中文"] {
                do {
                    _ = try await rpc.unary(
                        WriteMethods.count, request("z"), as: Xcert_Health_V1_HealthCheckResponse.self, metadata: ["idempotency-key": key])
                    Issue.record("key \(key.debugDescription) was accepted")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument)
                    #expect(error.fieldViolations.first?.field == "metadata.idempotency-key")
                }
            }
            #expect(try await client.scalar("SELECT value FROM filing.counter", as: Int.self) == 0)
            await rpc.close()
        }
    }
}

private func request(_ text: String) -> Xcert_Health_V1_HealthCheckRequest {
    var request = Xcert_Health_V1_HealthCheckRequest()
    request.service = text
    return request
}
