import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Each organization's yearly report (年度试点工作汇报材料, 003 appendix 2) of the year: its exams
/// in the province as the system counted them (nationally a third more), its resources and its
/// published textbooks (003 appendix table 4); the province accepts them.
extension DemoRun {
    func yearlyReports(_ reference: DemoReference, _ parties: DemoParties) async throws {
        var random = self.random("yearly-reports")
        var request = Xcert_Assessment_V1_GetDeclarationTableRequest()
        request.year = self.year
        let lines = try await self.stack.call(
            Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, request, by: self.province, kind: .read
        ).lines
        struct Key: Hashable, Comparable {
            var certificate: String
            var level: Int
            static func < (a: Key, b: Key) -> Bool { (a.certificate, a.level) < (b.certificate, b.level) }
        }
        var counts: [Key: Xcert_Filing_V1_CandidateCounts] = [:]
        for line in lines {
            var sum = counts[Key(certificate: line.certificateCode, level: line.level.rawValue)] ?? .init()
            sum.declared += line.declared
            sum.approved += line.approved
            sum.completed += line.completed
            sum.passed += line.passed
            counts[Key(certificate: line.certificateCode, level: line.level.rawValue)] = sum
        }
        let byOrganization = Dictionary(grouping: counts.keys.sorted()) { reference.certificate($0.certificate)?.organizationID ?? 0 }
        var textbooks = 0
        for (organizationID, keys) in byOrganization.sorted(by: { $0.key < $1.key }) {
            guard let organization = parties.organizations[organizationID] else { continue }
            var submit = Xcert_Filing_V1_SubmitReportRequest()
            submit.year = self.year
            for key in keys {
                guard let province = counts[key], let level = Xcert_Common_V1_CertificateLevel(rawValue: key.level) else { continue }
                var exam = Xcert_Filing_V1_ExamLine()
                exam.certificateCode = key.certificate
                exam.level = level
                exam.province = province
                exam.national = province
                exam.national.declared += province.declared / 3
                exam.national.approved += province.approved / 3
                exam.national.completed += province.completed / 3
                exam.national.passed += province.passed / 3
                submit.content.exams.append(exam)
                var resource = Xcert_Filing_V1_ResourceLine()
                resource.certificateCode = key.certificate
                resource.level = level
                resource.questionBankSize = Int64.random(in: 800...6000, using: &random)
                resource.mockPapers = Int32.random(in: 3...12, using: &random)
                resource.resourcePack = true
                // Textbooks of the certificate's first level only: 0 to 2, some in the national plan (国家规划教材).
                if key.level == keys.first(where: { $0.certificate == key.certificate })?.level {
                    let name = reference.certificate(key.certificate)?.name ?? key.certificate
                    for index in 0..<Int.random(in: 0...2, using: &random) {
                        var book = Xcert_Filing_V1_Textbook()
                        book.title =
                            "\(name)\(level == .elementary ? "（初级）" : level == .intermediate ? "（中级）" : "（高级）")\(index == 0 ? "" : "实训指导")"
                        book.authors = ["主编\(index + 1)", "副主编\(index + 1)", "编者\(index + 1)"]
                        book.publisher = ["高等教育出版社", "机械工业出版社", "电子工业出版社"][Int.random(in: 0...2, using: &random)]
                        book.publishedOn = self.date(month: Int.random(in: 1...8, using: &random), day: 1).adding(days: -365).wire
                        book.nationalPlanning = random.chance(30)
                        book.certificateCode = key.certificate
                        book.level = level
                        submit.content.textbooks.append(book)
                        resource.publishedTextbooks += 1
                    }
                }
                submit.content.resources.append(resource)
            }
            submit.content.narrative = "二、开展工作的具体举措：与联盟牵头院校共同推进师资培训、考核站点建设和资源共享。"
            let report = try await self.stack.call(Xcert_Filing_V1_ReportService.Method.submitReport, submit, by: organization)
            var review = Xcert_Filing_V1_ReviewReportRequest()
            review.id = report.id
            review.accept = true
            _ = try await self.stack.call(Xcert_Filing_V1_ReportService.Method.reviewReport, review, by: self.province)
            self.count("yearly reports")
            textbooks += submit.content.textbooks.count
        }
        self.count("textbooks", textbooks)
        self.progress(
            "reports",
            "\(self.counted("yearly reports")) organizations' yearly reports accepted, \(textbooks) textbooks (xctl report textbooks)")
    }
}
