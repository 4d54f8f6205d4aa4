import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertTestSupport
import XCertWire

/// What the roster tests start from, in the filing stack: AUTO (organization "car",
/// scored theory 40 % + practical 60 %, pass at 60) filed and approved for 2026; school
/// 4136010001 qualified for AUTO elementary, 4136010003 too, 4136010002 known but not
/// qualified; 4136010001 hosts the exams.
struct RosterWorld {
    var car: String
    var bim: String
    var carOrganization: Int64
    static let year: Int32 = 2026
    static let site = "4136010001"
}

extension RegistryHarness {
    /// Organizations "car" and "bim", schools 4136010001–3, car's AUTO filing of `year` approved,
    /// 4136010001 and 4136010003 qualified for AUTO in `year`.
    func rosterWorld(year: Int32 = RosterWorld.year) async throws -> RosterWorld {
        let seeded = try await self.seedReference()
        let car = try await self.token(role: "organization", party: String(seeded.carOrganization))
        let bim = try await self.token(role: "organization", party: String(seeded.bimOrganization))
        for code in ["4136010001", "4136010002", "4136010003"] { try await self.createSchool(code) }

        var round = Xcert_Filing_V1_OpenRoundRequest()
        round.year = year
        round.number = 1
        round.closes.year = 2099
        round.closes.month = 12
        round.closes.day = 31
        _ = try await self.call(Xcert_Filing_V1_FilingService.Method.openRound, round, token: self.admin)
        var submit = Xcert_Filing_V1_SubmitFilingRequest()
        submit.certificateCode = "AUTO"
        submit.year = year
        submit.roundNumber = 1
        submit.plan.schoolLevels = [.secondary, .higherVocational]
        submit.plan.specialtyScope = ["汽车运用与维修", "S0 测试专业类"]
        submit.plan.siteArrangement = "每个设区市至少一个考核站点"
        submit.plan.teacherRequirements = "持证培训师"
        submit.plan.teachingConditions = "实训车间"
        submit.plan.examArrangement = "理论机考，实操现场考核"
        submit.plan.fees = [Xcert_Common_V1_CertificateLevel.elementary, .intermediate, .advanced].map { level in
            var fee = Xcert_Filing_V1_LevelFee()
            fee.level = level
            fee.fee.fen = 30_000
            fee.costBasis = "场地、考评员、耗材"
            return fee
        }
        let filing = try await self.call(Xcert_Filing_V1_FilingService.Method.submitFiling, submit, token: car)
        var review = Xcert_Filing_V1_ReviewFilingRequest()
        review.id = filing.id
        review.approve = true
        _ = try await self.call(Xcert_Filing_V1_FilingService.Method.reviewFiling, review, token: self.admin)
        try await self.qualify("4136010001", "AUTO", year: year)
        try await self.qualify("4136010003", "AUTO", year: year)
        return RosterWorld(car: car, bim: bim, carOrganization: seeded.carOrganization)
    }

    /// Starts a roster of an AUTO exam at the site on 2026-06-15.
    func createRoster(
        level: Xcert_Common_V1_CertificateLevel = .elementary, day: Int32 = 15, supersedes: Int64 = 0, reason: String = "", token: String
    ) async throws -> Xcert_Filing_V1_Roster {
        try await self.call(
            Xcert_Filing_V1_RosterService.Method.createRoster,
            Self.rosterRequest(level: level, day: day, supersedes: supersedes, reason: reason), token: token)
    }

    static func rosterRequest(
        level: Xcert_Common_V1_CertificateLevel = .elementary, day: Int32 = 15, supersedes: Int64 = 0, reason: String = ""
    ) -> Xcert_Filing_V1_CreateRosterRequest {
        var request = Xcert_Filing_V1_CreateRosterRequest()
        request.session.certificateCode = "AUTO"
        request.session.level = level
        request.session.siteSchoolCode = RosterWorld.site
        request.session.examDate.year = RosterWorld.year
        request.session.examDate.month = 6
        request.session.examDate.day = day
        request.supersedesRosterID = supersedes
        request.correctionReason = reason
        return request
    }

    func upload(
        _ roster: Int64, chunk: Int32, _ rows: [Xcert_Filing_V1_CandidateRow], token: String
    ) async throws -> Xcert_Filing_V1_UploadChunkResponse {
        try await self.call(Xcert_Filing_V1_RosterService.Method.uploadChunk, Self.chunk(roster, chunk, rows), token: token)
    }

