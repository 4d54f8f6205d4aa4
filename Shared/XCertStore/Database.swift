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

/// A service's handle on PostgreSQL: the one way to run a read and the one way to open a
/// transaction.
///
/// A service logs in as its own role (`xcert_registry`, …), which can write only its own
/// schema; a login that is another (the owner, where a service also migrates) acts as the
/// service's role from each session's start (``DatabaseConfiguration/sessionRole``). Nothing
/// is set per request: a read is its statements and nothing else, a transaction is `BEGIN`,
/// its statements and `COMMIT`.
///
/// A request's deadline reaches the database by cancellation: when the task running `body`
/// is cancelled (the RPC server cancels a request's task when its deadline passes, or when
/// its caller goes), the statement its connection is running is cancelled too
/// (`pg_cancel_backend` from a connection of its own), and the connection goes back to the
/// pool only once that is done, so the cancellation cannot reach the next request's
/// statement. The sessions' `statement_timeout` (``DatabaseConfiguration/statementTimeout``,
/// the service's maximum deadline) bounds what cancellation misses. Failures are
/// ``StoreError``s; the service kit maps them to wire statuses.
public struct Database: Sendable {
    public let client: PostgresClient
    public let availability: DatabaseAvailability
    private let backends: BackendCanceller

    /// `configuration` is the one `client` was made with: its login opens the connections
    /// that cancel statements.
    public init(client: PostgresClient, configuration: DatabaseConfiguration, availability: DatabaseAvailability = DatabaseAvailability()) {
        self.client = client
        self.availability = availability
        self.backends = BackendCanceller(configuration: configuration.loginConfiguration)
    }

    /// Runs `body` on one connection outside an explicit transaction: each statement is its
    /// own, sees what was committed when it began (as in a READ COMMITTED transaction) and
    /// commits when it ends. A read that is one statement is one round trip. For reads, and
    /// for a change that is one statement; a change of several goes through
    /// ``transaction(logger:snapshot:_:)``.
    ///
    /// - Throws: ``StoreError`` for the database's failures (``StoreError/Code/unavailable``
    ///   at once while the health monitor finds it unreachable); `body`'s own errors as
    ///   they are.
    public func autocommit<Result: Sendable>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.withConnection(logger: logger, body)
    }

    /// Runs `body` in one transaction: `BEGIN`, `body`'s statements, `COMMIT`. It commits
    /// only if `body` returns and the task was not cancelled meanwhile (the deadline passed,
    /// the caller gone); otherwise it rolls back. With `snapshot`, it is read-only and all
    /// its statements see one snapshot (REPEATABLE READ); otherwise each statement sees what
    /// was committed when it began (READ COMMITTED).
    ///
    /// - Throws: as ``autocommit(logger:_:)``.
    public func transaction<Result: Sendable>(
        logger: Logger,
        snapshot: Bool = false,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.withConnection(logger: logger) { connection in
            try await connection.query(snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" : "BEGIN", logger: logger)
            let result: Result
            do {
                result = try await body(connection)
                try Task.checkCancellation()
            } catch {
                await Self.rollback(connection, logger: logger)
                throw error
            }
            try await connection.query("COMMIT", logger: logger)
            return result
        }
    }

    /// Leases a connection for `body`, cancelling its statement when the task is cancelled.
    private func withConnection<Result: Sendable>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        guard self.availability.isReachable else {
            throw StoreError(.unavailable)
        }
        do {
            try Task.checkCancellation()
            return try await self.client.withConnection { connection in
                let watch = try await self.backends.watch(connection, logger: logger)
                // Cancelled while it leased: nothing ran yet, so a cancellation now would miss.
                try Task.checkCancellation()
                let result: Result
                do {
                    result = try await withTaskCancellationHandler {
                        try await body(connection)
                    } onCancel: {
                        watch.cancel()
                    }
                } catch {
                    await watch.finish()
                    throw error
                }
                await watch.finish()
                return result
            }
        } catch {
            throw StoreError.mapping(error)
        }
    }

    /// Ends a failed transaction. A rollback that fails (a cancellation that arrived late)
    /// is tried once more; a connection still in its transaction then is closed, so the
    /// pool never lends it.
    private static func rollback(_ connection: PostgresConnection, logger: Logger) async {
        for _ in 0..<2 {
            if (try? await connection.query("ROLLBACK", logger: logger)) != nil { return }
        }
        logger.warning("a transaction could not be rolled back; its connection is closed")
        try? await connection.close()
    }
}

