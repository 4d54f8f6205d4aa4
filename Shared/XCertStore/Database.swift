import Logging
import PostgresNIO
import Synchronization

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
/// `statement_timeout` set from its deadline, so that the database stops working on
/// something its caller has given up on. Failures are ``StoreError``s; the service kit maps
/// them to wire statuses and opens a request's transaction from its context.
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

    /// Runs `body` in one transaction whose statements stop at `deadline`. The transaction
    /// commits only if `body` returns and the task was not cancelled meanwhile (the
    /// deadline passed, the caller gone); otherwise it rolls back. With `snapshot`, it is
    /// read-only and all its statements see one snapshot (REPEATABLE READ); otherwise each
    /// statement sees what was committed when it began (READ COMMITTED).
    ///
    /// - Throws: ``StoreError`` for the database's failures (``StoreError/Code/unavailable``
    ///   at once while the health monitor finds it unreachable); `body`'s own errors as
    ///   they are.
    public func transaction<Result: Sendable>(
        deadline: ContinuousClock.Instant,
        logger: Logger,
        snapshot: Bool = false,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        guard self.availability.isReachable else {
            throw StoreError(.unavailable)
        }
        let milliseconds = "\(max(1, Self.milliseconds(until: deadline)))"
        let role = self.role ?? "none"
        do {
            return try await self.client.withTransaction(logger: logger) { connection in
                if snapshot {
                    // Before any other statement: every read of `body` sees the same committed state.
                    try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                }
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

    /// As ``transaction(deadline:logger:snapshot:_:)``, for work outside a request (start-up,
    /// background jobs): the deadline is `timeout` from now.
    public func transaction<Result: Sendable>(
        timeout: Duration,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.transaction(deadline: .now + timeout, logger: logger, body)
    }

    private static func milliseconds(until deadline: ContinuousClock.Instant) -> Int64 {
        let left = max(.zero, deadline - .now).components
        return left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000
    }
}
