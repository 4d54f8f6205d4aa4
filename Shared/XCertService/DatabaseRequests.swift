import Logging
import PostgresNIO
import XCertStore
import XCertWire

extension Database {
    /// Runs the reads of `body` on one connection, outside an explicit transaction: the way
    /// a handler reads. Its statements stop when the request's deadline passes (the RPC
    /// server cancels the request's task, and ``Database`` its statement).
    public func read<Result: Sendable>(
        _ call: RequestContext,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.autocommit(logger: call.logger, body)
    }

    /// Runs `body` in one transaction, within the request's deadline: the way a handler
    /// opens a transaction (a change opens its own through ``IdempotencyStore/perform(_:_:)``,
    /// which calls this; a read whose statements must see one state uses ``snapshot(_:_:)``).
    public func transaction<Result: Sendable>(
        _ call: RequestContext,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.transaction(logger: call.logger, body)
    }

    /// Runs the reads of `body` in one read-only transaction that sees one snapshot, within
    /// the request's deadline: for an answer assembled from several statements whose
    /// figures must agree (an account's receivables and payments) while followers write.
    public func snapshot<Result: Sendable>(
        _ call: RequestContext,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.transaction(logger: call.logger, snapshot: true, body)
    }

    /// Runs `body` in one transaction for work outside a request (a feed follower's page):
    /// cancelled, with its statement, when `timeout` has passed.
    public func transaction<Result: Sendable>(
        timeout: Duration,
        logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withTimeout(timeout) {
            try await self.transaction(logger: logger, body)
        }
    }

    /// As ``transaction(timeout:logger:_:)``, outside an explicit transaction: for work
    /// outside a request that is one statement (a cursor read, a purge).
    public func autocommit<Result: Sendable>(
        timeout: Duration,
        logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withTimeout(timeout) {
            try await self.autocommit(logger: logger, body)
        }
    }
}

/// The one mapping of a database failure to the status a client sees. The database's own
/// text is logged with the request, never sent.
extension StoreError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self.code {
        case .unavailable:
            RPCError(.unavailable, "the database is unavailable; retry later with the same idempotency-key")
        case .conflict:
            RPCError(.aborted, "a concurrent change conflicted with this one; retry with the same idempotency-key")
        case .deadlineExceeded:
            RPCError(.deadlineExceeded, "the request's deadline passed while the database worked; nothing was written")
        case .cancelled:
            RPCError(.cancelled, "the request was cancelled; nothing was written")
        default:
            RPCError(.internal, "internal database error; the server logged the details under this request-id")
        }
    }
}