/// Knows each pooled connection's backend process and stops the statement it runs: what
/// turns a cancelled request into a cancelled statement.
///
/// PostgresNIO keeps the backend's cancellation key to itself, so a session's process id is
/// asked once (`pg_backend_pid()`, on the connection's first lease) and the statement is
/// cancelled with `pg_cancel_backend`, which PostgreSQL allows the login that owns the
/// session. The connection that sends it is opened for the purpose: a pool whose every
/// connection runs a statement to be cancelled has none to lend.
final class BackendCanceller: Sendable {
    private let configuration: PostgresConnection.Configuration
    private let processes = Mutex<[PostgresConnection.ID: Int32]>([:])
    private let cancellations = Atomic<Int>(0)

    /// More process ids than any pool keeps open: beyond it, the ids of closed connections
    /// are forgotten (and the living ones asked again).
    private static let remembered = 1024

    init(configuration: PostgresConnection.Configuration) {
        self.configuration = configuration
    }

    /// Watches `connection` for one lease.
    func watch(_ connection: PostgresConnection, logger: Logger) async throws -> StatementWatch {
        if let process = self.processes.withLock({ $0[connection.id] }) {
            return StatementWatch(process: process, canceller: self, logger: logger)
        }
        let rows = try await connection.query("SELECT pg_backend_pid()", logger: logger)
        var process: Int32 = 0
        for try await value in rows.decode(Int32.self) { process = value }
        self.processes.withLock { processes in
            if processes.count >= Self.remembered { processes.removeAll() }
            processes[connection.id] = process
        }
        return StatementWatch(process: process, canceller: self, logger: logger)
    }

    /// Cancels what backend `process` runs now, from a connection opened for it.
    func cancel(process: Int32, logger: Logger) async {
        let id = self.cancellations.wrappingAdd(1, ordering: .relaxed).newValue
        do {
            let connection = try await PostgresConnection.connect(configuration: self.configuration, id: id, logger: logger)
            defer { Task { try? await connection.close() } }
            try await connection.query("SELECT pg_cancel_backend(\(process))", logger: logger)
            logger.debug("statement cancelled", metadata: ["backend": "\(process)"])
        } catch {
            logger.warning(
                "could not cancel a statement; its statement_timeout ends it",
                metadata: ["backend": "\(process)", "error": "\(String(reflecting: error))"])
        }
    }
}

/// One lease's watch: a cancellation starts at most once, and ``finish()`` waits for it, so
/// the connection returns to the pool only after its cancellation was delivered.
final class StatementWatch: Sendable {
    private enum State {
        case running
        case cancelling(Task<Void, Never>)
        case finished
    }

    private let process: Int32
    private let canceller: BackendCanceller
    private let logger: Logger
    private let state = Mutex(State.running)

    init(process: Int32, canceller: BackendCanceller, logger: Logger) {
        self.process = process
        self.canceller = canceller
        self.logger = logger
    }

    func cancel() {
        self.state.withLock { state in
            guard case .running = state else { return }
            let (canceller, process, logger) = (self.canceller, self.process, self.logger)
            state = .cancelling(Task { await canceller.cancel(process: process, logger: logger) })
        }
    }

    func finish() async {
        let pending = self.state.withLock { state -> Task<Void, Never>? in
            defer { state = .finished }
            if case .cancelling(let task) = state { return task }
            return nil
        }
        await pending?.value
    }
}
