import Foundation
import Testing

@testable import XCertService
@testable import XCertStore

@Suite("Configuration from the environment")
struct ConfigurationTests {
    @Test("with nothing set, the defaults reach the embedded database")
    func defaults() throws {
        let configuration = try DatabaseConfiguration(environment: ["PGPASSFILE": "/nonexistent"])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 55432)
        #expect(configuration.user == "xcert_owner")
        #expect(configuration.database == "xcert")
        #expect(configuration.password == nil)
    }

    @Test("libpq's variables win; PGPASSWORD before the password file")
    func libpqVariables() throws {
        let configuration = try DatabaseConfiguration(environment: [
            "PGHOST": "db", "PGPORT": "5432", "PGUSER": "owner", "PGDATABASE": "x", "PGPASSWORD": "secret",
        ])
        #expect(configuration == DatabaseConfiguration(host: "db", port: 5432, user: "owner", password: "secret", database: "x"))
    }

    @Test("the password comes from the matching pgpass line, with libpq's escapes and wildcards")
    func pgpass() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)")
        try """
        # comment
        otherhost:55432:*:xcert_owner:wrong
        127.0.0.1:55432:*:xcert_owner:pa\\:ss\\\\word
        *:*:*:*:fallback
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let configuration = try DatabaseConfiguration(environment: ["PGPASSFILE": file.path])
        #expect(configuration.password == "pa:ss\\word")
        let other = try DatabaseConfiguration(environment: ["PGPASSFILE": file.path, "PGUSER": "someone"])
        #expect(other.password == "fallback")
    }

    @Test(
        "a bad value is refused with a message naming the variable",
        arguments: [
            ["PGPORT": "seventy"], ["PGPORT": "70000"], ["XCERT_DB_MAX_CONNECTIONS": "0"],
        ])
    func badDatabaseValues(environment: [String: String]) {
        #expect {
            try DatabaseConfiguration(environment: environment)
        } throws: { error in
            "\(error)".contains(environment.keys.first!)
        }
    }

    @Test("service settings: defaults, port + 1000 for metrics, and errors naming the variable")
    func serviceConfiguration() throws {
        let configuration = try ServiceConfiguration(name: "filing", defaultPort: 7102, environment: [:])
        #expect(configuration.server.port == 7102)
        #expect(configuration.metricsPort == 8102)
        #expect(configuration.server.maximumFrameLength == 4 * 1024 * 1024)
        #expect(configuration.server.maximumInFlightPerConnection == 128)
        #expect(configuration.server.gracePeriod == .seconds(10))
        #expect(configuration.server.readTimeout == .seconds(30))
        #expect(configuration.server.idleTimeout == .seconds(300))
        #expect(configuration.server.maximumConnections == 4096)
        #expect(configuration.server.maximumConnectionsPerAddress == 1024)
        #expect(configuration.migrate)
        let guarded = try ServiceConfiguration(
            name: "filing", defaultPort: 7102,
            environment: [
                "XCERT_READ_TIMEOUT_MS": "5000", "XCERT_IDLE_TIMEOUT_MS": "60000",
                "XCERT_MAX_CONNECTIONS": "100", "XCERT_MAX_CONNECTIONS_PER_ADDRESS": "10",
            ])
        #expect(guarded.server.readTimeout == .seconds(5))
        #expect(guarded.server.idleTimeout == .seconds(60))
        #expect(guarded.server.maximumConnections == 100)
        #expect(guarded.server.maximumConnectionsPerAddress == 10)
        for (name, value) in [
            ("XCERT_PORT", "x"), ("XCERT_MIGRATE", "maybe"), ("XCERT_LOG_LEVEL", "loud"), ("XCERT_GRACE_PERIOD_MS", "-1"),
            ("XCERT_READ_TIMEOUT_MS", "0"), ("XCERT_MAX_CONNECTIONS_PER_ADDRESS", "none"),
        ] {
            #expect {
                try ServiceConfiguration(name: "filing", defaultPort: 7102, environment: [name: value])
            } throws: { error in
                "\(error)".contains(name)
            }
        }
    }

    @Test("versions run 1, 2, 3 …; a changed statement changes the checksum")
    func history() {
        #expect(MigrationHistory.all.map(\.version) == Array(1...MigrationHistory.all.count))
        #expect(Set(MigrationHistory.all.map(\.checksum)).count == MigrationHistory.all.count)
        let first = MigrationHistory.all[0]
        let edited = Migration(version: first.version, name: first.name, statements: first.statements.dropLast() + ["SELECT 2"])
        #expect(edited.checksum != first.checksum)
    }
}
