import Logging
import PostgresNIO
import Synchronization
import XCertWire

/// Whether the database answered lately, kept by the health monitor and read by every
/// transaction, so that requests fail fast with UNAVAILABLE instead of waiting for a
/// connection that cannot be had.
public final class DatabaseAvailability: Sendable {
    private let reachable = Atomic<Bool>(true)

    public init() {}

    public var isReachable: Bool { self.reachable.load(ordering: .relaxed) }

    public func update(reachable: Bool) { self.reachable.store(reachable, ordering: .relaxed) }
}

/// A service's handle on PostgreSQL, and the one way to open a transaction.
///
/// Each transaction runs as the service's own role (`SET LOCAL ROLE`), so a service can
/// write only its own schema even though it logs in as the owner, and with
/// `statement_timeout` set from the request's remaining deadline, so that the database
/// stops working on a request the client has given up on.
public struct Database: Sendable {
    public let client: PostgresClient
    /// The role the work runs as, e.g. `xcert_registry`; nil keeps the login user.
    public let role: String?
    public let availability: DatabaseAvailability

    public init(client: PostgresClient, role: String?, availability: DatabaseAvailability = DatabaseAvailability()) {
        precondition(role.map { $0.allSatisfy { $0.isLetter || $0 == "_" } } ?? true, "role names are identifiers")
        self.client = client
        self.role = role
        self.availability = availability
    }

    /// Runs `body` in one transaction bounded by the request's deadline. The transaction
    /// commits only if `body` returns and the request was not cancelled meanwhile
    /// (deadline passed, client gone); otherwise it rolls back.
    public func transaction<Result: Sendable>(
        _ context: RequestContext,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.transaction(timeout: context.remaining, logger: context.logger, body)
    }

    /// As ``transaction(_:_:)``, for work outside a request (start-up, background jobs).
    public func transaction<Result: Sendable>(
        timeout: Duration,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        guard self.availability.isReachable else {
            throw RPCError(.unavailable, "the database is unavailable; retry later with the same idempotency-key")
        }
        let milliseconds = "\(max(1, timeout.milliseconds))"
        let role = self.role ?? "none"
        do {
            return try await self.client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "SELECT set_config('statement_timeout', \(milliseconds), true), set_config('role', \(role), true)",
                    logger: logger
                )
                let result = try await body(connection)
                try Task.checkCancellation()
                return result
            }
        } catch {
            throw StoreError.mapping(error)
        }
    }
}
