import Crypto
import Foundation
import PostgresNIO
import XCertStore
import XCertWire

/// The one token check of every service, run by the server before any handler
/// (``CallAdmission``): turns the `authorization` metadata into a ``Principal``, or
/// refuses the call; then takes the call from the caller's rate limit.
///
/// Tokens are looked up by their SHA-256 (the only form stored) in the registry's
/// `principals` and `tokens` tables. A found principal is cached for at most
/// ``cacheLifetime``, so a revoked or expired token stops working everywhere within
/// that time. An unknown token is remembered as unknown for ``missLifetime``, so
/// repeating it costs at most one database look-up per token in that time; calls without
/// a valid token are limited per client address (``CallLimits``).
public final class Authenticator: CallAdmission {
    /// How long a token's principal is trusted without asking the database again.
    public static let cacheLifetime: Duration = .seconds(5)
    /// How long an unknown token is answered UNAUTHENTICATED without asking the database.
    /// Short: a token is random, so only a guesser repeats an unknown one.
    public static let missLifetime: Duration = .seconds(2)

    private let database: Database
    /// Principals by token digest.
    private let cache = ExpiringCache<Data, Principal>(lifetime: Authenticator.cacheLifetime, capacity: 10_000)
    /// Digests of tokens the database did not know.
    private let misses = ExpiringCache<Data, Bool>(lifetime: Authenticator.missLifetime, capacity: 10_000)
    private let limits: CallLimits

    public init(database: Database, limits: CallLimits = CallLimits(.unlimited)) {
        self.database = database
        self.limits = limits
    }

    /// The caller, or UNAUTHENTICATED when the token is missing, malformed, unknown,
    /// revoked or expired; RESOURCE_EXHAUSTED when its address has sent too many calls
    /// without a valid token.
    public func authenticate(_ context: RequestContext) async throws -> Principal {
        do {
            return try await self.principal(context)
        } catch let error as RPCError where error.code == .unauthenticated {
            try self.limits.admitUnauthenticated(from: context.clientAddress)
            throw error
        }
    }

    public func limit(_ principal: Principal, _ limitClass: MethodContract.LimitClass) throws {
        try self.limits.admit(principal, limitClass: limitClass)
    }

    /// Takes a call of a public method that answers about someone (a certificate's check)
    /// from its address's limit of calls without a token: such answers are not to be mined.
    public func limitWithoutToken(_ context: RequestContext) throws {
        try self.limits.admitUnauthenticated(from: context.clientAddress)
    }

    private func principal(_ context: RequestContext) async throws -> Principal {
        guard let header = context.metadata["authorization"] else {
            throw RPCError(.unauthenticated, "this method needs the metadata authorization: Bearer <token>")
        }
        guard header.hasPrefix("Bearer "), case let token = header.dropFirst("Bearer ".count), !token.isEmpty else {
            throw RPCError(.unauthenticated, "the authorization metadata must be \"Bearer <token>\"")
        }
        let digest = Self.digest(of: String(token))
        let now = ContinuousClock.now
        if let principal = self.cache.value(for: digest, now: now) {
            return principal
        }
        let unknown = RPCError(.unauthenticated, "the token is unknown, revoked or expired")
        if self.misses.value(for: digest, now: now) != nil {
            throw unknown
        }
        // Counted from the question, not the answer, as the cache of principals is.
        guard let principal = try await self.lookUp(digest: digest, context: context) else {
            self.cache.remove(digest)
            self.misses.insert(true, for: digest, now: now)
            throw unknown
        }
        self.misses.remove(digest)
        self.cache.insert(principal, for: digest, now: now)
        return principal
    }

    private func lookUp(digest: Data, context: RequestContext) async throws -> Principal? {
        try await self.database.read(context) { connection in
            for try await (id, name, role, party) in try await connection.execute(TokenStatement(digest: digest), logger: context.logger) {
                guard let role = Principal.Role(rawValue: role) else { return nil }
                return Principal(id: id, name: name, role: role, party: party)
            }
            return nil
        }
    }

    /// The token check's statement, prepared once per connection: every call whose token is
    /// not cached runs it.
    struct TokenStatement: PostgresPreparedStatement {
        static let name = "token_check"
        static let sql = """
            SELECT p.id, p.name, p.role, p.party
            FROM registry.tokens t JOIN registry.principals p ON p.id = t.principal_id
            WHERE t.token_sha256 = $1::bytea AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
            """
        typealias Row = (Int64, String, String, String?)

        var digest: Data

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            try bindings.append(self.digest)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The SHA-256 of a token, the only form in which tokens are stored.
    public static func digest(of token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    /// A new random token (256 bits, URL-safe base64, prefixed `xct_`) and its digest.
    public static func newToken() -> (token: String, digest: Data) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token =
            "xct_"
            + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return (token, Self.digest(of: token))
    }
}
