import PostgresNIO
import XCertWire

/// A database failure, mapped once to the status a client sees (docs/protocol.md): the
/// database unreachable is UNAVAILABLE, a race a retry can resolve is ABORTED, a
/// statement cut off by the request's deadline is DEADLINE_EXCEEDED, anything else is
/// INTERNAL. The database's own text is kept for the log and never sent.
public struct StoreError: Error, RPCErrorConvertible, CustomDebugStringConvertible {
    public let rpcError: RPCError
    /// The original error, for logs.
    public let underlying: any Error

    /// Maps any error thrown by PostgresNIO; errors that already carry a status (a
    /// handler's own ``RPCError`` thrown inside a transaction) and cancellation pass through.
    public static func mapping(_ error: any Error) -> any Error {
        switch error {
        case let transaction as PostgresTransactionError:
            return Self.mapping(transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error)
        case is any RPCErrorConvertible, is CancellationError:
            return error
        case let psql as PSQLError:
            return StoreError(rpcError: Self.status(of: psql), underlying: psql)
        default:
            return error
        }
    }

    /// The PostgreSQL error code (SQLSTATE), when the server sent one.
    public var sqlState: String? {
        (self.underlying as? PSQLError)?.serverInfo?[.sqlState]
    }

    private static func status(of error: PSQLError) -> RPCError {
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            switch state {
            case "23505", "40001", "40P01", "55P03":
                return RPCError(.aborted, "a concurrent change conflicted with this one; retry with the same idempotency-key")
            case "57014":
                return RPCError(.deadlineExceeded, "the request's deadline passed while the database worked; nothing was written")
            case _ where state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300":
                return RPCError(.unavailable, "the database is unavailable; retry later with the same idempotency-key")
            default:
                return RPCError(.internal, "internal database error; the server logged the details under this request-id")
            }
        case .queryCancelled:
            return RPCError(.cancelled, "the request was cancelled; nothing was written")
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return RPCError(.unavailable, "the database is unavailable; retry later with the same idempotency-key")
        default:
            return RPCError(.internal, "internal database error; the server logged the details under this request-id")
        }
    }

    public var debugDescription: String {
        "\(self.rpcError.code): \(String(reflecting: self.underlying))"
    }
}
