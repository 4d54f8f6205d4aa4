import Crypto
import Foundation
import Logging
import PostgresNIO

/// One step of the database's single, ordered schema history.
///
/// A migration is a list of SQL statements (PostgresNIO sends one statement per query)
/// run in one transaction with the others pending. Its checksum is the SHA-256 of its
/// statements; a database that recorded a different checksum for the same version was
/// migrated by other code, and the service refuses to start on it.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }

    public var checksum: String {
        let digest = SHA256.hash(data: Data(self.statements.joined(separator: "\n;\n").utf8))
        return digest.lowercaseHex
    }
}

/// A migration history that does not match the code.
public struct MigrationError: Error, CustomStringConvertible {
    public var description: String
}

/// Applies the pending migrations of a history, under a PostgreSQL advisory lock so that
/// several processes starting together apply each migration exactly once.
public struct Migrator: Sendable {
    public let history: [Migration]

    /// The key of the advisory lock all migrators take (an arbitrary constant: "XCERTMIG").
    static let lockKey: Int64 = 0x5843_4552_544D_4947

    public init(history: [Migration] = MigrationHistory.all) {
        precondition(
            history.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
            "migration versions run 1, 2, 3, ... without gaps"
        )
        self.history = history
    }

    /// Applies what is missing and returns the versions it applied (empty when the
    /// database was up to date). Throws ``MigrationError`` when the recorded history
    /// disagrees with this one.
    @discardableResult
    public func migrate(client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withConnection { connection in
            try await self.migrate(connection: connection, logger: logger)
        }
    }

    /// As ``migrate(client:logger:)``, as `login`'s user alone (none of its startup
    /// parameters: a service's login whose sessions act as the service's role migrates as
    /// the owner it is), on a connection opened for it and closed after.
    @discardableResult
    public func migrate(login: DatabaseConfiguration, logger: Logger) async throws -> [Int] {
        let connection = try await PostgresConnection.connect(configuration: login.loginConfiguration, id: 0, logger: logger)
        do {
            let applied = try await self.migrate(connection: connection, logger: logger)
            try? await connection.close()
            return applied
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private func migrate(connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        do {
            return try await self.migrateInTransaction(connection: connection, logger: logger)
        } catch let error as PostgresTransactionError {
            if let mismatch = error.closureError as? MigrationError { throw mismatch }
            throw error
        }
    }

    private func migrateInTransaction(connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await connection.query("CREATE SCHEMA IF NOT EXISTS xcert_meta", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS xcert_meta.schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var recorded: [Int: String] = [:]
            let rows = try await connection.query("SELECT version, checksum FROM xcert_meta.schema_migrations", logger: logger)
            for try await (version, checksum) in rows.decode((Int, String).self) {
                recorded[version] = checksum
            }
            if let newest = recorded.keys.max(), newest > self.history.count {
                throw MigrationError(
                    description:
                        "the database is at schema version \(newest), newer than this build's \(self.history.count); run a newer build")
            }
            var applied: [Int] = []
            for migration in self.history {
                if let checksum = recorded[migration.version] {
                    guard checksum == migration.checksum else {
                        throw MigrationError(
                            description:
                                """
                                migration \(migration.version) (\(migration.name)) was applied with checksum \(checksum), but this build \
                                has \(migration.checksum); the history was edited after it was applied
                                """
                        )
                    }
                    continue
                }
                logger.info("applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO xcert_meta.schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """,
                    logger: logger
                )
                applied.append(migration.version)
            }
            return applied
        }
    }
}
