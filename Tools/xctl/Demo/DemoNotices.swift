import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Results on public notice (成绩公示): the province sets the year's window (5 days, working
/// days where its calendar is loaded). The session the demo corrects goes on notice first,
/// and its candidate's school objects before the correction (which then answers it); the
/// demo's year being past, every other session's notice is recorded by the province as held
/// a week after its exam, and closed, so that its results are final. One more session goes
/// on notice today, and the organization rejects a school's objection with its reason: that
/// one and the corrected one stay on notice until their windows end. Closing a notice issues
/// the signed certificates of the candidates who passed.
extension DemoRun {
    /// Sets the year's window, puts the session of `roster` on notice today and has the school
    /// of `candidate` object for it; returns the objection, which a correction answers.
    func objectBeforeCorrection(
        roster: Xcert_Filing_V1_Roster, candidate: Xcert_Filing_V1_CandidateRow, organization: Party, _ parties: DemoParties
    ) async throws -> Xcert_Filing_V1_Objection? {
        try await self.setNoticePolicy()
        guard let school = parties.schools[candidate.schoolCode] else { return nil }
        var start = Xcert_Filing_V1_StartNoticeRequest()
        start.rosterID = roster.id
        _ = try await self.stack.call(Xcert_Filing_V1_ResultNoticeService.Method.startNotice, start, by: organization)
        var lodge = Xcert_Filing_V1_LodgeObjectionRequest()
        lodge.rosterID = roster.id
        lodge.candidateNumber = candidate.candidateNumber
        lodge.reason = "准考证号\(candidate.candidateNumber)考生实际参加考核（附考场签到表），公示名单误记为缺考"
        lodge.evidence = [demoDocument("\(candidate.candidateNumber)考场签到表.pdf")]
        let objection = try await self.stack.call(Xcert_Filing_V1_ResultNoticeService.Method.lodgeObjection, lodge, by: school)
        self.count("objections")
        return objection
    }

    /// The organization upholds `objection` with the sealed `correction`.
    func answer(_ objection: Xcert_Filing_V1_Objection, correction: Xcert_Filing_V1_Roster, organization: Party) async throws {
        var answer = Xcert_Filing_V1_AnswerObjectionRequest()
        answer.objectionID = objection.id
        answer.correctingRosterID = correction.id
        _ = try await self.stack.call(Xcert_Filing_V1_ResultNoticeService.Method.answerObjection, answer, by: organization)
        self.count("objections upheld by a correction")
    }

    /// Every session still registered: one on notice from today with an objection rejected,
    /// the rest recorded as held a week after the exam and closed.
    func notices(_ reference: DemoReference, _ parties: DemoParties) async throws {
        try await self.setNoticePolicy()
        var list = Xcert_Filing_V1_ListNoticesRequest()
        list.year = self.year
        list.state = .registered
        list.page.pageSize = Int32(Paging.maximumSize)
        var registered: [Xcert_Filing_V1_ResultNotice] = []
        repeat {
            let page = try await self.stack.call(
                Xcert_Filing_V1_ResultNoticeService.Method.listNotices, list, by: self.province, kind: .read)
            registered += page.notices
            list.page.pageToken = page.page.nextPageToken
        } while !list.page.pageToken.isEmpty
        guard let first = registered.first else { return }

        // The first goes on notice today; a school objects to its candidate's score, and the organization rejects it.
        if let organization = reference.certificate(first.certificateCode).flatMap({ parties.organizations[$0.organizationID] }) {
            var start = Xcert_Filing_V1_StartNoticeRequest()
            start.rosterID = first.rosterID
            _ = try await self.stack.call(Xcert_Filing_V1_ResultNoticeService.Method.startNotice, start, by: organization)
            var candidates = Xcert_Filing_V1_ListCandidatesRequest()
            candidates.rosterID = first.rosterID
            candidates.page.pageSize = 50
            let listed = try await self.stack.call(
                Xcert_Filing_V1_RosterService.Method.listCandidates, candidates, by: organization, kind: .read
            ).candidates
            if let candidate = listed.first(where: { $0.attended && !$0.passed }) ?? listed.first,
                let school = parties.schools[candidate.schoolCode]
            {
                var lodge = Xcert_Filing_V1_LodgeObjectionRequest()
                lodge.rosterID = first.rosterID
                lodge.candidateNumber = candidate.candidateNumber
                lodge.reason = "考生对实操成绩有异议，申请复核评分"
                let objection = try await self.stack.call(Xcert_Filing_V1_ResultNoticeService.Method.lodgeObjection, lodge, by: school)
                self.count("objections")
                var answer = Xcert_Filing_V1_AnswerObjectionRequest()
                answer.objectionID = objection.id
                answer.rejectionReason = "经考评员复核评分记录与现场录像，评分无误，维持原成绩"
                _ = try await self.stack.call(Xcert_Filing_V1_ResultNoticeService.Method.answerObjection, answer, by: organization)
                self.count("objections rejected")
            }
        }

        // The rest: held a week after the exam (as the province records it), closed once the window has ended.
        try await forEachConcurrently(Array(registered.dropFirst())) { notice in
            guard let exam = LocalDate(wire: notice.examDate) else { return }
            var start = Xcert_Filing_V1_StartNoticeRequest()
            start.rosterID = notice.rosterID
            let starts = min(exam.adding(days: 7), self.today)
            if starts != self.today {
                start.startsOn = starts.wire
                start.reason = "成绩已于\(starts)起在省厅网站公示，无异议（补录）"
            }
            let started = try await self.stack.call(Xcert_Filing_V1_ResultNoticeService.Method.startNotice, start, by: self.province)
            guard let ends = LocalDate(wire: started.endsOn), ends < self.today else { return }
            var close = Xcert_Filing_V1_CloseNoticeRequest()
            close.rosterID = notice.rosterID
            let final = try await self.stack.call(Xcert_Filing_V1_ResultNoticeService.Method.closeNotice, close, by: self.province)
            self.count("notices closed")
            self.count("certificates issued", Int(final.certificates))
        }
        // Monitoring finds one certificate issued on a substitute's exam: the province revokes it.
        var issued = Xcert_Filing_V1_ListCertificatesRequest()
        issued.year = self.year
        issued.page.pageSize = 1
        if let first = try await self.stack.call(
            Xcert_Filing_V1_CertificateService.Method.listCertificates, issued, by: self.province, kind: .read
        ).certificates.first {
            var revoke = Xcert_Filing_V1_RevokeCertificateRequest()
            revoke.number = first.number
            revoke.reason = "省级监测发现该考生由他人代考，成绩无效，撤销证书"
            _ = try await self.stack.call(Xcert_Filing_V1_CertificateService.Method.revokeCertificate, revoke, by: self.province)
            self.count("certificates revoked")
        }
        self.progress(
            "notices",
            """
            \(self.counted("notices closed")) sessions' results final after their notice, \(self.counted("certificates issued")) \
            certificates issued and signed (\(self.counted("certificates revoked")) revoked); \(self.counted("objections")) objections \
            (\(self.counted("objections upheld by a correction")) upheld by a correction, \(self.counted("objections rejected")) \
            rejected), their sessions on notice until the window ends (xctl results notice list)
            """)
    }

    /// The year's window: 5 days.
    private func setNoticePolicy() async throws {
        var policy = Xcert_Filing_V1_SetNoticePolicyRequest()
        policy.policy.year = self.year
        policy.policy.days = 5
        _ = try await self.stack.call(Xcert_Filing_V1_ResultNoticeService.Method.setNoticePolicy, policy, by: self.province)
    }
}
