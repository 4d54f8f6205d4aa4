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
    func createPrincipal(
        _ request: Xcert_Registry_V1_CreatePrincipalRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Principal {
        let (name, role, party) = try PrincipalValidation.validate(request)
        return try await self.context.idempotency.perform(call) { connection in
            try await Self.checkPartyExists(party, role: role, connection, call.logger)
            let principal = try await PrincipalStore.addPrincipal(name: name, role: role, party: party, connection, call.logger)
            guard let principal else {
                throw RPCError(.internal, "the new principal was not returned")
            }
            return principal
        }
    }

    /// A principal acts for a reviewing unit (a city or a designated bureau), school or
    /// organization the registry knows.
    private static func checkPartyExists(
        _ party: String?, role: Principal.Role, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        guard let party else { return }
        let known: Bool
        switch role {
        case .cityReviewer: known = try await !ReferenceStore.reviewingUnits(codes: [party], connection, logger).isEmpty
        case .school: known = try await ReferenceStore.findSchool(party, withIrregularities: false, connection, logger) != nil
        case .organization: known = try await !ReferenceStore.organizations(ids: [Int64(party) ?? 0], connection, logger).isEmpty
        default: known = true
        }
        guard known else {
            let kind = role == .cityReviewer ? "reviewing unit (city or designated bureau)" : role == .school ? "school" : "organization"
            throw RPCError.invalidArgument([
                .init(
                    field: "party",
                    description: "there is no \(kind) \(party) in the registry; create it first"
                )
            ])
        }
    }

    @Sendable
    func listPrincipals(
        _ request: Xcert_Registry_V1_ListPrincipalsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListPrincipalsResponse {
        let page = try Paging(request.page, field: "page")
        let role: String? = request.role == .unspecified ? nil : try PrincipalValidation.role(request.role, field: "role").rawValue
        return try await self.context.database.read(call) { connection in
            let principals = try await PrincipalStore.principals(
                role: role, after: page.after, limit: page.size + 1, connection, call.logger
            )
            var response = Xcert_Registry_V1_ListPrincipalsResponse()
            (response.principals, response.page) = page.cut(principals, id: \.id)
            return response
        }
    }

    @Sendable
    func createToken(
        _ request: Xcert_Registry_V1_CreateTokenRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_CreateTokenResponse {
        var violations: [RPCError.FieldViolation] = []
        if call.idempotencyKey != nil {
            violations.append(
                .init(
                    field: "metadata.idempotency-key",
                    description: "CreateToken takes none: its answer (the token) is never stored; revoke a token made by a retry"
                ))
        }
        if request.principalID <= 0 {
            violations.append(.init(field: "principal_id", description: "must name a principal (a positive id)"))
        }
        if request.label.count > 200 { violations.append(.init(field: "label", description: "must be at most 200 characters")) }
        if !(0...3650).contains(request.validDays) {
            violations.append(.init(field: "valid_days", description: "must be 0 (no expiry) to 3650"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }

        let (token, digest) = Authenticator.newToken()
        let validDays = request.validDays == 0 ? nil : request.validDays
        // One statement: no explicit transaction.
        return try await self.context.database.autocommit(logger: call.logger) { connection in
            guard
                let info = try await PrincipalStore.addToken(
                    principal: request.principalID, digest: digest, label: request.label, validDays: validDays, connection, call.logger
                )
            else {
                throw RPCError(.notFound, "there is no principal \(request.principalID)")
            }
            var response = Xcert_Registry_V1_CreateTokenResponse()
            response.token = token
            response.info = info
            return response
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
            guard let token = try await PrincipalStore.revokeToken(request.tokenID, connection, call.logger) else {
                throw RPCError(.notFound, "there is no token \(request.tokenID)")
            }
            call.logger.notice(
                "token revoked",
                metadata: [
                    "token": "\(request.tokenID)", "by": "\(admin.id)", "reason": "\(request.reason)",
                ])
            return token
        }
    }

    @Sendable
    func listTokens(
        _ request: Xcert_Registry_V1_ListTokensRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListTokensResponse {
        let page = try Paging(request.page, field: "page")
        let principal: Int64? = request.principalID == 0 ? nil : request.principalID
        return try await self.context.database.read(call) { connection in
            let tokens = try await PrincipalStore.tokens(
                principal: principal, includeRevoked: request.includeRevoked, after: page.after, limit: page.size + 1,
                connection, call.logger
            )
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
