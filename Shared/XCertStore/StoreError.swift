import PostgresNIO

/// A database failure, classified once by what the caller can do about it: the database
/// unreachable (retry later), a race a retry can resolve, a statement cut off by its
/// deadline, the work cancelled, or anything else. The database's own text stays in
/// ``underlying``, for the log; the service kit turns the ``Code`` into a wire status.
public struct StoreError: Error, CustomDebugStringConvertible {
    /// What kind of failure, as far as a caller can act on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The database cannot be reached, or refuses connections for now.
        public static let unavailable = Code("unavailable")
        /// A concurrent change conflicted (unique violation, serialization failure,
        /// deadlock, lock not available): the same work may succeed when retried.
        public static let conflict = Code("conflict")
        /// The statement ran past the deadline it was given (`statement_timeout`).
        public static let deadlineExceeded = Code("deadline exceeded")
        /// The query was cancelled before it finished.
        public static let cancelled = Code("cancelled")
        /// Anything else: a defect, or a state of the database no caller can fix.
        public static let `internal` = Code("internal")

        public var description: String { self.name }
    }

    public let code: Code
    /// The original error, for logs; nil when the store itself refused (the database known
    /// to be unreachable).
    public let underlying: (any Error)?

    public init(_ code: Code, underlying: (any Error)? = nil) {
        self.code = code
        self.underlying = underlying
    }

    /// Maps an error thrown by PostgresNIO; any other error (a handler's own, thrown inside
    /// a transaction, or cancellation) passes through unchanged.
    public static func mapping(_ error: any Error) -> any Error {
        switch error {
        case let transaction as PostgresTransactionError:
            return Self.mapping(transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error)
        case let psql as PSQLError:
            return StoreError(Self.code(of: psql), underlying: psql)
        default:
            return error
        }
    }

    /// The PostgreSQL error code (SQLSTATE), when the server sent one.
    public var sqlState: String? {
        (self.underlying as? PSQLError)?.serverInfo?[.sqlState]
    }

    private static func code(of error: PSQLError) -> Code {
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            switch state {
            case "23505", "40001", "40P01", "55P03": return .conflict
            case "57014": return .deadlineExceeded
            case _ where state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300": return .unavailable
            default: return .internal
            }
        case .queryCancelled:
            return .cancelled
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return .unavailable
        default:
            return .internal
        }
    }

    public var debugDescription: String {
        "\(self.code): \(self.underlying.map { String(reflecting: $0) } ?? "the database is known to be unreachable")"
    }
}
