import Foundation
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

@Suite(
    "Filing: results on public notice (成绩公示), objections and answers, final results",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct ResultNoticeTests {
    @Test(
        """
        registered → on notice → final: the window from the province's policy; objections by the candidate's school during it, \
        answered by a correcting roster or a reasoned rejection; no close while the window runs or an objection is open at its end; \
        a notice the province records as held earlier; the views and xctl
        """
    )
    func noticeObjectionsAndClose() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let method = Xcert_Filing_V1_ResultNoticeService.Method.self
            let school = try await h.token(role: "school", party: "4136010001")
            let otherSchool = try await h.token(role: "school", party: "4136010003")
            // Session 1 on 15 June: four of 4136010001, two of 4136010003.
            let roster = try await h.createRoster(token: world.car)
            _ = try await h.upload(
                roster.id, chunk: 0, (0..<4).map { Candidates.row($0) } + (4..<6).map { Candidates.row($0, school: "4136010003") },
                token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            var get = Xcert_Filing_V1_GetNoticeRequest()
            get.rosterID = roster.id
            #expect(try await h.call(method.getNotice, get, token: school).state == .registered, "the notice is public: a school reads it")

            // No window set for 2026: refused. The province sets 5 days; an organization may not.
            var start = Xcert_Filing_V1_StartNoticeRequest()
            start.rosterID = roster.id
            #expect(await h.refusal(method.startNotice, start, token: world.car)?.code == .failedPrecondition)
            var policy = Xcert_Filing_V1_SetNoticePolicyRequest()
            policy.policy.year = 2026
            policy.policy.days = 5
            #expect(await h.refusal(method.setNoticePolicy, policy, token: world.car)?.code == .permissionDenied)
            policy.policy.days = 31
            #expect(await h.refusal(method.setNoticePolicy, policy, token: h.admin)?.fieldViolations.map(\.field) == ["policy.days"])
            policy.policy.days = 5
            _ = try await h.call(method.setNoticePolicy, policy, token: h.admin)

            // The organization puts it on notice from today (only the province records an earlier start).
            var backdated = start
            backdated.startsOn = LocalDate(year: 2026, month: 6, day: 20)!.wire
            backdated.reason = "已在官网公示"
            #expect(await h.refusal(method.startNotice, backdated, token: world.car)?.code == .permissionDenied)
            let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
            let onNotice = try await h.call(method.startNotice, start, token: world.car)
            #expect(onNotice.state == .onNotice && onNotice.startsOn == today.wire && onNotice.days == 5)
            #expect(onNotice.endsOn == today.adding(days: 4).wire && !onNotice.workingDays, "no working-day calendar loaded: calendar days")
            #expect(await h.refusal(method.startNotice, start, token: world.car)?.code == .alreadyExists)

            // Objections: a school for its own candidate only; an organization may not object.
            func objection(_ number: Int, _ reason: String) -> Xcert_Filing_V1_LodgeObjectionRequest {
                var request = Xcert_Filing_V1_LodgeObjectionRequest()
                request.rosterID = roster.id
                request.candidateNumber = Candidates.row(number).candidateNumber
                request.reason = reason
                return request
            }
            var evidenced = objection(0, "该生实操成绩录入有误，应为85分")
            var evidence = Xcert_Filing_V1_Attachment()
            evidence.name = "实操评分表.pdf"
            evidence.sizeBytes = 52_000
            evidence.sha256 = String(repeating: "ab", count: 32)
            evidenced.evidence = [evidence]
            let first = try await h.call(method.lodgeObjection, evidenced, token: school)
            #expect(first.state == .open && first.candidateName == "考生0" && first.schoolCode == "4136010001" && first.evidence.count == 1)
            let second = try await h.call(method.lodgeObjection, objection(1, "该生缺考记录有误"), token: school)
            #expect(
                await h.refusal(method.lodgeObjection, objection(0, "非本校学生"), token: otherSchool)?.fieldViolations.map(\.field)
                    == ["candidate_number"])
            #expect(await h.refusal(method.lodgeObjection, objection(0, "x"), token: world.car)?.code == .permissionDenied)
            var empty = objection(2, "")
            empty.evidence = [evidence]
            empty.evidence[0].sha256 = "00"
            #expect(
                await h.refusal(method.lodgeObjection, empty, token: school)?.fieldViolations.map(\.field) == [
                    "reason", "evidence[0].sha256",
                ])

            // The window runs: no close.
            var close = Xcert_Filing_V1_CloseNoticeRequest()
            close.rosterID = roster.id
            #expect(await h.refusal(method.closeNotice, close, token: world.car)?.message.contains("runs until") == true)

            // Answers: the first upheld by a correcting roster sealed since, the second rejected with a reason.
            var answer = Xcert_Filing_V1_AnswerObjectionRequest()
            answer.objectionID = first.id
            #expect(
                await h.refusal(method.answerObjection, answer, token: world.car)?.fieldViolations.map(\.field) == ["correcting_roster_id"],
                "neither a roster nor a reason")
            answer.correctingRosterID = roster.id
            #expect(
                await h.refusal(method.answerObjection, answer, token: world.car)?.fieldViolations.map(\.field) == ["correcting_roster_id"],
                "the roster objected to was sealed before the objection")
            let correction = try await h.createRoster(supersedes: roster.id, reason: "异议更正：考生0实操成绩", token: world.car)
            _ = try await h.upload(
                correction.id, chunk: 0,
                [Candidates.row(0, theory: 800, practical: 850)] + (1..<4).map { Candidates.row($0) }
                    + (4..<6).map { Candidates.row($0, school: "4136010003") }, token: world.car)
            _ = try await h.seal(correction.id, token: world.car)
            answer.correctingRosterID = correction.id
            #expect(await h.refusal(method.answerObjection, answer, token: h.admin)?.code == .permissionDenied, "the organization answers")
            let upheld = try await h.call(method.answerObjection, answer, token: world.car)
            #expect(upheld.state == .corrected && upheld.correctedByRosterID == correction.id)
            #expect(await h.refusal(method.answerObjection, answer, token: world.car)?.code == .failedPrecondition, "answered already")
            var reject = Xcert_Filing_V1_AnswerObjectionRequest()
            reject.objectionID = second.id
            reject.rejectionReason = "经核查考场签到表，该生确未到考"
            #expect(try await h.call(method.answerObjection, reject, token: world.car).state == .rejected)
            let corrected = try await h.call(method.getNotice, get, token: h.admin)
            #expect(corrected.rosterID == correction.id && corrected.objections == 2 && corrected.openObjections == 0)

            // A third objection stays open past the window's end (the window is moved into the past, as the clock would):
            // the close is refused, naming it, until the organization answers.
            let third = try await h.call(method.lodgeObjection, objection(2, "姓名有误"), token: school)
            _ = try await h.postgres.query(
                """
                UPDATE filing.result_notices SET starts_on = current_date - 7, ends_on = current_date - 1
                WHERE session_roster_id = \(roster.id)
                """, logger: testLogger("notices"))
            #expect(await h.refusal(method.lodgeObjection, objection(3, "成绩有误"), token: school)?.message.contains("ended") == true)
            let blocked = try #require(await h.refusal(method.closeNotice, close, token: world.car))
            #expect(blocked.code == .failedPrecondition && blocked.message.contains("\(third.id) (candidate \(third.candidateNumber))"))
            reject.objectionID = third.id
            reject.rejectionReason = "姓名与报名信息一致"
            _ = try await h.call(method.answerObjection, reject, token: world.car)
            let final = try await h.call(method.closeNotice, close, token: world.car)
            #expect(final.state == .final && final.hasClosedAt && !final.closedBy.isEmpty)
            #expect(await h.refusal(method.lodgeObjection, objection(3, "成绩有误"), token: school)?.code == .failedPrecondition)

            // Session 2 on 16 June: the province records a notice held from 20 June, which has ended; it closes at once.
            let roster2 = try await h.createRoster(day: 16, token: world.car)
            _ = try await h.upload(roster2.id, chunk: 0, (10..<12).map { Candidates.row($0) }, token: world.car)
            _ = try await h.seal(roster2.id, token: world.car)
            backdated.rosterID = roster2.id
            backdated.reason = ""
            #expect(await h.refusal(method.startNotice, backdated, token: h.admin)?.fieldViolations.map(\.field) == ["reason"])
            backdated.reason = "已于2026年6月20日在省厅网站公示"
            var early = backdated
            early.startsOn = LocalDate(year: 2026, month: 6, day: 10)!.wire
            #expect(
                await h.refusal(method.startNotice, early, token: h.admin)?.fieldViolations.map(\.field) == ["starts_on"],
                "before the exam")
            let recorded = try await h.call(method.startNotice, backdated, token: h.admin)
            #expect(recorded.endsOn == LocalDate(year: 2026, month: 6, day: 24)!.wire && recorded.startReason == backdated.reason)
            close.rosterID = roster2.id
            #expect(try await h.call(method.closeNotice, close, token: h.admin).state == .final)

            // Session 3 on 17 June: sealed, not on notice.
            let roster3 = try await h.createRoster(day: 17, token: world.car)
            _ = try await h.upload(roster3.id, chunk: 0, [Candidates.row(20)], token: world.car)
            _ = try await h.seal(roster3.id, token: world.car)

            var list = Xcert_Filing_V1_ListNoticesRequest()
            list.year = 2026
            #expect(try await h.call(method.listNotices, list, token: h.admin).notices.map(\.state) == [.final, .final, .registered])
            list.state = .registered
            #expect(try await h.call(method.listNotices, list, token: world.car).notices.map(\.sessionRosterID) == [roster3.id])
            var objections = Xcert_Filing_V1_ListObjectionsRequest()
            objections.year = 2026
            #expect(try await h.call(method.listObjections, objections, token: school).objections.count == 3)
            #expect(try await h.call(method.listObjections, objections, token: otherSchool).objections.isEmpty)

            // The analysts' views say the same.
            let states = try await h.scalar(
                """
                SELECT string_agg(state || ':' || objections, ',' ORDER BY session_roster_id) FROM analytics.result_notices
                WHERE year = 2026
                """, as: String.self)
            #expect(states == "final:3,final:0,registered:0")
            let answered = try await h.scalar(
                "SELECT string_agg(state, ',' ORDER BY objection_id) FROM analytics.result_objections WHERE year = 2026", as: String.self)
            #expect(answered == "corrected,rejected,rejected")

            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let printed = try await runCommand(
                xctl,
                [
                    "results", "notice", "list", "--year", "2026", "--format", "csv", "--chinese-headers", "--filing",
                    "127.0.0.1:\(try #require(h.filingAddress).port)", "--token", h.admin,
                ])
            #expect(printed.status == 0 && printed.output.contains("考试已结束") && printed.output.contains("成绩登记"), "\(printed.output)")
        }
    }
}
