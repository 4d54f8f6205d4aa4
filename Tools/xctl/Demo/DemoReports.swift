import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Each organization's yearly report (年度试点工作汇报材料, 003 appendix 2) of the year, built
/// from what the system shows it: its exams in the province (nationally a third more), its
/// teacher trainings, its sites and sessions, its fees, its resources and published textbooks (003 appendix table
/// 4). Three organizations get figures wrong, as organizations do; the province reconciles
/// every report with the system's figures before it decides: it accepts those that agree,
/// returns the first wrong one with its differences (the organization corrects it), and
/// leaves the other two awaiting its review, their differences listed for analysts.
extension DemoRun {
    /// A certificate level, as the report's tables key their lines.
    private struct Line: Hashable, Comparable {
        var certificate: String
        var level: Xcert_Common_V1_CertificateLevel
        static func < (a: Line, b: Line) -> Bool { (a.certificate, a.level.rawValue) < (b.certificate, b.level.rawValue) }
    }

    func yearlyReports(_ reference: DemoReference, _ parties: DemoParties) async throws {
        var random = self.random("yearly-reports")
        let figures = try await self.systemFigures()
        let byOrganization = Dictionary(grouping: figures.lines.sorted()) { reference.certificate($0.certificate)?.organizationID ?? 0 }
        var textbooks = 0
        var deviating: [(organization: Int64, report: Int64)] = []
        for (organizationID, lines) in byOrganization.sorted(by: { $0.key < $1.key }) {
            guard let organization = parties.organizations[organizationID] else { continue }
            var submit = Xcert_Filing_V1_SubmitReportRequest()
            submit.year = self.year
            submit.content = self.content(lines, figures, reference, &random)
            submit.content.trainings = figures.trainings[organizationID] ?? []
            textbooks += submit.content.textbooks.count
            // The first three organizations each get something wrong (003's footnotes: the
            // figures must agree with the detail tables).
            let mistaken = deviating.count < 3 && Self.misreport(&submit.content, mistake: deviating.count)
            let report = try await self.stack.call(Xcert_Filing_V1_ReportService.Method.submitReport, submit, by: organization)
            self.count("yearly reports")
            let differences = try await self.reconcile(report.id)
            guard !differences.isEmpty else {
                try await self.review(report.id, accept: true)
                continue
            }
            guard mistaken else {
                throw CLIError("the yearly report of organization \(organizationID) differs from the system's figures: \(differences)")
            }
            deviating.append((organizationID, report.id))
            if deviating.count == 1 {
                // Returned with its differences; the organization corrects the figures and submits again.
                var review = Xcert_Filing_V1_ReviewReportRequest()
                review.id = report.id
                review.withDifferences = true
                review.reason = "请按系统记录核对以下数据后重新报送。"
                _ = try await self.stack.call(Xcert_Filing_V1_ReportService.Method.reviewReport, review, by: self.province)
                var corrected = submit
                corrected.content = self.content(lines, figures, reference, &random)
                corrected.content.trainings = figures.trainings[organizationID] ?? []
                let second = try await self.stack.call(Xcert_Filing_V1_ReportService.Method.submitReport, corrected, by: organization)
                guard try await self.reconcile(second.id).isEmpty else {
                    throw CLIError("the corrected yearly report of organization \(organizationID) still differs from the system's figures")
                }
                try await self.review(second.id, accept: true)
                self.count("yearly reports corrected")
            } else {
                self.count("yearly reports awaiting review with differences")
            }
        }
        self.count("textbooks", textbooks)
        self.progress(
            "reports",
            """
            \(self.counted("yearly reports")) organizations' yearly reports: \(deviating.count) differ from the system's figures \
            (\(self.counted("yearly reports corrected")) returned with them and corrected, \
            \(self.counted("yearly reports awaiting review with differences")) awaiting review; xctl report reconciliation), \
            \(textbooks) textbooks (xctl report textbooks)
            """)
    }