    static func chunk(_ roster: Int64, _ chunk: Int32, _ rows: [Xcert_Filing_V1_CandidateRow]) -> Xcert_Filing_V1_UploadChunkRequest {
        var request = Xcert_Filing_V1_UploadChunkRequest()
        request.rosterID = roster
        request.chunkIndex = chunk
        request.rows = rows
        return request
    }

    func seal(_ roster: Int64, expecting rows: Int64 = 0, token: String) async throws -> Xcert_Filing_V1_Roster {
        var request = Xcert_Filing_V1_SealRosterRequest()
        request.rosterID = roster
        request.expectedRowCount = rows
        return try await self.call(Xcert_Filing_V1_RosterService.Method.sealRoster, request, token: token)
    }

    /// A session of `rows` made final: uploaded and sealed by the organization of `token`, its
    /// notice (5 days in 2026) recorded by the province as started on 20 June, and closed by
    /// the organization, which issues its certificates. Returns the closed notice.
    func finalSession(_ rows: [Xcert_Filing_V1_CandidateRow], token: String) async throws -> Xcert_Filing_V1_ResultNotice {
        let notices = Xcert_Filing_V1_ResultNoticeService.Method.self
        let roster = try await self.createRoster(token: token)
        _ = try await self.upload(roster.id, chunk: 0, rows, token: token)
        _ = try await self.seal(roster.id, token: token)
        var policy = Xcert_Filing_V1_SetNoticePolicyRequest()
        policy.policy.year = 2026
        policy.policy.days = 5
        _ = try await self.call(notices.setNoticePolicy, policy, token: self.admin)
        var start = Xcert_Filing_V1_StartNoticeRequest()
        start.rosterID = roster.id
        start.startsOn = LocalDate(year: 2026, month: 6, day: 20)!.wire
        start.reason = "已于6月20日起在省厅网站公示"
        _ = try await self.call(notices.startNotice, start, token: self.admin)
        var close = Xcert_Filing_V1_CloseNoticeRequest()
        close.rosterID = roster.id
        return try await self.call(notices.closeNotice, close, token: token)
    }

    func roster(_ id: Int64, token: String) async throws -> Xcert_Filing_V1_Roster {
        var request = Xcert_Filing_V1_GetRosterRequest()
        request.id = id
        return try await self.call(Xcert_Filing_V1_RosterService.Method.getRoster, request, token: token)
    }

    func rosterChanges(after: Int64 = 0, token: String? = nil) async throws -> Xcert_Filing_V1_ListRosterChangesResponse {
        var request = Xcert_Filing_V1_ListRosterChangesRequest()
        request.after = after
        return try await self.call(Xcert_Filing_V1_RosterService.Method.listRosterChanges, request, token: token ?? self.admin)
    }
}

/// Candidates for tests: numbered, with valid national ID numbers.
enum Candidates {
    /// A valid 18-character national ID number for person `n` (check character by GB 11643).
    static func nationalID(_ n: Int) -> String {
        let body = "36" + String(format: "%015d", n)
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(body, weights).reduce(0) { $0 + Int(String($1.0))! * $1.1 }
        return body + String(Array("10X98765432")[sum % 11])
    }

    /// Candidate `n` of `school`: approved and attended, theory and practical scores in
    /// tenths, passed as the 40/60 rule with pass mark 60 says.
    static func row(
        _ n: Int, school: String = RosterWorld.site, theory: Int32 = 800, practical: Int32 = 700
    ) -> Xcert_Filing_V1_CandidateRow {
        var row = Xcert_Filing_V1_CandidateRow()
        row.candidateNumber = String(format: "AUTO2026%07d", n)
        row.name = "考生\(n)"
        row.nationalID = self.nationalID(n)
        row.schoolCode = school
        row.specialty = "S001"
        row.registration = .approved
        row.attended = true
        row.componentScoresTenths = [theory, practical]
        row.passed = Int(theory) * 40 + Int(practical) * 60 >= 60_000
        return row
    }

    /// `count` candidates from `first`, alternating between the two qualified schools.
    static func rows(from first: Int, count: Int) -> [Xcert_Filing_V1_CandidateRow] {
        (first..<first + count).map { n in
            self.row(n, school: n % 2 == 0 ? "4136010001" : "4136010003", theory: Int32(n % 1001), practical: Int32((n * 7) % 1001))
        }
    }
}
