import Foundation
import Logging
import PostgresNIO
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertStore
import XCertTestSupport
import XCertWire

@Suite(
    "Demo: a pilot year driven through the four services, as scripts/up --demo does",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(10)))
struct DemoTests {
    static let year: Int32 = 2025

    @Test(
        """
        xctl demo drives a small year over the wire; every report table equals what the analysts' views return; a second run drives \
        nothing twice
        """
    )
    func smallYear() async throws {
        try await withFullStack { stack in
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/reference")
                .standardized.path
            let registry = ["--registry", "127.0.0.1:\(stack.registry.port)", "--token", stack.admin]
            // The reference data, as scripts/up loads it.
            for arguments in [
                ["registry", "province", "set", "--code", "36", "--name", "江西省"],
                ["registry", "import", "cities", "\(reference)/cities-jiangxi.csv"],
                ["registry", "import", "reviewing-bureaus", "\(reference)/reviewing-bureaus-jiangxi.csv"],
                ["registry", "import", "calendar-days", "\(reference)/working-day-calendar.csv"],
                ["registry", "import", "organizations", "\(reference)/organizations-first-batch.csv"],
                ["registry", "import", "certificates", "\(reference)/certificates-first-batch.csv"],
                ["registry", "import", "certificates", "\(reference)/certificates-jiangxi-2020-small.csv"],
            ] {
                let result = try await runCommand(xctl, arguments + registry)
                try #require(result.status == 0, "xctl \(arguments.joined(separator: " ")): \(result.output)")
            }

            let creditBankFile = FileManager.default.temporaryDirectory.appendingPathComponent(
                "xcert-demo-outcomes-\(UUID().uuidString).csv")
            defer { try? FileManager.default.removeItem(at: creditBankFile) }
            let demo =
                ["demo", "--year", String(Self.year), "--seed", "7", "--schools", "30", "--candidates", "3000", "--token", stack.admin]
                + ["--credit-bank-file", creditBankFile.path] + stack.addressOptions
            let first = try await runCommand(xctl, demo)
            try #require(first.status == 0, "xctl demo: \(first.output.suffix(4000))")
            for expected in [
                "附表1", "附表2", "附表3", "培训评价组织考核费用结算情况", "Summary of the pilot year 2025", "round 1 closed",
                "refused by the 40 % / 30 % caps", "corrected", "secondary schools under 赣江新区社会发展局", "1 outside any application window",
                "reviewed by a designated bureau)", "1 organization suspended (1 roster refused meanwhile), 1 reinstated",
                "3 small certificates given leads by the province, 1 lead replaced", "published textbooks",
                "3 differ from the system's figures (1 returned with them and corrected, 2 awaiting review", "teachers trained in",
                "月度简报", "recorded on receipt, 补录", "2 objections (1 upheld by a correction, 1 rejected",
            ] {
                #expect(first.output.contains(expected), "\(expected) in: \(first.output.suffix(3000))")
            }

            let reports = try await Self.reports(stack)
            let views = try await Self.views(stack)
            #expect(reports.declarations == views.declarations, "appendix table 1 = analytics.school_assessment_detail")
            #expect(reports.examCoverage == views.examCoverage, "the exam coverage table = analytics.exam_coverage")
            #expect(!reports.examCoverage.isEmpty)
            #expect(reports.sites == views.sites, "appendix table 2 = analytics.assessment_sites")
            #expect(reports.outstanding == views.outstanding, "appendix table 3 = analytics.outstanding_fees")
            #expect(reports.fees == views.fees, "the organization fee table = analytics.org_fee_summary")
            #expect(reports.inspections == views.inspections, "the inspection table = analytics.inspection_summary")
            #expect(reports.leads == views.leads, "the alliances' final leads = analytics.lead_schools")
            #expect(reports.textbooks == views.textbooks, "003 appendix table 4 = analytics.textbooks")
            #expect(reports.textbooks.count > 5, "the organizations' reports list textbooks: \(reports.textbooks.count)")
            #expect(reports.pilotSummary == views.pilotSummary, "002 appendix 2 = analytics.pilot_summary")
            #expect(reports.pilotSummary.count >= 25, "most of the 30 schools pilot: \(reports.pilotSummary.count)")
            #expect(reports.differences == views.differences, "every live report's reconciliation = analytics.report_differences")
            let deviating = Set(reports.differences.map { $0.split(separator: " ")[1] })
            #expect(deviating.count == 2, "two organizations' reports awaiting review differ from the system: \(reports.differences)")
            #expect(
                reports.differences.contains { $0.hasSuffix(" true") } && reports.differences.contains { $0.contains(" registry sites ") }
                    && reports.differences.contains { $0.contains(" textbook list ") },
                "a missing fee line, a site count and a textbook count among them: \(reports.differences)")
            #expect(reports.trainings == views.trainings, "the organizations' trainings = analytics.teacher_trainings")
            #expect(reports.trainings.count >= 10, "a training per certificate: \(reports.trainings.count)")
            #expect(
                reports.differences.contains { $0.contains(" training records ") }, "a training's participants among the differences")
            #expect(reports.dueDays == views.dueDays, "each school's due day as its evaluation shows it = analytics.evaluation_due_days")
            #expect(
                reports.dueDays.filter { $0.contains(" true true 1") }.count == 1 && reports.dueDays.allSatisfy { $0.hasSuffix(" true 1") },
                "one school's due day extended; every evaluation carries its report and attachment: \(reports.dueDays)")
            #expect(
                views.noticeStates["on_notice"] == 2 && (views.noticeStates["final"] ?? 0) > 10 && views.noticeStates["registered"] == nil,
                "every session's results on notice; all final but the two with objections: \(views.noticeStates)")
            #expect(views.objections == ["corrected", "rejected"], "one objection upheld by a correction, one rejected")
            #expect(
                views.certificates > 1_000 && views.certificatesOfSessionsNotFinal == 0,
                "certificates for the passed of final sessions only: \(views.certificates)")
            #expect(first.output.contains("\(views.certificates) certificates"), "the summary counts them")
            #expect(views.certificatesRevoked == 1, "one certificate revoked")
            // The credit bank file: one record per exported learning outcome of the view, each with a full, valid ID.
            let outcomes = String(decoding: try Data(contentsOf: creditBankFile).dropFirst(3), as: UTF8.self).split(separator: "\r\n")
            #expect(
                views.learningOutcomesExported > 1_000 && outcomes.count == views.learningOutcomesExported + 1,
                "\(outcomes.count - 1) records, \(views.learningOutcomesExported) exported in analytics.learning_outcomes")
            #expect(
                outcomes.dropFirst().allSatisfy { NationalID.problem(String($0.split(separator: ",")[3])) == nil },
                "every record carries its holder's full ID")
            #expect(views.levelsToMap > 0, "one examined certificate is left unmapped: \(views.levelsToMap)")
            #expect(
                first.output.contains("\(views.learningOutcomesExported) learning outcomes exported")
                    && first.output.contains("\(views.levelsToMap) certificate levels still to map"), "the summary counts them")
            #expect(reports.bulletin == views.bulletin, "each month's bulletin = analytics.monthly_bulletin")
            #expect(reports.bulletin.count >= 3, "exams and payments over several months: \(reports.bulletin)")
            let summed = reports.bulletin.map { $0.split(separator: " ").dropFirst().map { Int64($0)! } }.reduce(
                [Int64](repeating: 0, count: 9)
            ) { total, month in zip(total, month).map { $0 + $1 } }
            #expect(
                reports.bulletinYear == summed.map(String.init).joined(separator: " "), "December's year to date is the months' sum")
            #expect(reports.reporting == views.reporting, "every fortnight's late table = analytics.periodic_report_status")
            #expect(
                ["on_time", "late", "missing"].allSatisfy { status in reports.reporting.contains { $0.contains(" \(status) ") } }
                    && reports.reporting.contains { $0.hasSuffix(" on_time false") },
                "reports on time, late, missing and incomplete")
            #expect(reports.reportingMeasures == views.reportingMeasures, "6-3's measures = the view's counts")
            #expect(
                reports.sixThree.map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == reports.reportingMeasures
                    && reports.sixThree.contains { !$0.hasSuffix(" 0") },
                "each evaluation's 6-3 is computed from the 双周报, some scoring: \(reports.sixThree)")
            #expect(
                views.leadChanges.filter { $0 == "assigned" }.count == 6 && views.leadChanges.contains("replaced"),
                "three small certificates given two leads each, one replaced: \(views.leadChanges)")
            #expect(
                reports.inspections.count >= 3 && reports.inspections.contains { !$0.hasSuffix(" 0 0") },
                "inspections of several organizations, some items not fulfilled: \(reports.inspections)")

            // What the year holds: every part of the story happened, through the services.
            #expect(
                reports.declarations.count > 20 && reports.sites.count > 10,
                "\(reports.declarations.count) declaration lines, \(reports.sites.count) site lines")
            #expect(
                reports.totalCompleted > 2_000 && reports.totalCompleted < 3_000,
                "about 3,000 candidates, most completed: \(reports.totalCompleted)")
            #expect(
                reports.totalExamined == reports.totalCompleted,
                "table 2's 考核人数 \(reports.totalExamined) = table 1's 完成考核人数 \(reports.totalCompleted): who sat, not every row")
            #expect(
                reports.received > 0 && reports.outstandingTotal > 0,
                "some paid, some still owe: \(reports.received) received, \(reports.outstandingTotal) outstanding")
            #expect(views.filingStates == ["approved"], "every certificate ends approved: \(views.filingStates)")
            #expect(
                views.filingsFiledAgain >= 4 && views.roundTwoFilings >= 1,
                "\(views.filingsFiledAgain) filed again, \(views.roundTwoFilings) in round 2")
            #expect(
                views.lockedEvaluations > 0 && views.qualifications > 30,
                "\(views.lockedEvaluations) reviewed evaluations, \(views.qualifications) qualifications")
            #expect(
                views.overdueReviews > 0 && views.qualificationsUnderBureaus > 0,
                "\(views.overdueReviews) overdue reviews, \(views.qualificationsUnderBureaus) qualifications of schools under 赣江新区")

            #expect(
                views.standingChanges.count == 1 && views.standingChanges[0].hasSuffix(" 1 active>suspended,suspended>active"),
                "one organization suspended for its irregularity, then reinstated: \(views.standingChanges)")

            // A holder's certificate, exported, checks offline with the province's key; one byte changed, it does not.
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-demo-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let filing = ["--filing", "127.0.0.1:\(stack.filing.port)", "--token", stack.admin]
            let listed = try await runCommand(
                xctl,
                ["certificates", "list", "--year", String(Self.year), "--school", views.firstCertificateSchool, "--format", "csv"] + filing)
            let number = try #require(
                listed.output.split(separator: "\r\n").dropFirst().first?.split(separator: ",").first.map(String.init))
            let jwk = folder.appendingPathComponent("issuer.jwk").path
            let file = folder.appendingPathComponent("certificate.jws").path
            #expect(try await runCommand(xctl, ["certificates", "issuer", "--out", jwk] + filing).status == 0)
            #expect(try await runCommand(xctl, ["certificates", "export", number, "--out", file] + filing).status == 0)
            let valid = try await runCommand(xctl, ["certificates", "verify", file, "--issuer-key", jwk])
            #expect(valid.status == 0 && valid.output.hasPrefix("valid: \(number)"), "\(valid.output)")
            var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            bytes[bytes.count / 2] = bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            try bytes.write(to: URL(fileURLWithPath: file))
            let invalid = try await runCommand(xctl, ["certificates", "verify", file, "--issuer-key", jwk])
            #expect(invalid.status == 1 && invalid.output.hasPrefix("invalid"), "\(invalid.output)")

            // Again on the same stack: nothing is driven twice; the same reports come out.
            let second = try await runCommand(xctl, demo + ["--summary-only"])
            #expect(second.status == 0 && second.output.contains("has already been driven"), "\(second.output.suffix(2000))")
            #expect(try await Self.reports(stack) == reports)
        }
    }

    /// The four report tables as lines of their numbers, and their totals.
    struct Reports: Equatable {
        var declarations: [String] = []
        var examCoverage: [String] = []
        var sites: [String] = []
        var outstanding: [String] = []
        var fees: [String] = []
        var inspections: [String] = []
        var leads: [String] = []
        var textbooks: [String] = []
        var pilotSummary: [String] = []
        var differences: [String] = []
        var dueDays: [String] = []
        var trainings: [String] = []
        var bulletin: [String] = []
        var bulletinYear = ""
        var reporting: [String] = []
        var reportingMeasures: [String] = []
        var sixThree: [String] = []
        var totalCompleted: Int64 = 0
        var totalExamined: Int64 = 0
        var received: Int64 = 0
        var outstandingTotal: Int64 = 0
    }

    static func reports(_ stack: FullStack) async throws -> Reports {
        let metadata = ["authorization": "Bearer \(stack.admin)"]
        let assessment = testClient(port: stack.assessment.port)
        let filing = testClient(port: stack.filing.port)
        let settlement = testClient(port: stack.settlement.port)
        let registry = testClient(port: stack.registry.port)
        defer {
            Task {
                await registry.close()
                await assessment.close()
                await filing.close()
                await settlement.close()
            }
        }
        var reports = Reports()
        var declarations = Xcert_Assessment_V1_GetDeclarationTableRequest()
        declarations.year = Self.year
        let table1 = try await assessment.unary(
            Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, declarations, options: CallOptions(metadata: metadata))
        reports.declarations = table1.lines.map {
            "\($0.certificateCode) \($0.level.rawValue) \($0.schoolCode) \($0.declared) \($0.approved) \($0.completed) \($0.passed)"
        }
        reports.totalCompleted = table1.total.completed
        var coverage = Xcert_Assessment_V1_GetExamCoverageTableRequest()
        coverage.year = Self.year
        reports.examCoverage = try await assessment.unary(
            Xcert_Assessment_V1_OutcomeService.Method.getExamCoverageTable, coverage, options: CallOptions(metadata: metadata)
        ).lines.map { "\($0.certificateCode) \($0.schoolCode) \($0.qualifiedScale) \($0.examined) \($0.shortfall)" }
        var sites = Xcert_Filing_V1_GetSiteSessionTableRequest()
        sites.year = Self.year
        let table2 = try await filing.unary(
            Xcert_Filing_V1_RosterService.Method.getSiteSessionTable, sites, options: CallOptions(metadata: metadata))
        reports.sites = table2.lines.map { line in
            let dates = line.examDates.map { String(format: "%04d-%02d-%02d", $0.year, $0.month, $0.day) }.joined(separator: ",")
            return "\(line.certificateCode) \(line.level.rawValue) \(line.siteSchoolCode) \(line.sessions) \(dates) \(line.candidates)"
        }
        reports.totalExamined = table2.total.candidates
        var outstanding = Xcert_Settlement_V1_GetOutstandingTableRequest()
        outstanding.year = Self.year
        let table3 = try await settlement.unary(
            Xcert_Settlement_V1_SettlementReportService.Method.getOutstandingTable, outstanding, options: CallOptions(metadata: metadata))
        reports.outstanding = table3.lines.map {
            "\($0.certificateCode) \($0.level.rawValue) \($0.schoolCode) \($0.completed) \($0.outstanding.fen)"
        }
        reports.outstandingTotal = table3.total.outstanding.fen
        var fees = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
        fees.year = Self.year
        let feeTable = try await settlement.unary(
            Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, fees, options: CallOptions(metadata: metadata))
        reports.fees = feeTable.lines.map {
            "\($0.certificateCode) \($0.level.rawValue) \($0.completed) \($0.receivable.fen) \($0.received.fen) \($0.outstanding.fen)"
        }
        reports.received = feeTable.total.received.fen
        var inspections = Xcert_Registry_V1_GetInspectionTableRequest()
        inspections.year = Self.year
        reports.inspections = try await registry.unary(
            Xcert_Registry_V1_OversightService.Method.getInspectionTable, inspections, options: CallOptions(metadata: metadata)
        ).lines.map {
            "\($0.organizationID) \($0.monitoringPoints) \($0.pointsInspected) \($0.inspections) "
                + "\($0.findings) \($0.nonCompliant) \($0.unresolved)"
        }
        var alliances = Xcert_Registry_V1_ListAlliancesRequest()
        alliances.year = Self.year
        reports.leads = try await registry.unary(
            Xcert_Registry_V1_AllianceService.Method.listAlliances, alliances, options: CallOptions(metadata: metadata)
        ).alliances.flatMap { alliance in alliance.leads.map { "\(alliance.certificateCode) \($0.schoolCode) \($0.primary)" } }.sorted()
        var textbooks = Xcert_Filing_V1_GetTextbookTableRequest()
        textbooks.year = Self.year
        reports.textbooks = try await filing.unary(
            Xcert_Filing_V1_ReportService.Method.getTextbookTable, textbooks, options: CallOptions(metadata: metadata)
        ).lines.map { "\($0.organizationID) \($0.title) \($0.authors.joined(separator: "、")) \($0.nationalPlanning) \($0.certificateCode)" }

        var summary = Xcert_Registry_V1_GetPilotSummaryTableRequest()
        summary.year = Self.year
        reports.pilotSummary = try await registry.unary(
            Xcert_Registry_V1_PilotService.Method.getPilotSummaryTable, summary, options: CallOptions(metadata: metadata)
        ).lines.map { line in
            let certificates = line.certificates.map { certificate in
                let levels = certificate.levels.map { ["", "初级", "中级", "高级"][$0.rawValue] }
                return "\(certificate.certificateName)（\(levels.joined(separator: "、"))）"
            }
            return """
                \(line.number) \(line.schoolCode) \(line.schoolType.rawValue) \(certificates.joined(separator: "；")) \
                \(line.specialtyCount) \(line.specialtyNames.joined(separator: "、")) \(line.studentScale) [\(line.remarks)]
                """
        }

        var sessions = Xcert_Registry_V1_GetTrainingSessionsRequest()
        sessions.year = Self.year
        reports.trainings = try await registry.unary(
            Xcert_Registry_V1_TeacherTrainingService.Method.getTrainingSessions, sessions, options: CallOptions(metadata: metadata)
        ).sessions.map { session in
            let start = String(format: "%04d-%02d-%02d", session.startOn.year, session.startOn.month, session.startOn.day)
            return
                """
                \(session.organizationID) \(session.trainingName) \(start) \(session.days) \(session.participantsProvince) \
                \(session.certified)
                """
        }

        // Every live yearly report's differences from the system's figures.
        var list = Xcert_Filing_V1_ListReportsRequest()
        list.year = Self.year
        list.page.pageSize = 1000
        for report in try await filing.unary(
            Xcert_Filing_V1_ReportService.Method.listReports, list, options: CallOptions(metadata: metadata)
        ).reports where report.state == .submitted || report.state == .accepted {
            var reconcile = Xcert_Filing_V1_GetReportReconciliationRequest()
            reconcile.reportID = report.id
            let reconciliation = try await filing.unary(
                Xcert_Filing_V1_ReportService.Method.getReportReconciliation, reconcile, options: CallOptions(metadata: metadata))
            reports.differences += reconciliation.differences.map { difference in
                """
                \(report.id) \(report.organizationID) \(difference.table.rawValue) \
                \(difference.training.isEmpty ? difference.certificateCode : difference.training) \(difference.level.rawValue) \
                \(difference.figure) \(difference.reported) \(difference.recorded) \(difference.source) \
                \(difference.lineMissing)
                """
            }
        }
        reports.differences.sort()

        // The monthly bulletin of every month with anything in it, and December's year to date.
        for month in Int32(1)...12 {
            var request = Xcert_Filing_V1_GetMonthlyBulletinRequest()
            request.year = Self.year
            request.month = month
            let bulletin = try await filing.unary(
                Xcert_Filing_V1_ReportService.Method.getMonthlyBulletin, request, options: CallOptions(metadata: metadata))
            let line = Self.bulletinLine(bulletin.inMonth)
            if line != Self.bulletinLine(.init()) { reports.bulletin.append("\(month) \(line)") }
            if month == 12 { reports.bulletinYear = Self.bulletinLine(bulletin.yearToDate) }
        }

        // The schools' 双周报: every period's late table, and item 6-3's measures.
        var calendar = Xcert_Filing_V1_GetReportingCalendarRequest()
        calendar.year = Self.year
        calendar.party = .school
        let periods = try await filing.unary(
            Xcert_Filing_V1_PeriodicReportService.Method.getReportingCalendar, calendar, options: CallOptions(metadata: metadata)
        ).periods
        let statusNames: [Xcert_Filing_V1_ReportingStatus: String] = [
            .onTime: "on_time", .late: "late", .missing: "missing", .notDue: "not_due",
        ]
        for period in stride(from: Int32(1), through: periods, by: 1) {
            var status = Xcert_Filing_V1_GetReportingStatusRequest()
            status.year = Self.year
            status.party = .school
            status.period = period
            reports.reporting += try await filing.unary(
                Xcert_Filing_V1_PeriodicReportService.Method.getReportingStatus, status, options: CallOptions(metadata: metadata)
            ).lines.map { "\(period) \($0.partyCode) \(statusNames[$0.status] ?? "?") \($0.complete)" }
        }
        var measures = Xcert_Filing_V1_GetReportingMeasuresRequest()
        measures.year = Self.year
        reports.reportingMeasures = try await filing.unary(
            Xcert_Filing_V1_PeriodicReportService.Method.getReportingMeasures, measures, options: CallOptions(metadata: metadata)
        ).schools.map { "\($0.schoolCode) \($0.periodsDue) \($0.onTimeAndComplete)" }

        // Each school's due day, as its evaluation shows it.
        var results = Xcert_Assessment_V1_ListResultsRequest()
        results.year = Self.year
        for school in try await assessment.unary(
            Xcert_Assessment_V1_ResultService.Method.listResults, results, options: CallOptions(metadata: metadata)
        ).results.map(\.schoolCode).sorted() {
            var get = Xcert_Assessment_V1_GetEvaluationRequest()
            get.schoolCode = school
            get.year = Self.year
            let evaluation = try await assessment.unary(
                Xcert_Assessment_V1_EvaluationService.Method.getEvaluation, get, options: CallOptions(metadata: metadata))
            let due = String(format: "%04d-%02d-%02d", evaluation.dueOn.year, evaluation.dueOn.month, evaluation.dueOn.day)
            reports.dueDays.append(
                "\(school) \(due) \(evaluation.dueExtended) \(!evaluation.report.isEmpty) \(evaluation.attachments.count)")
            if let item = evaluation.items.first(where: { $0.code == "6-3" }), item.hasMeasure {
                reports.sixThree.append("\(school) \(item.measure.denominator) \(item.measure.numerator) \(item.finalPointsTenths)")
            }
        }
        return reports
    }

    /// A bulletin's figures in the view's column order.
    static func bulletinLine(_ f: Xcert_Filing_V1_BulletinFigures) -> String {
        """
        \(f.filingsSubmitted) \(f.filingsApproved) \(f.applicationsSubmitted) \(f.applicationsApproved) \(f.examSessions) \
        \(f.candidatesExamined) \(f.candidatesPassed) \(f.payments) \(f.feesReceived.fen)
        """
    }

    /// The same lines from the analysts' views, read as xcert_analyst, and what the
    /// filings, qualifications and evaluations views say of the year.
    struct Views {
        var declarations: [String] = []
        var examCoverage: [String] = []
        var sites: [String] = []
        var outstanding: [String] = []
        var fees: [String] = []
        var filingStates: Set<String> = []
        var filingsFiledAgain = 0
        var roundTwoFilings = 0
        var lockedEvaluations = 0
        var qualifications = 0
        var overdueReviews = 0
        var qualificationsUnderBureaus = 0
        var standingChanges: [String] = []
        var inspections: [String] = []
        var leads: [String] = []
        var leadChanges: [String] = []
        var textbooks: [String] = []
        var pilotSummary: [String] = []
        var differences: [String] = []
        var dueDays: [String] = []
        var trainings: [String] = []
        var bulletin: [String] = []
        var reporting: [String] = []
        var reportingMeasures: [String] = []
        var noticeStates: [String: Int64] = [:]
        var objections: [String] = []
        var certificates: Int64 = 0
        var certificatesOfSessionsNotFinal: Int64 = 0
        var certificatesRevoked: Int64 = 0
        var learningOutcomesExported: Int64 = 0
        var levelsToMap: Int64 = 0
        var firstCertificateSchool = ""
    }

    static func views(_ stack: FullStack) async throws -> Views {
        let logger = testLogger("demo-views")
        return try await withRole("xcert_analyst", on: stack.postgres) { connection in
            var views = Views()
            let year = Self.year
            for try await (certificate, level, school, declared, approved, completed, passed) in try await connection.query(
                """
                SELECT certificate_code, level, school_code, declared, approved, completed, passed
                FROM analytics.school_assessment_detail
                WHERE year = \(year)
                ORDER BY certificate_code, level, school_code
                """,
                logger: logger
            ).decode((String, Int32, String, Int64, Int64, Int64, Int64).self) {
                views.declarations.append("\(certificate) \(level) \(school) \(declared) \(approved) \(completed) \(passed)")
            }
            for try await (certificate, school, scale, examined, shortfall) in try await connection.query(
                """
                SELECT certificate_code, school_code, qualified_scale, examined, shortfall FROM analytics.exam_coverage
                WHERE year = \(year) ORDER BY certificate_code, school_code
                """,
                logger: logger
            ).decode((String, String, Int64, Int64, Int64).self) {
                views.examCoverage.append("\(certificate) \(school) \(scale) \(examined) \(shortfall)")
            }
            for try await (certificate, level, site, sessions, dates, candidates) in try await connection.query(
                """
                SELECT certificate_code, level, site_school_code, sessions, exam_dates, candidates
                FROM analytics.assessment_sites
                WHERE year = \(year)
                ORDER BY certificate_code, level, site_school_code
                """,
                logger: logger
            ).decode((String, Int32, String, Int64, String, Int64).self) {
                views.sites.append("\(certificate) \(level) \(site) \(sessions) \(dates) \(candidates)")
            }
            for try await (certificate, level, school, completed, outstanding) in try await connection.query(
                """
                SELECT certificate_code, level, school_code, completed, outstanding_fen
                FROM analytics.outstanding_fees
                WHERE year = \(year)
                ORDER BY certificate_code, level, school_code
                """,
                logger: logger
            ).decode((String, Int32, String, Int64, Int64).self) {
                views.outstanding.append("\(certificate) \(level) \(school) \(completed) \(outstanding)")
            }
            for try await (certificate, level, completed, receivable, received, outstanding) in try await connection.query(
                """
                SELECT certificate_code, level, completed, receivable_fen, received_fen, outstanding_fen
                FROM analytics.org_fee_summary
                WHERE year = \(year)
                ORDER BY organization_id, certificate_code, level
                """,
                logger: logger
            ).decode((String, Int32, Int64, Int64, Int64, Int64).self) {
                views.fees.append("\(certificate) \(level) \(completed) \(receivable) \(received) \(outstanding)")
            }
            for try await (state, version, round) in try await connection.query(
                "SELECT state, version, round_number FROM analytics.filings WHERE year = \(year)", logger: logger
            ).decode((String, Int32, Int32).self) {
                views.filingStates.insert(state)
                if version > 1 { views.filingsFiledAgain += 1 }
                if round == 2 { views.roundTwoFilings += 1 }
            }
            for try await count in try await connection.query(
                "SELECT count(DISTINCT school_code) FROM analytics.school_evaluation WHERE year = \(year) AND state = 'locked'",
                logger: logger
            ).decode(Int64.self) {
                views.lockedEvaluations = Int(count)
            }
            for try await count in try await connection.query(
                "SELECT count(*) FROM analytics.pilot_qualifications WHERE year = \(year) AND in_force", logger: logger
            ).decode(Int64.self) {
                views.qualifications = Int(count)
            }
            for try await (overdue, underBureaus) in try await connection.query(
                """
                SELECT (SELECT count(*) FROM analytics.pending_unit_reviews WHERE year = \(year) AND overdue),
                       (SELECT count(*) FROM analytics.pilot_qualifications WHERE year = \(year) AND reviewing_unit_code <> city_code)
                """, logger: logger
            ).decode((Int64, Int64).self) {
                views.overdueReviews = Int(overdue)
                views.qualificationsUnderBureaus = Int(underBureaus)
            }
            for try await (organization, irregularities, changes) in try await connection.query(
                """
                SELECT o.organization_name, o.irregularities,
                       (SELECT string_agg(c.previous || '>' || c.standing, ',' ORDER BY c.change_id) FROM analytics.standing_changes c
                        WHERE c.organization_id = o.organization_id)
                FROM analytics.organization_standings o WHERE o.standing_since IS NOT NULL ORDER BY o.organization_id
                """, logger: logger
            ).decode((String, Int64, String).self) {
                views.standingChanges.append("\(organization) \(irregularities) \(changes)")
            }
            for try await row in try await connection.query(
                """
                SELECT organization_id, monitoring_points, points_inspected, inspections, findings, non_compliant, unresolved
                FROM analytics.inspection_summary WHERE year = \(year) ORDER BY organization_id
                """, logger: logger
            ).decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64).self) {
                views.inspections.append("\(row.0) \(row.1) \(row.2) \(row.3) \(row.4) \(row.5) \(row.6)")
            }
            for try await (certificate, school, primary) in try await connection.query(
                "SELECT certificate_code, school_code, primary_lead FROM analytics.lead_schools WHERE year = \(year)", logger: logger
            ).decode((String, String, Bool).self) {
                views.leads.append("\(certificate) \(school) \(primary)")
            }
            views.leads.sort()
            for try await (organization, title, authors, planned, certificate) in try await connection.query(
                """
                SELECT organization_id, title, authors, national_planning, certificate_code FROM analytics.textbooks
                WHERE year = \(year) ORDER BY organization_id, position
                """, logger: logger
            ).decode((Int64, String, String, Bool, String).self) {
                views.textbooks.append("\(organization) \(title) \(authors) \(planned) \(certificate)")
            }
            for try await kind in try await connection.query(
                "SELECT kind FROM analytics.lead_changes WHERE year = \(year) ORDER BY change_id", logger: logger
            ).decode(String.self) {
                views.leadChanges.append(kind)
            }
            for try await (number, school, type, certificates, count, names, scale, remarks) in try await connection.query(
                """
                SELECT number, school_code, school_type, certificates, specialty_count, specialty_names, student_scale, remarks
                FROM analytics.pilot_summary WHERE year = \(year) ORDER BY number
                """, logger: logger
            ).decode((Int32, String, String, String, Int32, String, Int64, String).self) {
                let wireType =
                    [
                        "secondary_vocational": 1, "higher_vocational": 2, "vocational_undergraduate": 3,
                        "applied_undergraduate": 4, "open_university": 5, "technical_school": 6,
                    ][type] ?? 0
                views.pilotSummary.append("\(number) \(school) \(wireType) \(certificates) \(count) \(names) \(scale) [\(remarks)]")
            }
            for try await row in try await connection.query(
                """
                SELECT report_id, organization_id, table_no, coalesce(training, certificate_code), coalesce(level, 0), figure, reported,
                       recorded, source, line_missing
                FROM analytics.report_differences WHERE year = \(year)
                """, logger: logger
            ).decode((Int64, Int64, Int32, String, Int32, String, Int64, Int64, String, Bool).self) {
                views.differences.append(
                    "\(row.0) \(row.1) \(row.2) \(row.3) \(row.4) \(row.5) \(row.6) \(row.7) \(row.8) \(row.9)")
            }
            views.differences.sort()
            for try await (organization, name, start, days, participants, certified) in try await connection.query(
                """
                SELECT organization_id, training_name, to_char(start_on, 'YYYY-MM-DD'), max(days)::integer,
                       count(DISTINCT (school_code, teacher_name)), count(DISTINCT (school_code, teacher_name)) FILTER (WHERE certified)
                FROM analytics.teacher_trainings WHERE year = \(year) AND organization_id IS NOT NULL
                GROUP BY organization_id, training_name, start_on ORDER BY organization_id, start_on, training_name
                """, logger: logger
            ).decode((Int64, String, String, Int32, Int64, Int64).self) {
                views.trainings.append("\(organization) \(name) \(start) \(days) \(participants) \(certified)")
            }
            for try await (school, due, extended, sent, attachments) in try await connection.query(
                """
                SELECT school_code, to_char(due_on, 'YYYY-MM-DD'), extended, report_sent, attachments
                FROM analytics.evaluation_due_days WHERE year = \(year) ORDER BY school_code
                """, logger: logger
            ).decode((String, String, Bool, Bool, Int32).self) {
                views.dueDays.append("\(school) \(due) \(extended) \(sent) \(attachments)")
            }
            for try await row in try await connection.query(
                """
                SELECT month, filings_submitted, filings_approved, applications_submitted, applications_approved, exam_sessions,
                       candidates_examined, candidates_passed, payments, fees_received_fen
                FROM analytics.monthly_bulletin WHERE year = \(year) ORDER BY month
                """, logger: logger
            ).decode((Int32, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self) {
                views.bulletin.append("\(row.0) \(row.1) \(row.2) \(row.3) \(row.4) \(row.5) \(row.6) \(row.7) \(row.8) \(row.9)")
            }
            for try await (period, school, status, complete) in try await connection.query(
                """
                SELECT period, party_code, status, complete FROM analytics.periodic_report_status
                WHERE year = \(year) AND party = 'school' ORDER BY period, party_code
                """, logger: logger
            ).decode((Int32, String, String, Bool).self) {
                views.reporting.append("\(period) \(school) \(status) \(complete)")
            }
            for try await (school, due, counted) in try await connection.query(
                """
                SELECT party_code, count(*) FILTER (WHERE status <> 'not_due'), count(*) FILTER (WHERE status = 'on_time' AND complete)
                FROM analytics.periodic_report_status WHERE year = \(year) AND party = 'school'
                GROUP BY party_code HAVING count(submitted_at) > 0 ORDER BY party_code
                """, logger: logger
            ).decode((String, Int64, Int64).self) {
                views.reportingMeasures.append("\(school) \(due) \(counted)")
            }
            for try await (state, count) in try await connection.query(
                "SELECT state, count(*) FROM analytics.result_notices WHERE year = \(year) GROUP BY state", logger: logger
            ).decode((String, Int64).self) {
                views.noticeStates[state] = count
            }
            for try await state in try await connection.query(
                "SELECT state FROM analytics.result_objections WHERE year = \(year) ORDER BY state", logger: logger
            ).decode(String.self) {
                views.objections.append(state)
            }
            for try await (count, notFinal, revoked) in try await connection.query(
                """
                SELECT count(*), count(*) FILTER (WHERE n.state <> 'final'), count(*) FILTER (WHERE c.revoked_at IS NOT NULL)
                FROM analytics.certificates c
                JOIN analytics.result_notices n ON n.session_roster_id = c.session_roster_id WHERE c.year = \(year)
                """, logger: logger
            ).decode((Int64, Int64, Int64).self) {
                views.certificates = count
                views.certificatesOfSessionsNotFinal = notFinal
                views.certificatesRevoked = revoked
            }
            for try await (exported, toMap) in try await connection.query(
                """
                SELECT count(*) FILTER (WHERE exported),
                       count(DISTINCT (certificate_code, level)) FILTER (WHERE learning_outcome_code IS NULL AND NOT revoked)
                FROM analytics.learning_outcomes WHERE year = \(year)
                """, logger: logger
            ).decode((Int64, Int64).self) {
                views.learningOutcomesExported = exported
                views.levelsToMap = toMap
            }
            for try await school in try await connection.query(
                "SELECT school_code FROM analytics.certificates WHERE year = \(year) AND revoked_at IS NULL ORDER BY number LIMIT 1",
                logger: logger
            ).decode(String.self) {
                views.firstCertificateSchool = school
            }
            return views
        }
    }
}
