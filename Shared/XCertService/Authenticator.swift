import Crypto
import Foundation
import PostgresNIO
import XCertStore
import XCertWire

/// The one token check of every service: turns the `authorization` metadata into a
/// ``Principal``, or refuses the call.
///
/// Tokens are looked up by their SHA-256 (the only form stored) in the registry's
/// `principals` and `tokens` tables. A found principal is cached for at most
/// ``cacheLifetime``, so a revoked or expired token stops working everywhere within
/// that time; unknown tokens are never cached, so a new token works at once.
public final class Authenticator: Sendable {
    /// How long a token's principal is trusted without asking the database again.
    public static let cacheLifetime: Duration = .seconds(5)

    private let database: Database
    /// Principals by token digest.
    private let cache = ExpiringCache<Data, Principal>(lifetime: Authenticator.cacheLifetime, capacity: 10_000)
    private let limits: CallLimits

    public init(database: Database, limits: CallLimits = CallLimits(.unlimited)) {
        self.database = database
        self.limits = limits
    }

    /// The caller, or UNAUTHENTICATED when the token is missing, malformed, unknown,
    /// revoked or expired; RESOURCE_EXHAUSTED when the caller is past its limit of calls
    /// (``CallLimits``).
    public func authenticate(_ context: RequestContext) async throws -> Principal {
        let principal = try await self.principal(context)
        try self.limits.admit(principal, method: context.method)
        return principal
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
        guard let principal = try await self.lookUp(digest: digest, context: context) else {
            self.cache.remove(digest)
            throw RPCError(.unauthenticated, "the token is unknown, revoked or expired")
        }
        self.cache.insert(principal, for: digest, now: now)
        return principal
    }

    /// The caller, provided its role is one of `roles`; PERMISSION_DENIED otherwise.
    public func authorize(_ context: RequestContext, allowing roles: Set<Principal.Role>) async throws -> Principal {
        let principal = try await self.authenticate(context)
        guard roles.contains(principal.role) else {
            throw RPCError(.permissionDenied, "the role \(principal.role) may not call \(context.method)")
        }
        return principal
    }

    private func lookUp(digest: Data, context: RequestContext) async throws -> Principal? {
        try await self.database.transaction(context) { connection in
            let rows = try await connection.query(
                """
                SELECT p.id, p.name, p.role, p.party
                FROM registry.tokens t JOIN registry.principals p ON p.id = t.principal_id
                WHERE t.token_sha256 = \(digest) AND t.revoked_at IS NULL
                  AND (t.expires_at IS NULL OR t.expires_at > now())
                """,
                logger: context.logger
            )
            for try await (id, name, role, party) in rows.decode((Int64, String, String, String?).self) {
                guard let role = Principal.Role(rawValue: role) else { return nil }
                return Principal(id: id, name: name, role: role, party: party)
            }
            return nil
        }
    }

    /// The SHA-256 of a token, the only form in which tokens are stored.
    public static func digest(of token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    /// A new random token (256 bits, URL-safe base64, prefixed `xct_`) and its digest.
    public static func newToken() -> (token: String, digest: Data) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = "xct_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return (token, Self.digest(of: token))
    }
}
