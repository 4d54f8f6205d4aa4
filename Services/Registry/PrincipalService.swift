import Foundation
import Logging
import PostgresNIO
import XCertAPI
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.registry.v1.PrincipalService`: who may call, and their tokens.
///
/// Only province admins manage principals and tokens; any valid token may ask WhoAmI.
/// A new token is returned once and only its SHA-256 is stored; for that reason
/// CreateToken keeps no idempotency record (the record would hold the token) and refuses
/// an `idempotency-key` rather than ignore it: a retried call makes a second token, and
/// the unused one should be revoked. Reflection lists it as not taking a key.
struct PrincipalService: Xcert_Registry_V1_PrincipalService.Handler {
    let context: ServiceContext

    

    // MARK: - Handlers

    @Sendable
    func createPrincipal(_ request: Xcert_Registry_V1_CreatePrincipalRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_Principal {
        let (name, role, party) = try PrincipalValidation.validate(request)
        return try await self.context.idempotency.perform(call) { connection in
            try await Self.checkPartyExists(party, role: role, connection, call.logger)
            let rows = try await connection.query(
                "INSERT INTO registry.principals (name, role, party) VALUES (\(name), \(role.rawValue), \(party)) RETURNING id, name, role, party, created_at",
                logger: call.logger
            )
            for try await row in rows.decode(PrincipalRow.self) { return message(row) }
            throw RPCError(.internal, "the new principal was not returned")
        }
    }

    /// A principal acts for a city, school or organization the registry knows.
    private static func checkPartyExists(_ party: String?, role: Principal.Role, _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard let party else { return }
        let known: Bool
        switch role {
        case .cityReviewer: known = try await !ReferenceStore.cities(codes: [party], connection, logger).isEmpty
        case .school: known = try await !ReferenceStore.schools(codes: [party], connection, logger).isEmpty
        case .organization: known = try await !ReferenceStore.organizations(ids: [Int64(party) ?? 0], connection, logger).isEmpty
        default: known = true
        }
        guard known else {
            throw RPCError.invalidArgument([.init(field: "party", description: "there is no \(role == .cityReviewer ? "city" : role == .school ? "school" : "organization") \(party) in the registry; create it first")])
        }
    }

    @Sendable
    func listPrincipals(_ request: Xcert_Registry_V1_ListPrincipalsRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_ListPrincipalsResponse {
        let page = try Paging(request.page, field: "page")
        let role: String? = request.role == .unspecified ? nil : try PrincipalValidation.role(request.role, field: "role").rawValue
        return try await self.context.database.transaction(call) { connection in
            let rows = try await connection.query(
                """
                SELECT id, name, role, party, created_at FROM registry.principals
                WHERE id > \(page.after) AND (\(role)::text IS NULL OR role = \(role))
                ORDER BY id LIMIT \(page.size + 1)
                """,
                logger: call.logger
            )
            var principals: [Xcert_Registry_V1_Principal] = []
            for try await row in rows.decode(PrincipalRow.self) { principals.append(message(row)) }
            var response = Xcert_Registry_V1_ListPrincipalsResponse()
            (response.principals, response.page) = page.cut(principals, id: \.id)
            return response
        }
    }

    @Sendable
    func createToken(_ request: Xcert_Registry_V1_CreateTokenRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_CreateTokenResponse {
        var violations: [RPCError.FieldViolation] = []
        if call.idempotencyKey != nil {
            violations.append(.init(
                field: "metadata.idempotency-key",
                description: "CreateToken takes none: its answer (the token) is never stored; revoke a token made by a retry"
            ))
        }
        if request.principalID <= 0 { violations.append(.init(field: "principal_id", description: "must name a principal (a positive id)")) }
        if request.label.count > 200 { violations.append(.init(field: "label", description: "must be at most 200 characters")) }
        if !(0...3650).contains(request.validDays) { violations.append(.init(field: "valid_days", description: "must be 0 (no expiry) to 3650")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }

        let (token, digest) = Authenticator.newToken()
        let validDays = request.validDays == 0 ? nil : request.validDays
        return try await self.context.database.transaction(call) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO registry.tokens (principal_id, token_sha256, label, expires_at)
                SELECT id, \(digest), \(request.label), now() + make_interval(days => \(validDays))
                FROM registry.principals WHERE id = \(request.principalID)
                RETURNING id, principal_id, label, created_at, expires_at, revoked_at
                """,
                logger: call.logger
            )
            for try await row in rows.decode(TokenRow.self) {
                var response = Xcert_Registry_V1_CreateTokenResponse()
                response.token = token
                response.info = message(row)
                return response
            }
            throw RPCError(.notFound, "there is no principal \(request.principalID)")
        }
    }

    @Sendable
    func revokeToken(_ request: Xcert_Registry_V1_RevokeTokenRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_Token {
        let admin = try call.caller()
        guard request.tokenID > 0 else {
            throw RPCError.invalidArgument([.init(field: "token_id", description: "must name a token (a positive id)")])
        }
        return try await self.context.idempotency.perform(call) { connection in
            // Revoking a revoked token changes nothing and answers the same.
            let rows = try await connection.query(
                """
                UPDATE registry.tokens SET revoked_at = coalesce(revoked_at, now())
                WHERE id = \(request.tokenID)
                RETURNING id, principal_id, label, created_at, expires_at, revoked_at
                """,
                logger: call.logger
            )
            for try await row in rows.decode(TokenRow.self) {
                call.logger.notice("token revoked", metadata: [
                    "token": "\(request.tokenID)", "by": "\(admin.id)", "reason": "\(request.reason)",
                ])
                return message(row)
            }
            throw RPCError(.notFound, "there is no token \(request.tokenID)")
        }
    }

    @Sendable
    func listTokens(_ request: Xcert_Registry_V1_ListTokensRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_ListTokensResponse {
        let page = try Paging(request.page, field: "page")
        let principal: Int64? = request.principalID == 0 ? nil : request.principalID
        return try await self.context.database.transaction(call) { connection in
            let rows = try await connection.query(
                """
                SELECT id, principal_id, label, created_at, expires_at, revoked_at FROM registry.tokens
                WHERE id > \(page.after)
                  AND (\(principal)::bigint IS NULL OR principal_id = \(principal))
                  AND (\(request.includeRevoked) OR revoked_at IS NULL)
                ORDER BY id LIMIT \(page.size + 1)
                """,
                logger: call.logger
            )
            var tokens: [Xcert_Registry_V1_Token] = []
            for try await row in rows.decode(TokenRow.self) { tokens.append(message(row)) }
            var response = Xcert_Registry_V1_ListTokensResponse()
            (response.tokens, response.page) = page.cut(tokens, id: \.id)
            return response
        }
    }

    @Sendable
    func whoAmI(_ request: Xcert_Registry_V1_WhoAmIRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_Principal {
        let principal = try call.caller()
        var message = Xcert_Registry_V1_Principal()
        message.id = principal.id
        message.name = principal.name
        message.role = principal.role.wire
        message.party = principal.party ?? ""
        return message
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
