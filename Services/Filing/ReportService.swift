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
        checks.requireYear(request.year, "year", "the report's pilot year")
        ReportContentChecks.check(request.content, &checks)
        try checks.check()
        try await self.requireOwnCertificates(request.content, organizationID: organizationID, call)
        let json = try request.content.jsonString(options: .stored)

        return try await self.context.idempotency.perform(call) { connection in
            let live = try await ReportStore.liveVersions(organization: organizationID, year: request.year, connection, call.logger)
            try ReviewedSubmission.requireNoneLive(live, kind: .report, subject: "for \(request.year)")
            let id = try await ReportStore.insert(
                organization: organizationID, year: request.year, contentJSON: json, submittedBy: organization.name, connection, call.logger
            )
            return try await ReportStore.report(id, organization: nil, connection, call.logger)
        }
    }

    @Sendable
    func getReport(_ request: Xcert_Filing_V1_GetReportRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_YearlyReport {
        let organization = try await Callers.readerOrganization(self.context, call)
        return try await self.context.database.read(call) { connection in
            try await ReportStore.report(request.id, organization: organization, connection, call.logger)
        }
    }

    @Sendable
    func listReports(
        _ request: Xcert_Filing_V1_ListReportsRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListReportsResponse {
        let organization = try await Callers.readerOrganization(self.context, call)
        let page = try Paging(request.page, field: "page")
        if let organization, request.organizationID != 0, request.organizationID != organization {
            return Xcert_Filing_V1_ListReportsResponse()
        }
        var filter = ReportStore.Filter()
        filter.organizationID = organization ?? (request.organizationID == 0 ? nil : request.organizationID)
        filter.year = request.year == 0 ? nil : request.year
        filter.state = ReportStates.stored(request.state)
        filter.latestOnly = !request.allVersions
        filter.after = page.after
        filter.limit = page.size + 1
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_ListReportsResponse()
            (response.reports, response.page) = page.cut(try await ReportStore.reports(filter, connection, call.logger), id: \.id)
            return response
        }
    }

    @Sendable
    func withdrawReport(
        _ request: Xcert_Filing_V1_WithdrawReportRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_YearlyReport {
        let organizationID = try call.caller().organizationID()
        let withdrawal = try ReviewedSubmission.Withdrawal(reason: request.reason, of: .report)
        return try await self.context.idempotency.perform(call) { connection in
            let report = try await ReportStore.report(request.id, organization: organizationID, connection, call.logger)
            guard let state = ReportStates.lifecycle(report.state) else {
                throw RPCError(.internal, "report \(report.id) has no known state")
            }
            var submission = ReviewedSubmission(kind: .report, id: report.id, state: state)
            let event = try submission.withdraw(withdrawal)
            try await ReviewStore.record(event, .report, report.id, connection, call.logger)
            return try await ReportStore.report(report.id, organization: nil, connection, call.logger)
        }
    }

    @Sendable
    func reviewReport(_ request: Xcert_Filing_V1_ReviewReportRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_YearlyReport {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require(request.id > 0, "id", "must name a report")
        checks.require(
            !(request.accept && request.withDifferences), "with_differences", "only a report returned is returned with its differences")
        var differences: [Xcert_Filing_V1_ReportDifference] = []
        var reason = request.reason
        if request.withDifferences && !request.accept {
            try checks.check()
            let report = try await self.context.database.read(call) { connection in
                try await ReportStore.report(request.id, organization: nil, connection, call.logger)
            }
            differences = try await ReportReconciler(context: self.context).reconcile(report, call).differences
            guard !differences.isEmpty else {
                throw RPCError(
                    .failedPrecondition,
                    "report \(request.id) agrees with the system's figures; there are no differences to return it with")
            }
            reason = Self.reason(request.reason, listing: differences)
        }
        let decision = try checks.collect { try ReviewedSubmission.Decision(approve: request.accept, reason: reason, of: .report) }
        try checks.check()
        guard let decision else { throw RPCError(.internal, "the review's decision was not checked") }
        let returnedWith = differences
        return try await self.context.idempotency.perform(call) { connection in
            var submission = try await ReviewStore.lockForReview(.report, request.id, connection, call.logger)
            let event = try submission.review(decision, reviewer: admin.name, now: Date())
            try await ReviewStore.record(event, .report, request.id, connection, call.logger)
            if !returnedWith.isEmpty {
                try await ReportStore.saveReturnedWith(returnedWith, report: request.id, connection, call.logger)
            }
            return try await ReportStore.report(request.id, organization: nil, connection, call.logger)
        }
    }

    /// The reason of a report returned with its differences: the province's own words, then
    /// the differences one by one, cut to the longest reason kept (every difference is kept
    /// whole in `returned_with`).
    static func reason(_ own: String, listing differences: [Xcert_Filing_V1_ReportDifference]) -> String {
        let listed = differences.map { difference in
            let level = CertificateLevel(wire: difference.level)?.chineseName ?? ""
            let line = difference.training.isEmpty ? "\(difference.certificateCode) \(level)" : difference.training
            let what = "\(line) \(difference.label)"
            return difference.lineMissing
                ? "\(what) 缺少该行（系统 \(difference.recorded)）" : "\(what) 填报 \(difference.reported)，系统 \(difference.recorded)"
        }
        let head = own.trimmingCharacters(in: .whitespacesAndNewlines)
        let text = (head.isEmpty ? "" : head + "\n") + "与系统记录不符 \(differences.count) 处：" + listed.joined(separator: "；")
        let limit = ReviewReason.maximumLength
        return text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    @Sendable
    func getReportReconciliation(
        _ request: Xcert_Filing_V1_GetReportReconciliationRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ReportReconciliation {
        let organization = try await Callers.readerOrganization(self.context, call)
        var checks = FieldChecks()
        checks.require(request.reportID > 0, "report_id", "must name a report")
        try checks.check()
        let report = try await self.context.database.read(call) { connection in
            try await ReportStore.report(request.reportID, organization: organization, connection, call.logger)
        }
        return try await ReportReconciler(context: self.context).reconcile(report, call)
    }

    /// Every certificate a report names must be the organization's own, as the registry has it.
    private func requireOwnCertificates(
        _ content: Xcert_Filing_V1_YearlyReportContent, organizationID: Int64, _ call: RequestContext
    ) async throws {
        let own = Set(try await self.context.referenceData(for: call).allCertificates(of: organizationID).map(\.code))
        var checks = FieldChecks()
        for (field, code) in ReportContentChecks.certificates(content) where !own.contains(code) {
            checks.fail(field, "\(code) is not one of this organization's certificates in the registry")
        }
        try checks.check()
    }

    @Sendable
    func getTextbookTable(
        _ request: Xcert_Filing_V1_GetTextbookTableRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_GetTextbookTableResponse {
        let organization = try await Callers.readerOrganization(self.context, call)
        var checks = FieldChecks()
        checks.requireYear(request.year, "year", "the reports' pilot year")
        try checks.check()
        var filter = ReportStore.Filter()
        filter.organizationID = organization
        filter.year = request.year
        filter.liveOnly = true
        let reports = try await self.context.database.read(call) { connection in
            try await ReportStore.reports(filter, connection, call.logger)
        }.sorted { ($0.organizationID, $0.id) < ($1.organizationID, $1.id) }
        let registry = self.context.referenceData(for: call)
        let certificates = Dictionary(
            try await registry.allCertificates(of: organization).map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        var names: [Int64: String] = [:]
        for id in Set(reports.map(\.organizationID)) {
            var get = Xcert_Registry_V1_GetOrganizationRequest()
            get.id = id
            names[id] = try await registry.getOrganization(get).name
        }
        var response = Xcert_Filing_V1_GetTextbookTableResponse()
        for report in reports {
            for book in report.content.textbooks {
                var line = Xcert_Filing_V1_TextbookLine()
                line.number = Int32(response.lines.count + 1)
                line.title = book.title
                line.authors = Array(book.authors.prefix(5))
                line.publisher = book.publisher
                line.publishedOn = book.publishedOn
                line.nationalPlanning = book.nationalPlanning
                line.certificateCode = book.certificateCode
                line.certificateName = certificates[book.certificateCode] ?? ""
                line.level = book.level
                line.organizationID = report.organizationID
                line.organizationName = names[report.organizationID] ?? ""
                line.reportID = report.id
                line.reportState = report.state
                response.lines.append(line)
            }
        }
        response.nationalPlanning = Int32(response.lines.count { $0.nationalPlanning })
        return response
    }
}
