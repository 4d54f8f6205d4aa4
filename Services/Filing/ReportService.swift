import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.filing.v1.ReportService`: organizations' yearly reports (003 appendix 2),
/// versioned like filings. An organization reads and changes only its own; the province
/// reads all and accepts or returns them.
struct ReportService: Xcert_Filing_V1_ReportService.Handler {
    let context: ServiceContext

    

    @Sendable
    func submitReport(_ request: Xcert_Filing_V1_SubmitReportRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_YearlyReport {
        let organization = try call.caller()
        let organizationID = try organization.organizationID()
        var checks = FieldChecks()
        checks.require((2019...2100).contains(request.year), "year", "must be the report's pilot year, 2019 to 2100; not \(request.year)")
        ReportContentChecks.check(request.content, &checks)
        try checks.check()
        try await self.requireOwnCertificates(request.content, organizationID: organizationID, call)
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        let json = try request.content.jsonString(options: options)

        return try await self.context.idempotency.perform(call) { connection in
            let live = try await connection.query(
                "SELECT id, version, state FROM filing.reports WHERE organization_id = \(organizationID) AND year = \(request.year) AND state IN ('submitted', 'accepted')",
                logger: call.logger
            )
            for try await (id, version, state) in live.decode((Int64, Int32, String).self) {
                throw RPCError(.alreadyExists, "report \(id) (version \(version)) for \(request.year) is \(state); withdraw it or await its review before reporting again")
            }
            let inserted = try await connection.query(
                """
                INSERT INTO filing.reports (organization_id, year, version, state, content, submitted_by)
                SELECT \(organizationID), \(request.year), coalesce(max(version), 0) + 1, 'submitted', \(json)::jsonb, \(organization.name)
                FROM filing.reports WHERE organization_id = \(organizationID) AND year = \(request.year)
                RETURNING id
                """,
                logger: call.logger
            )
            var id: Int64 = 0
            for try await value in inserted.decode(Int64.self) { id = value }
            return try await Self.report(id, organization: nil, connection, call.logger)
        }
    }

    @Sendable
    func getReport(_ request: Xcert_Filing_V1_GetReportRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_YearlyReport {
        let organization = try await Callers.readerOrganization(self.context, call)
        return try await self.context.database.transaction(call) { connection in
            try await Self.report(request.id, organization: organization, connection, call.logger)
        }
    }

    @Sendable
    func listReports(_ request: Xcert_Filing_V1_ListReportsRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_ListReportsResponse {
        let organization = try await Callers.readerOrganization(self.context, call)
        let page = try Paging(request.page, field: "page")
        if let organization, request.organizationID != 0, request.organizationID != organization {
            return Xcert_Filing_V1_ListReportsResponse()
        }
        var filter = Filter()
        filter.organizationID = organization ?? (request.organizationID == 0 ? nil : request.organizationID)
        filter.year = request.year == 0 ? nil : request.year
        filter.state = ReportStates.stored(request.state)
        filter.latestOnly = !request.allVersions
        filter.after = page.after
        filter.limit = page.size + 1
        return try await self.context.database.transaction(call) { connection in
            var response = Xcert_Filing_V1_ListReportsResponse()
            (response.reports, response.page) = page.cut(try await Self.reports(filter, connection, call.logger), id: \.id)
            return response
        }
    }

    @Sendable
    func withdrawReport(_ request: Xcert_Filing_V1_WithdrawReportRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_YearlyReport {
        let organization = try call.caller()
        let organizationID = try organization.organizationID()
        let reason = request.reason.trimmed
        guard (1...1000).contains(reason.count) else {
            throw RPCError.invalidArgument([.init(field: "reason", description: "is required: say why the report is withdrawn (1 to 1000 characters)")])
        }
        return try await self.context.idempotency.perform(call) { connection in
            let report = try await Self.report(request.id, organization: organizationID, connection, call.logger)
            guard report.state == .submitted else {
                throw RPCError(.failedPrecondition, "report \(report.id) is \(ReportStates.stored(report.state) ?? "reviewed"); only a submitted report awaiting review can be withdrawn")
            }
            try await connection.query(
                "UPDATE filing.reports SET state = 'withdrawn', withdrawal_reason = \(reason) WHERE id = \(report.id) AND state = 'submitted'",
                logger: call.logger
            )
            return try await Self.report(report.id, organization: nil, connection, call.logger)
        }
    }

    @Sendable
    func reviewReport(_ request: Xcert_Filing_V1_ReviewReportRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_YearlyReport {
        let admin = try call.caller()
        let reason = request.reason.trimmed
        var checks = FieldChecks()
        checks.require(request.id > 0, "id", "must name a report")
        checks.require(request.accept || !reason.isEmpty, "reason", "is required to return a report: say what the organization must correct")
        checks.require(reason.count <= 1000, "reason", "must be at most 1000 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let updated = try await connection.query(
                """
                UPDATE filing.reports SET state = \(request.accept ? ReportStates.accepted : ReportStates.returned),
                    review_reason = \(reason), reviewer = \(admin.name), reviewed_at = now()
                WHERE id = \(request.id) AND state = 'submitted' RETURNING id
                """,
                logger: call.logger
            )
            var changed = false
            for try await _ in updated.decode(Int64.self) { changed = true }
            let report = try await Self.report(request.id, organization: nil, connection, call.logger)
            guard changed else {
                throw RPCError(.failedPrecondition, "report \(report.id) is \(ReportStates.stored(report.state) ?? "?"); only a submitted report is reviewed")
            }
            return report
        }
    }

    /// Every certificate a report names must be the organization's own, as the registry has it.
    private func requireOwnCertificates(_ content: Xcert_Filing_V1_YearlyReportContent, organizationID: Int64, _ call: RequestContext) async throws {
        let own = Set(try await RegistryLookups.certificates(of: organizationID, self.context, call).map(\.code))
        var checks = FieldChecks()
        for (field, code) in ReportContentChecks.certificates(content) where !own.contains(code) {
            checks.fail(field, "\(code) is not one of this organization's certificates in the registry")
        }
        try checks.check()
    }

    // MARK: - Storage

    struct Filter: Sendable {
        var ids: [Int64]?
        var organizationID: Int64?
        var year: Int32?
        var state: String?
        var latestOnly = false
        var after: Int64 = 0
        var limit = 1000
    }

    static func reports(_ filter: Filter, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Xcert_Filing_V1_YearlyReport] {
        let rows = try await connection.query(
            """
            SELECT r.id, r.organization_id, r.year, r.version, r.state, r.content::text, r.submitted_at, r.submitted_by,
                   coalesce(r.review_reason, ''), coalesce(r.reviewer, ''), r.reviewed_at, coalesce(r.withdrawal_reason, '')
            FROM filing.reports r
            WHERE r.id > \(filter.after)
              AND (\(filter.ids)::bigint[] IS NULL OR r.id = ANY(\(filter.ids)))
              AND (\(filter.organizationID)::bigint IS NULL OR r.organization_id = \(filter.organizationID))
              AND (\(filter.year)::integer IS NULL OR r.year = \(filter.year))
              AND (\(filter.state)::text IS NULL OR r.state = \(filter.state))
              AND (NOT \(filter.latestOnly) OR r.version = (
                  SELECT max(version) FROM filing.reports l WHERE l.organization_id = r.organization_id AND l.year = r.year))
            ORDER BY r.id LIMIT \(filter.limit)
            """,
            logger: logger
        )
        var reports: [Xcert_Filing_V1_YearlyReport] = []
        for try await row in rows.decode((Int64, Int64, Int32, Int32, String, String, Date, String, String, String, Date?, String).self) {
            var report = Xcert_Filing_V1_YearlyReport()
            report.id = row.0
            report.organizationID = row.1
            report.year = row.2
            report.version = row.3
            report.state = ReportStates.wire(row.4)
            report.content = ReportContentChecks.withRates(try Xcert_Filing_V1_YearlyReportContent(jsonString: row.5))
            report.submittedAt = .init(row.6)
            report.submittedBy = row.7
            report.reviewReason = row.8
            report.reviewer = row.9
            if let reviewed = row.10 { report.reviewedAt = .init(reviewed) }
            report.withdrawalReason = row.11
            reports.append(report)
        }
        return reports
    }

    static func report(_ id: Int64, organization: Int64?, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Filing_V1_YearlyReport {
        var filter = Filter(ids: [id])
        filter.organizationID = organization
        guard let report = try await self.reports(filter, connection, logger).first else {
            throw RPCError(.notFound, "there is no report \(id)")
        }
        return report
    }
}

/// `ReportState` as the database keeps it.
enum ReportStates {
    static let submitted = "submitted"
    static let accepted = "accepted"
    static let returned = "returned"
    static let withdrawn = "withdrawn"

    static func stored(_ state: Xcert_Filing_V1_ReportState) -> String? {
        switch state {
        case .submitted: submitted
        case .accepted: accepted
        case .returned: returned
        case .withdrawn: withdrawn
        default: nil
        }
    }

    static func wire(_ stored: String) -> Xcert_Filing_V1_ReportState {
        switch stored {
        case submitted: .submitted
        case accepted: .accepted
        case returned: .returned
        case withdrawn: .withdrawn
        default: .unspecified
        }
    }
}
