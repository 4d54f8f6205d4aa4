import Foundation
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

/// What the filing tests share: a valid work plan, rounds, submissions and reviews,
/// made through the API.
extension RegistryHarness {
    /// A complete work plan with a fee for each of `levels` (the seeded certificates have all three).
    static func workPlan(
        levels: [Xcert_Common_V1_CertificateLevel] = [.elementary, .intermediate, .advanced], fen: Int64 = 38_000
    ) -> Xcert_Filing_V1_WorkPlan {
        var plan = Xcert_Filing_V1_WorkPlan()
        plan.schoolLevels = [.secondary, .higherVocational]
        plan.specialtyScope = ["汽车运用与维修", "汽车检测与维修技术", "S0 测试专业类"]
        plan.siteArrangement = "每个设区市至少设一个考核站点，由培训评价组织统一管理"
        plan.teacherRequirements = "具有相关专业背景的双师型教师不少于3名"
        plan.teachingConditions = "具备实训车间和实训车辆"
        plan.examArrangement = "理论考试机考，实操考试由考评员现场评分"
        plan.fees = levels.enumerated().map { index, level in
            var fee = Xcert_Filing_V1_LevelFee()
            fee.level = level
            fee.fee.fen = fen + Int64(index) * 10_000
            fee.costBasis = "场地、设备、考评员劳务与耗材成本测算"
            return fee
        }
        var attachment = Xcert_Filing_V1_Attachment()
        attachment.name = "试点工作方案.pdf"
        attachment.sizeBytes = 1024
        attachment.sha256 = String(repeating: "ab", count: 32)
        plan.attachments = [attachment]
        return plan
    }

    /// The date `days` from today in Asia/Shanghai (negative: before).
    static func shanghaiDate(daysFromToday days: Int = 0) -> Xcert_Common_V1_Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        let day = calendar.date(byAdding: .day, value: days, to: Date())!
        let parts = calendar.dateComponents([.year, .month, .day], from: day)
        var date = Xcert_Common_V1_Date()
        date.year = Int32(parts.year!)
        date.month = Int32(parts.month!)
        date.day = Int32(parts.day!)
        return date
    }

    /// Opens round `number` of `year` as the province; by default it closes years from now.
    @discardableResult
    func openRound(year: Int32 = 2020, number: Int32 = 1, closes: Xcert_Common_V1_Date? = nil) async throws -> Xcert_Filing_V1_FilingRound {
        var request = Xcert_Filing_V1_OpenRoundRequest()
        request.year = year
        request.number = number
        request.closes =
            closes
            ?? {
                var date = Xcert_Common_V1_Date()
                date.year = 2099
                date.month = 12
                date.day = 31
                return date
            }()
        return try await self.call(Xcert_Filing_V1_FilingService.Method.openRound, request, token: self.admin)
    }

    static func submission(
        _ certificate: String, year: Int32 = 2020, round: Int32 = 1, plan: Xcert_Filing_V1_WorkPlan = RegistryHarness.workPlan()
    ) -> Xcert_Filing_V1_SubmitFilingRequest {
        var request = Xcert_Filing_V1_SubmitFilingRequest()
        request.certificateCode = certificate
        request.year = year
        request.roundNumber = round
        request.plan = plan
        return request
    }

    /// An organization files `certificate`.
    func submitFiling(
        _ certificate: String, year: Int32 = 2020, round: Int32 = 1, plan: Xcert_Filing_V1_WorkPlan = RegistryHarness.workPlan(),
        token: String
    ) async throws -> Xcert_Filing_V1_Filing {
        try await self.call(
            Xcert_Filing_V1_FilingService.Method.submitFiling, Self.submission(certificate, year: year, round: round, plan: plan),
            token: token
        )
    }

    /// The province's review of a filing.
    func reviewFiling(_ id: Int64, approve: Bool, reason: String = "", token: String? = nil) async throws -> Xcert_Filing_V1_Filing {
        var request = Xcert_Filing_V1_ReviewFilingRequest()
        request.id = id
        request.approve = approve
        request.reason = reason
        return try await self.call(Xcert_Filing_V1_FilingService.Method.reviewFiling, request, token: token ?? self.admin)
    }

    func getFiling(_ id: Int64, token: String? = nil) async throws -> Xcert_Filing_V1_Filing {
        var request = Xcert_Filing_V1_GetFilingRequest()
        request.id = id
        return try await self.call(Xcert_Filing_V1_FilingService.Method.getFiling, request, token: token ?? self.admin)
    }

    func listFilings(_ request: Xcert_Filing_V1_ListFilingsRequest = .init(), token: String? = nil) async throws -> [Xcert_Filing_V1_Filing]
    {
        try await self.call(Xcert_Filing_V1_FilingService.Method.listFilings, request, token: token ?? self.admin).filings
    }

    var filingCount: Int64 {
        get async throws { try await self.scalar("SELECT count(*) FROM filing.filings", as: Int64.self) ?? -1 }
    }
}