    /// A report's content as the system's figures have it: exams (nationally a third more),
    /// sites and sessions, fees, and resources with 0 to 2 textbooks of a certificate's first level.
    private func content(
        _ lines: [Line], _ figures: SystemFigures, _ reference: DemoReference, _ random: inout SeededRandom
    ) -> Xcert_Filing_V1_YearlyReportContent {
        var content = Xcert_Filing_V1_YearlyReportContent()
        for line in lines {
            if let province = figures.exams[line] {
                var exam = Xcert_Filing_V1_ExamLine()
                exam.certificateCode = line.certificate
                exam.level = line.level
                exam.province = province
                exam.national = Self.national(province)
                content.exams.append(exam)
            }
            if let site = figures.sites[line] {
                var copy = site
                copy.sitesNational = site.sitesProvince + site.sitesProvince / 2 + 1
                content.sites.append(copy)
            }
            if let fee = figures.fees[line] { content.fees.append(fee) }
            var resource = Xcert_Filing_V1_ResourceLine()
            resource.certificateCode = line.certificate
            resource.level = line.level
            resource.questionBankSize = Int64.random(in: 800...6000, using: &random)
            resource.mockPapers = Int32.random(in: 3...12, using: &random)
            resource.resourcePack = true
            if line == lines.first(where: { $0.certificate == line.certificate }) {
                let name = reference.certificate(line.certificate)?.name ?? line.certificate
                for index in 0..<Int.random(in: 0...2, using: &random) {
                    var book = Xcert_Filing_V1_Textbook()
                    book.title =
                        "\(name)（\(CertificateLevel(wire: line.level)?.chineseName ?? "")）\(index == 0 ? "" : "实训指导")"
                    book.authors = ["主编\(index + 1)", "副主编\(index + 1)", "编者\(index + 1)"]
                    book.publisher = ["高等教育出版社", "机械工业出版社", "电子工业出版社"][Int.random(in: 0...2, using: &random)]
                    book.publishedOn = self.date(month: Int.random(in: 1...8, using: &random), day: 1).adding(days: -365).wire
                    book.nationalPlanning = random.chance(30)
                    book.certificateCode = line.certificate
                    book.level = line.level
                    content.textbooks.append(book)
                    resource.publishedTextbooks += 1
                }
            }
            content.resources.append(resource)
        }
        content.narrative = "二、开展工作的具体举措：与联盟牵头院校共同推进师资培训、考核站点建设和资源共享。"
        return content
    }

    private static func national(_ province: Xcert_Filing_V1_CandidateCounts) -> Xcert_Filing_V1_CandidateCounts {
        var national = province
        national.declared += province.declared / 3
        national.approved += province.approved / 3
        national.completed += province.completed / 3
        national.passed += province.passed / 3
        return national
    }

    /// Gets one thing wrong, as organizations do: mistake 0 counts candidates declared and
    /// approved twice over and reports a fee as all received; 1 leaves out a fee line and
    /// counts a textbook the table does not list; 2 reports a site less, two sessions more and
    /// two teachers trained more than recorded.
    /// Whether there was something to get wrong.
    private static func misreport(_ content: inout Xcert_Filing_V1_YearlyReportContent, mistake: Int) -> Bool {
        switch mistake {
        case 0:
            guard !content.exams.isEmpty, let fee = content.fees.firstIndex(where: { $0.outstanding.fen > 0 }) else { return false }
            content.exams[0].province.declared += 30
            content.exams[0].province.approved += 20
            content.exams[0].national = Self.national(content.exams[0].province)
            content.fees[fee].received = content.fees[fee].receivable
            content.fees[fee].outstanding.fen = 0
            return true
        case 1:
            guard content.fees.count > 1, !content.resources.isEmpty else { return false }
            content.fees.removeLast()
            content.resources[0].publishedTextbooks += 1
            return true
        default:
            guard let site = content.sites.firstIndex(where: { $0.sitesProvince > 1 }) else { return false }
            content.sites[site].sitesProvince -= 1
            content.sites[site].examSessions += 2
            if !content.trainings.isEmpty { content.trainings[0].participantsProvince += 2 }
            return true
        }
    }

