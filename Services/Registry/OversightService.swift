import Foundation
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.registry.v1.OversightService`: the province's oversight of training & evaluation
/// organizations (001 §四.1, 004 第22条): irregularities, suspension, reinstatement and exit,
/// and the standing feed the other services follow. Every principal reads; province admins
/// decide.
struct OversightService: Xcert_Registry_V1_OversightService.Handler {
    let context: ServiceContext

    @Sendable
    func recordOrganizationIrregularity(
        _ request: Xcert_Registry_V1_RecordOrganizationIrregularityRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_OrganizationOversight {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require(request.organizationID > 0, "organization_id", "must name an organization (a positive id)")
        let kind = OrganizationIrregularityKinds.stored(request.kind)
        checks.require(kind != nil, "kind", "must be AGENTS, FORCED_PURCHASE, FEES, AGREEMENT or OTHER")
        let description = request.description_p.trimmed
        checks.require((1...1000).contains(description.count), "description", "must say what happened, 1 to 1000 characters")
        checks.requireYear(request.year, "year", "the pilot year it happened in")
        try checks.check()
        guard let kind else { throw RPCError(.internal, "the irregularity's kind was not checked") }
        return try await self.context.idempotency.perform(call) { connection in
            _ = try await OversightStore.lockStanding(request.organizationID, connection, call.logger)
            try await OversightStore.addIrregularity(
                organization: request.organizationID, kind: kind, description: description, year: request.year, recordedBy: admin.name,
                connection, call.logger
            )
            return try await OversightStore.oversight(request.organizationID, connection, call.logger)
        }
    }

    @Sendable
    func setOrganizationStanding(
        _ request: Xcert_Registry_V1_SetOrganizationStandingRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_OrganizationOversight {
        let admin = try call.caller()
        let now = Date()
        var checks = FieldChecks()
        checks.require(request.organizationID > 0, "organization_id", "must name an organization (a positive id)")
        let standing = OrganizationStanding(wire: request.standing)
        checks.require(standing != nil, "standing", "must be ACTIVE, SUSPENDED or EXITED")
        let effectiveOn =
            request.hasEffectiveOn ? LocalDate(wire: request.effectiveOn) : LocalDate(containing: Int64(now.timeIntervalSince1970))
        checks.require(effectiveOn != nil, "effective_on", "must be a date that exists, or absent for today")
        checks.require(request.expectedVersion >= 0, "expected_version", "must be 0 or the organization's version")
        try checks.check()
        guard let standing, let effectiveOn else { throw RPCError(.internal, "the decision was not checked") }
        return try await self.context.idempotency.perform(call) { connection in
            let current = try await OversightStore.lockStanding(request.organizationID, connection, call.logger)
            if request.expectedVersion != 0 && current.version != request.expectedVersion {
                throw RPCError(
                    .aborted,
                    """
                    organization \(request.organizationID) is at version \(current.version), not \(request.expectedVersion): \
                    someone changed it meanwhile; read it again
                    """
                )
            }
            let next = try current.standing.change(to: standing, reason: request.reason, effectiveOn: effectiveOn, now: now)
            try await OversightStore.record(
                .init(
                    organization: request.organizationID, previous: current.standing, standing: next, reason: request.reason.trimmed,
                    effectiveOn: effectiveOn, decidedBy: admin.name),
                connection, call.logger
            )
            call.logger.notice(
                "organization standing changed",
                metadata: ["organization": "\(request.organizationID)", "standing": "\(next.rawValue)", "by": "\(admin.id)"])
            return try await OversightStore.oversight(request.organizationID, connection, call.logger)
        }
    }

    @Sendable
    func getOrganizationOversight(
        _ request: Xcert_Registry_V1_GetOrganizationOversightRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_OrganizationOversight {
        try await self.context.database.read(call) { connection in
            try await OversightStore.oversight(request.organizationID, connection, call.logger)
        }
    }

    @Sendable
    func listStandingChanges(
        _ request: Xcert_Registry_V1_ListStandingChangesRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListStandingChangesResponse {
        let page = try await FeedPaging.changes(after: request.after, limit: request.limit, cursor: { $0.cursor }, self.context, call) {
            after, limit, connection, logger in
            try await OversightStore.changes(where: .feed(after: after, limit: limit), connection, logger)
        }
        var response = Xcert_Registry_V1_ListStandingChangesResponse()
        (response.changes, response.nextCursor) = page
        return response
    }
}
