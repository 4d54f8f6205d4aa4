import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import XCertService
import XCertStore

/// `xctl db …`: work on the database itself, as its owner (libpq's `PG*` variables).
struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Database tasks run as the owner.",
        subcommands: [Migrate.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending migrations (the containers' one-shot step; services also do it at start).")

        func run() async throws {
            let applied = try await withOwnerClient { client, logger in
                try await Migrator().migrate(client: client, logger: logger)
            }
            print(
                applied.isEmpty
                    ? "schema is up to date (version \(MigrationHistory.all.count))"
                    : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
        }
    }
}

/// Runs `body` with a PostgresClient connected as the owner.
///
/// The client's `run()` is left to end with the process rather than awaited: under
/// load, PostgresNIO 1.33's `run()` was seen not to return after cancellation (two of
/// four racing `xctl db migrate` processes hung at exit), and a command line tool has
/// nothing to clean up that process exit does not.
func withOwnerClient<Result: Sendable>(
    _ body: @Sendable @escaping (PostgresClient, Logger) async throws -> Result
) async throws -> Result {
    let configuration = try DatabaseConfiguration()
    var logger = Logger(label: "xctl")
    logger.logLevel = .warning
    let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
    let running = Task { await client.run() }
    defer { running.cancel() }
    return try await body(client, logger)
}