    /// What the system holds of the year, by certificate level: the province's candidate
    /// counts (assessment), sites and sessions (registry and filing), fees (settlement).
    private struct SystemFigures {
        var exams: [Line: Xcert_Filing_V1_CandidateCounts] = [:]
        var sites: [Line: Xcert_Filing_V1_SiteLine] = [:]
        var fees: [Line: Xcert_Filing_V1_FeeLine] = [:]
        var trainings: [Int64: [Xcert_Filing_V1_TeacherTraining]] = [:]
        var lines: Set<Line> { Set(self.exams.keys).union(self.sites.keys).union(self.fees.keys) }
    }

    private func systemFigures() async throws -> SystemFigures {
        var figures = SystemFigures()
        var declarations = Xcert_Assessment_V1_GetDeclarationTableRequest()
        declarations.year = self.year
        for line in try await self.stack.call(
            Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, declarations, by: self.province, kind: .read
        ).lines {
            var sum = figures.exams[Line(certificate: line.certificateCode, level: line.level)] ?? .init()
            sum.declared += line.declared
            sum.approved += line.approved
            sum.completed += line.completed
            sum.passed += line.passed
            figures.exams[Line(certificate: line.certificateCode, level: line.level)] = sum
        }
        var sessions = Xcert_Filing_V1_GetSiteSessionTableRequest()
        sessions.year = self.year
        for line in try await self.stack.call(
            Xcert_Filing_V1_RosterService.Method.getSiteSessionTable, sessions, by: self.province, kind: .read
        ).lines {
            let key = Line(certificate: line.certificateCode, level: line.level)
            figures.sites[key, default: Self.siteLine(key)].examSessions += line.sessions
            figures.sites[key, default: Self.siteLine(key)].candidatesAssessed += line.candidates
        }
        var listSites = Xcert_Registry_V1_ListSitesRequest()
        listSites.page.pageSize = 1000
        repeat {
            let page = try await self.stack.call(Xcert_Registry_V1_SiteService.Method.listSites, listSites, by: self.province, kind: .read)
            for site in page.sites where site.yearOpened <= self.year {
                for level in site.levels {
                    let key = Line(certificate: site.certificateCode, level: level)
                    figures.sites[key, default: Self.siteLine(key)].sitesProvince += 1
                }
            }
            listSites.page.pageToken = page.page.nextPageToken
        } while !listSites.page.pageToken.isEmpty
        var fees = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
        fees.year = self.year
        for line in try await self.stack.call(
            Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, fees, by: self.province, kind: .read
        ).lines {
            var fee = Xcert_Filing_V1_FeeLine()
            fee.certificateCode = line.certificateCode
            fee.level = line.level
            fee.completed = line.completed
            fee.receivable = line.receivable
            fee.received = line.received
            fee.outstanding = line.outstanding
            figures.fees[Line(certificate: line.certificateCode, level: line.level)] = fee
        }
        var trainings = Xcert_Registry_V1_GetTrainingSessionsRequest()
        trainings.year = self.year
        for session in try await self.stack.call(
            Xcert_Registry_V1_TeacherTrainingService.Method.getTrainingSessions, trainings, by: self.province, kind: .read
        ).sessions {
            var training = Xcert_Filing_V1_TeacherTraining()
            training.name = session.trainingName
            training.startDate = session.startOn
            training.days = session.days
            training.place = "南昌"
            training.participantsProvince = session.participantsProvince
            training.participantsNational = session.participantsProvince * 8
            figures.trainings[session.organizationID, default: []].append(training)
        }
        return figures
    }

    private static func siteLine(_ key: Line) -> Xcert_Filing_V1_SiteLine {
        var line = Xcert_Filing_V1_SiteLine()
        line.certificateCode = key.certificate
        line.level = key.level
        return line
    }

    private func reconcile(_ report: Int64) async throws -> [Xcert_Filing_V1_ReportDifference] {
        var request = Xcert_Filing_V1_GetReportReconciliationRequest()
        request.reportID = report
        return try await self.stack.call(
            Xcert_Filing_V1_ReportService.Method.getReportReconciliation, request, by: self.province, kind: .read
        ).differences
    }

    private func review(_ report: Int64, accept: Bool) async throws {
        var review = Xcert_Filing_V1_ReviewReportRequest()
        review.id = report
        review.accept = accept
        _ = try await self.stack.call(Xcert_Filing_V1_ReportService.Method.reviewReport, review, by: self.province)
    }
}
