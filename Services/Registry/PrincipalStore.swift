import Foundation
import Logging
import PostgresNIO
import XCertProto
import XCertService
import XCertWire

/// The registry's SQL for principals (`registry.principals`) and their tokens
/// (`registry.tokens`, which hold only each token's SHA-256).
enum PrincipalStore {
    // MARK: - Principals

    /// Adds a principal; nil when the database returned none.
    static func addPrincipal(
        name: String, role: Principal.Role, party: String?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_Principal? {
        let rows = try await connection.query(
            """
            INSERT INTO registry.principals (name, role, party) VALUES (\(name), \(role.rawValue), \(party))
            RETURNING id, name, role, party, created_at
            """,
            logger: logger
        )
        for try await row in rows.decode(PrincipalRow.self) { return message(row) }
        return nil
    }

    /// Principals (of the stored `role` only, when set) after id `after`, by id.
    static func principals(
        role: String?, after: Int64, limit: Int, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_Principal] {
        let rows = try await connection.query(
            """
            SELECT id, name, role, party, created_at FROM registry.principals
            WHERE id > \(after) AND (\(role)::text IS NULL OR role = \(role))
            ORDER BY id LIMIT \(limit)
            """,
            logger: logger
        )
        var principals: [Xcert_Registry_V1_Principal] = []
        for try await row in rows.decode(PrincipalRow.self) { principals.append(message(row)) }
        return principals
    }

    // MARK: - Tokens

    /// Adds a token of principal `principal` by its SHA-256, expiring after `validDays` (never
    /// when nil); nil when there is no such principal.
    static func addToken(
        principal: Int64, digest: Data, label: String, validDays: Int32?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_Token? {
        let rows = try await connection.query(
            """
            INSERT INTO registry.tokens (principal_id, token_sha256, label, expires_at)
            SELECT id, \(digest), \(label), now() + make_interval(days => \(validDays))
            FROM registry.principals WHERE id = \(principal)
            RETURNING id, principal_id, label, created_at, expires_at, revoked_at
            """,
            logger: logger
        )
        for try await row in rows.decode(TokenRow.self) { return message(row) }
        return nil
    }

    /// Revokes token `id` now, unless it is revoked already (then it stays as it was); the
    /// token, or nil when there is none.
    static func revokeToken(_ id: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Registry_V1_Token? {
        let rows = try await connection.query(
            """
            UPDATE registry.tokens SET revoked_at = coalesce(revoked_at, now())
            WHERE id = \(id)
            RETURNING id, principal_id, label, created_at, expires_at, revoked_at
            """,
            logger: logger
        )
        for try await row in rows.decode(TokenRow.self) { return message(row) }
        return nil
    }

    /// Tokens (of `principal` only, when set; revoked ones only with `includeRevoked`) after id
    /// `after`, by id.
    static func tokens(
        principal: Int64?, includeRevoked: Bool, after: Int64, limit: Int, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_Token] {
        let rows = try await connection.query(
            """
            SELECT id, principal_id, label, created_at, expires_at, revoked_at FROM registry.tokens
            WHERE id > \(after)
              AND (\(principal)::bigint IS NULL OR principal_id = \(principal))
              AND (\(includeRevoked) OR revoked_at IS NULL)
            ORDER BY id LIMIT \(limit)
            """,
            logger: logger
        )
        var tokens: [Xcert_Registry_V1_Token] = []
        for try await row in rows.decode(TokenRow.self) { tokens.append(message(row)) }
        return tokens
    }
}

// MARK: - Rows

private typealias PrincipalRow = (Int64, String, String, String?, Date)
private typealias TokenRow = (Int64, Int64, String, Date, Date?, Date?)

/// A `registry.principals` row as its message.
private func message(_ row: PrincipalRow) -> Xcert_Registry_V1_Principal {
    var principal = Xcert_Registry_V1_Principal()
    principal.id = row.0
    principal.name = row.1
    principal.role = Principal.Role(rawValue: row.2)?.wire ?? .unspecified
    principal.party = row.3 ?? ""
    principal.createdAt = .init(row.4)
    return principal
}

/// A `registry.tokens` row as its message.
private func message(_ row: TokenRow) -> Xcert_Registry_V1_Token {
    var token = Xcert_Registry_V1_Token()
    token.id = row.0
    token.principalID = row.1
    token.label = row.2
    token.createdAt = .init(row.3)
    if let expires = row.4 { token.expiresAt = .init(expires) }
    if let revoked = row.5 { token.revokedAt = .init(revoked) }
    return token
}
