import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Reconciles an organization's yearly report with what the system holds (003's footnotes
/// *1–*4): the filing service's own sealed rosters, the registry's sites and teacher trainings
/// and settlement's ledger (asked over the wire), and the report's own textbook list.
/// The rule itself is ``ReportReconciliation`` of the domain.
struct ReportReconciler {
    let context: ServiceContext

    /// The report's differences from the system's figures as they stand now.
    func reconcile(_ report: Xcert_Filing_V1_YearlyReport, _ call: RequestContext) async throws -> Xcert_Filing_V1_ReportReconciliation {
        let rosters = try await self.context.database.read(call) { connection in
            try await ReportStore.rosterFigures(organization: report.organizationID, year: report.year, connection, call.logger)
        }
        var recorded = ReportReconciliation.Figures()
        for line in rosters {
            let key = ReportReconciliation.Line(certificate: line.certificate, level: line.level)
            recorded.add(line.declared, .declared, of: key)
            recorded.add(line.approved, .approved, of: key)
            recorded.add(line.completed, .completed, of: key)
            recorded.add(line.passed, .passed, of: key)
            // Every session of a roster is held at a site in the province: who sat there.
            recorded.add(line.completed, .candidatesAssessed, of: key)
            recorded.add(line.sessions, .examSessions, of: key)
        }
        for site in try await self.sites(of: report.organizationID, openedBy: report.year, call) {
            for level in site.levels.compactMap(CertificateLevel.init(wire:)) {
                recorded.add(1, .sites, of: .init(certificate: site.certificateCode, level: level))
            }
        }
        for fee in try await self.fees(of: report.organizationID, year: report.year, call) {
            guard let level = CertificateLevel(wire: fee.level) else { continue }
            let key = ReportReconciliation.Line(certificate: fee.certificateCode, level: level)
            recorded.add(fee.completed, .feeCompleted, of: key)
            recorded.add(fee.receivable.fen, .receivable, of: key)
            recorded.add(fee.received.fen, .received, of: key)
            recorded.add(fee.outstanding.fen, .outstanding, of: key)
        }
        for session in try await self.trainings(of: report.organizationID, year: report.year, call) {
            guard let start = LocalDate(wire: session.startOn) else { continue }
            let key = ReportReconciliation.Line(training: session.trainingName, startingOn: start)
            recorded.add(Int64(session.days), .trainingDays, of: key)
            recorded.add(session.participantsProvince, .participants, of: key)
        }
        for book in report.content.textbooks {
            guard let level = CertificateLevel(wire: book.level) else { continue }
            recorded.add(1, .publishedTextbooks, of: .init(certificate: book.certificateCode, level: level))
        }

        let result = ReportReconciliation.compare(reported: Self.figures(of: report.content), recorded: recorded)
        var reconciliation = Xcert_Filing_V1_ReportReconciliation()
        reconciliation.reportID = report.id
        reconciliation.organizationID = report.organizationID
        reconciliation.year = report.year
        reconciliation.version = report.version
        reconciliation.figuresChecked = Int32(clamping: result.figuresChecked)
        reconciliation.differences = result.differences.map(Self.wire)
        return reconciliation
    }

    /// The figures a report's content states, line by line.
    static func figures(of content: Xcert_Filing_V1_YearlyReportContent) -> ReportReconciliation.Figures {
        var figures = ReportReconciliation.Figures()
        for exam in content.exams {
            guard let level = CertificateLevel(wire: exam.level) else { continue }
            let key = ReportReconciliation.Line(certificate: exam.certificateCode, level: level)
            figures.add(exam.province.declared, .declared, of: key)
            figures.add(exam.province.approved, .approved, of: key)
            figures.add(exam.province.completed, .completed, of: key)
            figures.add(exam.province.passed, .passed, of: key)
        }
        for training in content.trainings {
            guard let start = LocalDate(wire: training.startDate) else { continue }
            let key = ReportReconciliation.Line(training: training.name, startingOn: start)
            figures.add(Int64(training.days), .trainingDays, of: key)
            figures.add(training.participantsProvince, .participants, of: key)
        }
        for site in content.sites {
            guard let level = CertificateLevel(wire: site.level) else { continue }
            let key = ReportReconciliation.Line(certificate: site.certificateCode, level: level)
            figures.add(Int64(site.sitesProvince), .sites, of: key)
            figures.add(site.candidatesAssessed, .candidatesAssessed, of: key)
            figures.add(Int64(site.examSessions), .examSessions, of: key)
        }
        for fee in content.fees {
            guard let level = CertificateLevel(wire: fee.level) else { continue }
            let key = ReportReconciliation.Line(certificate: fee.certificateCode, level: level)
            figures.add(fee.completed, .feeCompleted, of: key)
            figures.add(fee.receivable.fen, .receivable, of: key)
            figures.add(fee.received.fen, .received, of: key)
            figures.add(fee.outstanding.fen, .outstanding, of: key)
        }
        for resource in content.resources {
            guard let level = CertificateLevel(wire: resource.level) else { continue }
            figures.add(
                Int64(resource.publishedTextbooks), .publishedTextbooks,
                of: .init(certificate: resource.certificateCode, level: level))
        }
        return figures
    }

    static func wire(_ difference: ReportReconciliation.Difference) -> Xcert_Filing_V1_ReportDifference {
        var wire = Xcert_Filing_V1_ReportDifference()
        wire.table = Xcert_Filing_V1_ReportTable(rawValue: difference.figure.table.rawValue) ?? .unspecified
        wire.certificateCode = difference.line.certificate
        wire.level = difference.line.level?.wire ?? .unspecified
        wire.training = difference.line.training
        wire.figure = difference.figure.rawValue
        wire.label = difference.figure.label
        wire.reported = difference.reported
        wire.recorded = difference.recorded
        wire.source = difference.figure.source
        wire.lineMissing = difference.lineMissing
        return wire
    }

    /// The organization's sites (those of its certificates) opened in `year` or before.
    private func sites(
        of organization: Int64, openedBy year: Int32, _ call: RequestContext
    ) async throws -> [Xcert_Registry_V1_AssessmentSite] {
        let registry = Xcert_Registry_V1_SiteService.Client(self.context.peers.caller("registry", for: call))
        return try await registry.allSites(of: organization).filter { $0.yearOpened <= year }
    }

    /// The trainings the organization gave in `year`, from the registry's teacher trainings.
    private func trainings(of organization: Int64, year: Int32, _ call: RequestContext) async throws -> [Xcert_Registry_V1_TrainingSession]
    {
        var request = Xcert_Registry_V1_GetTrainingSessionsRequest()
        request.year = year
        request.organizationID = organization
        return try await self.context.peers.call(
            "registry", Xcert_Registry_V1_TeacherTrainingService.Method.getTrainingSessions, request, context: call
        ).sessions
    }

    /// Settlement's fee table of the organization's year (003 appendix 2, 一.4).
    private func fees(of organization: Int64, year: Int32, _ call: RequestContext) async throws -> [Xcert_Settlement_V1_FeeLine] {
        var request = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
        request.year = year
        request.organizationID = organization
        return try await self.context.peers.call(
            "settlement", Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, request, context: call
        ).lines
    }
}
