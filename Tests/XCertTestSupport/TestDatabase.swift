import Foundation
import Logging
import PostgresNIO
import XCertStore

/// The PostgreSQL cluster `scripts/test` starts for the tests (`XCERT_TEST_PG*`), and a
/// fresh database in it per test, dropped afterwards.
public enum TestCluster {
    static let environment = ProcessInfo.processInfo.environment

    /// Whether `scripts/test` (or a developer) named a cluster to test against.
    public static let isConfigured = environment["XCERT_TEST_PGPORT"] != nil

    public static var host: String { environment["XCERT_TEST_PGHOST"] ?? "127.0.0.1" }
    public static var port: Int { Int(environment["XCERT_TEST_PGPORT"] ?? "") ?? 55432 }
    public static var user: String { environment["XCERT_TEST_PGUSER"] ?? "xcert_owner" }
    public static var password: String? { environment["XCERT_TEST_PGPASSWORD"] }

    /// The configuration of database `name` in the test cluster.
    public static func configuration(database name: String) -> DatabaseConfiguration {
        DatabaseConfiguration(host: host, port: port, user: user, password: password, database: name, maximumConnections: 4)
    }
}

/// Creates an empty database, runs `body` with a running client on it, drops it.
public func withTestDatabase<Result: Sendable>(
    migrated: Bool = true,
    _ body: @Sendable (DatabaseConfiguration, PostgresClient) async throws -> Result
) async throws -> Result {
    let name = "xcert_test_\(UInt32.random(in: 0...UInt32.max))"
    let logger = testLogger("db")
    try await withRunningClient(TestCluster.configuration(database: "postgres")) { admin in
        try await admin.query("CREATE DATABASE \(unescaped: name)", logger: logger)
    }
    let configuration = TestCluster.configuration(database: name)
    do {
        let result = try await withRunningClient(configuration) { client in
            if migrated { try await Migrator().migrate(client: client, logger: logger) }
            return try await body(configuration, client)
        }
        try await dropDatabase(name)
        return result
    } catch {
        try? await dropDatabase(name)
        throw error
    }
}

private func dropDatabase(_ name: String) async throws {
    try await withRunningClient(TestCluster.configuration(database: "postgres")) { admin in
        try await admin.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: testLogger("db"))
    }
}

/// Runs `body` with a PostgresClient whose `run()` goes on in the background. The
/// client is cancelled afterwards but not awaited (see `withOwnerClient` in xctl: its
/// `run()` does not always return after cancellation under load).
public func withRunningClient<Result: Sendable>(
    _ configuration: DatabaseConfiguration,
    _ body: @Sendable (PostgresClient) async throws -> Result
) async throws -> Result {
    let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: testLogger("pg"))
    let running = Task { await client.run() }
    defer { running.cancel() }
    return try await body(client)
}

extension PostgresClient {
    /// The first column of the first row, for assertions.
    public func scalar<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as: Value.Type = Value.self) async throws -> Value? {
        let rows = try await self.query(query, logger: testLogger("db"))
        for try await value in rows.decode(Value.self) { return value }
        return nil
    }
}

/// `xcert_analyst` is a role of the whole test cluster, and `xctl admin analyst-login` sets
/// its password: the tests that set it and then log in with it hold this lock meanwhile, so
/// that no other test changes the password between the two.
public actor AnalystRoleLock {
    public static let shared = AnalystRoleLock()
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public func withLock<Result: Sendable>(_ body: @Sendable () async throws -> Result) async rethrows -> Result {
        if self.held {
            await withCheckedContinuation { self.waiting.append($0) }
        }
        self.held = true
        defer {
            if self.waiting.isEmpty { self.held = false } else { self.waiting.removeFirst().resume() }
        }
        return try await body()
    }
}

/// Runs `body` in a transaction acting as `role` (`SET LOCAL ROLE`; the owner is a member of
/// every XCert role): for a test of what a role may read or write. The database's failures
/// come as ``StoreError``s, as a service sees them.
public func withRole<Result: Sendable>(
    _ role: String,
    on client: PostgresClient,
    _ body: (PostgresConnection) async throws -> Result
) async throws -> Result {
    let logger = testLogger(role)
    do {
        return try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT set_config('role', \(role), true)", logger: logger)
            return try await body(connection)
        }
    } catch {
        throw StoreError.mapping(error)
    }
}

/// The logins of the services' roles (`xcert_registry`, …) in the clusters the tests use:
/// a service started by the tests logs in as its own role, as it does when deployed.
/// Roles belong to a cluster, so each role's login is set once per cluster (after the first
/// migration there made it), with a password of the tests' own.
public actor ServiceLogins {
    public static let shared = ServiceLogins()
    private var ready: Set<String> = []

    /// The password of every service role in the tests' clusters.
    public static let password = "xcert-test-service-\(UInt32.random(in: 0...UInt32.max))"

    /// `database` (an owner's configuration of a migrated database) as service `name`'s role.
    public func login(_ name: String, on database: DatabaseConfiguration) async throws -> DatabaseConfiguration {
        let role = "xcert_\(name)"
        let key = "\(database.host):\(database.port) \(role)"
        if !self.ready.contains(key) {
            let logger = testLogger("logins")
            try await withRunningClient(database) { owner in
                try await owner.withTransaction(logger: logger) { connection in
                    // ALTER ROLE takes no parameters: the password goes in bound, and PostgreSQL quotes it.
                    try await connection.query(
                        "SELECT set_config('xcert.login_role', \(role), true), set_config('xcert.login_password', \(Self.password), true)",
                        logger: logger)
                    try await connection.query(
                        """
                        DO $$ BEGIN
                            EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L',
                                current_setting('xcert.login_role'), current_setting('xcert.login_password'));
                        END $$
                        """,
                        logger: logger)
                }
            }
            self.ready.insert(key)
        }
        var login = database
        login.user = role
        login.password = Self.password
        return login
    }
}
