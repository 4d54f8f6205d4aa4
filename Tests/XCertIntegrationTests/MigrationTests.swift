import Foundation
import PostgresNIO
import Testing
import XCertStore
import XCertTestSupport

@Suite("Migrations", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(2)))
struct MigrationTests {
    @Test("migrating twice applies everything once, then nothing")
    func idempotent() async throws {
        try await withTestDatabase(migrated: false) { _, client in
            let logger = testLogger("migrate")
            let first = try await Migrator().migrate(client: client, logger: logger)
            #expect(first == Array(1...MigrationHistory.all.count))
            let second = try await Migrator().migrate(client: client, logger: logger)
            #expect(second.isEmpty)
            let recorded = try await client.scalar("SELECT count(*) FROM xcert_meta.schema_migrations", as: Int.self)
            #expect(recorded == MigrationHistory.all.count)
        }
    }

    @Test("four processes racing apply each migration exactly once")
    func fourProcessesRace() async throws {
        try await withTestDatabase(migrated: false) { configuration, client in
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let outputs = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await runCommand(xctl, ["db", "migrate"], environment: configuration.libpqEnvironment)
                    }
                }
                var outputs: [(Int32, String)] = []
                for try await output in group { outputs.append(output) }
                return outputs
            }
            #expect(outputs.allSatisfy { $0.0 == 0 }, "\(outputs)")
            #expect(outputs.filter { $0.1.contains("applied migrations 1, 2, 3") }.count == 1, "\(outputs)")
            #expect(outputs.filter { $0.1.contains("up to date") }.count == 3, "\(outputs)")
            let rows = try await client.scalar("SELECT count(*) FROM xcert_meta.schema_migrations", as: Int.self)
            #expect(rows == MigrationHistory.all.count)
        }
    }

    @Test("a migration edited after it was applied stops the start with a clear error")
    func checksumMismatch() async throws {
        try await withTestDatabase { _, client in
            var edited = MigrationHistory.all
            let original = edited[1]
            edited[1] = Migration(version: original.version, name: original.name, statements: original.statements + ["SELECT 1"])
            await #expect(throws: MigrationError.self) {
                try await Migrator(history: edited).migrate(client: client, logger: testLogger("migrate"))
            }
            do {
                try await Migrator(history: edited).migrate(client: client, logger: testLogger("migrate"))
            } catch let error as MigrationError {
                #expect(error.description.contains("migration 2"))
                #expect(error.description.contains("edited"))
            }
        }
    }

    @Test("a database newer than the build is refused")
    func newerDatabase() async throws {
        try await withTestDatabase { _, client in
            await #expect(throws: MigrationError.self) {
                try await Migrator(history: Array(MigrationHistory.all.prefix(2))).migrate(client: client, logger: testLogger("migrate"))
            }
        }
    }

    @Test(
        """
        logged in as its own role with the password xctl admin service-login keeps (a pgpass line, mode 600), filing writes its \
        schema, reads the tokens, and cannot write the registry's, read its schools, or create anything in another schema
        """
    )
    func serviceLogin() async throws {
        // A cluster of its own: service-login sets the role's password, which the services of
        // other tests use in the shared cluster.
        try await PrivateCluster.with { cluster in
            let configuration = cluster.database
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("filing-\(UUID().uuidString).pgpass").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let made = try await runCommand(
                xctl, ["admin", "service-login", "--service", "filing", "--out", file], environment: configuration.libpqEnvironment)
            try #require(made.status == 0, "\(made.output)")
            #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) == 0o600)
            let line = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            try #require(fields.count == 5 && fields[3] == "xcert_filing", "\(line)")
            var login = configuration
            login.user = "xcert_filing"
            login.password = fields[4]
            let logger = testLogger("service login")
            try await withRunningClient(login) { filing in
                #expect(try await filing.scalar("SELECT current_user", as: String.self) == "xcert_filing")
                try await filing.query(
                    """
                    INSERT INTO filing.credit_mappings
                        (certificate_code, level, learning_outcome_code, learning_outcome_name, credits_tenths, set_by)
                    VALUES ('AUTO', 1, 'X', 'x', 10, 'test')
                    """, logger: logger)
                _ = try await filing.scalar("SELECT count(*) FROM registry.tokens", as: Int64.self)
                for statement: PostgresQuery in [
                    "INSERT INTO registry.principals (name, role) VALUES ('x', 'province_admin')",
                    "SELECT count(*) FROM registry.schools", "SELECT count(*) FROM settlement.fee_ceilings",
                    "CREATE TABLE registry.intruder (id integer)", "CREATE TABLE public.intruder (id integer)",
                    "SELECT count(*) FROM analytics.certificates",
                ] {
                    await #expect(throws: PSQLError.self, "\(statement.sql)") { try await filing.query(statement, logger: logger) }
                }
            }
        }
    }

    @Test("each service role writes its own schema only; analysts read nothing yet")
    func rolesAreSeparated() async throws {
        try await withTestDatabase { configuration, client in
            let logger = testLogger("roles")
            // Filing may read tokens (the shared token check) …
            _ = try await withRole("xcert_filing", on: client) { connection in
                try await connection.query("SELECT count(*) FROM registry.tokens", logger: logger)
            }
            // … but not write the registry's tables.
            await #expect(throws: StoreError.self) {
                try await withRole("xcert_filing", on: client) { connection in
                    try await connection.query(
                        "INSERT INTO registry.principals (name, role) VALUES ('x', 'province_admin')", logger: logger)
                }
            }
            // It writes its own schema.
            try await withRole("xcert_filing", on: client) { connection in
                try await connection.query(
                    """
                    INSERT INTO filing.idempotency_keys (principal, method, key, request_sha256, response)
                    VALUES ('p', 'm', 'k', '\\x00', '\\x00')
                    """,
                    logger: logger
                )
            }
            for table in ["registry.tokens", "filing.idempotency_keys", "xcert_meta.schema_migrations"] {
                await #expect(throws: StoreError.self) {
                    try await withRole("xcert_analyst", on: client) { connection in
                        try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger)
                    }
                }
            }
        }
    }
}
