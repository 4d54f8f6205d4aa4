import Foundation
import SwiftProtobuf
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

@Suite(
    "Assessment: self-evaluation and review", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .serialized, .timeLimit(.minutes(3)))
struct EvaluationTests {
    static let evidence: Xcert_Assessment_V1_Evidence = {
        var evidence = Xcert_Assessment_V1_Evidence()
        evidence.name = "1+X工作领导小组成立文件.pdf"
        evidence.sha256 = String(repeating: "ab", count: 32)
        return evidence
    }()

    /// A self-evaluation report (自评报告) to send with the scores.
    static let report = "本校2026年度1+X证书制度试点工作自评报告：组织保障、经费投入、师资培训、考核实施均按方案推进。"

    static func score(_ code: String, _ tenths: Int32, evidence: Bool = true) -> Xcert_Assessment_V1_SelfScore {
        var score = Xcert_Assessment_V1_SelfScore()
        score.code = code
        score.pointsTenths = tenths
        if evidence { score.evidence = [Self.evidence] }
        return score
    }

    @Test(
        "self-scores are checked against the scheme in use; review scores every manual item, keeps the difference and locks the evaluation")
    func selfEvaluationAndReview() async throws {
        try await withFilingStack { h in
            try await h.seedReference()
            try await h.createSchool("4136010001")
            let assessment = try await Assessment.start(h)
            let school = try await h.token(role: "school", party: "4136010001")
            var submit = Xcert_Assessment_V1_SubmitSelfEvaluationRequest()
            submit.schoolCode = "4136010001"
            submit.year = 2026
            submit.scores = [Self.score("2-1", 40)]
            submit.report = Self.report
            let unpublished = try #require(
                await assessment.refusal(Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, token: school))
            #expect(
                unpublished.code == .failedPrecondition && unpublished.message.contains("no scheme of 2026 is published"),
                "\(unpublished.message)")

            var create = Xcert_Assessment_V1_CreateSchemeRequest()
            create.year = 2026
            _ = try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.createScheme, create, token: h.admin)
            var publish = Xcert_Assessment_V1_PublishSchemeRequest()
            publish.year = 2026
            publish.version = 1
            _ = try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.publishScheme, publish, token: h.admin)

            submit.scores = [
                Self.score("2-1", 41), Self.score("2-2", 10, evidence: false), Self.score("1-1", 10), Self.score("9-9", 1),
                Self.score("2-3", 30), Self.score("2-3", 30),
            ]
            let refused = try #require(
                await assessment.refusal(Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, token: school))
            #expect(
                refused.fieldViolations.map(\.field) == [
                    "scores[0].points_tenths", "scores[1].evidence", "scores[2].code", "scores[3].code", "scores[5].code",
                ], "\(refused.fieldViolations)")
            #expect(refused.fieldViolations[2].description.contains("computed from the system's data"))
            #expect(try await h.scalar("SELECT count(*) FROM assessment.evaluations", as: Int64.self) == 0)

            submit.scores = [Self.score("2-1", 40), Self.score("2-2", 0, evidence: false), Self.score("3-1", 50), Self.score("7-1", 10)]
            let first = try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, token: school)
            #expect(first.state == .selfSubmitted && first.schemeVersion == 1 && first.items.count == 33)
            #expect(first.selfTotalTenths == 100)
            #expect(first.items.first { $0.code == "2-1" }?.evidence == [Self.evidence])
            // Until the review, the school may submit again; it replaces the scores.
            submit.scores = [Self.score("2-1", 40), Self.score("3-1", 45)]
            #expect(
                try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, token: school)
                    .selfTotalTenths == 85)

            // Another school, an organization: refused.
            let other = try await h.token(role: "school", party: "4136010002")
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, token: other)?.code
                    == .notFound)
            var get = Xcert_Assessment_V1_GetEvaluationRequest()
            get.schoolCode = "4136010001"
            get.year = 2026
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_EvaluationService.Method.getEvaluation, get, token: other)?.code == .notFound)

            var review = Xcert_Assessment_V1_ReviewEvaluationRequest()
            review.schoolCode = "4136010001"
            review.year = 2026
            review.scores = [Self.review("2-1", 30, "文件未盖章")]
            let partial = try #require(
                await assessment.refusal(Xcert_Assessment_V1_EvaluationService.Method.reviewEvaluation, review, token: h.admin))
            #expect(
                partial.fieldViolations.map(\.field) == ["scores"] && partial.fieldViolations[0].description.contains("2-2"),
                "\(partial.fieldViolations)")
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_EvaluationService.Method.reviewEvaluation, review, token: school)?.code
                    == .permissionDenied)
            let manual = first.items.filter { $0.kind == .manual }.map(\.code)
            review.scores = manual.map { code in
                code == "2-1" ? Self.review(code, 30, "文件未盖章") : code == "3-1" ? Self.review(code, 45, "") : Self.review(code, 0, "")
            }
            let locked = try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.reviewEvaluation, review, token: h.admin)
            #expect(locked.state == .locked && locked.reviewedTotalTenths == 75 && locked.selfTotalTenths == 85)
            let item = try #require(locked.items.first { $0.code == "2-1" })
            #expect(item.reviewed && item.reviewedPointsTenths == 30 && item.differenceTenths == -10 && item.reviewComment == "文件未盖章")

            let late = try #require(
                await assessment.refusal(Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, token: school))
            #expect(late.code == .failedPrecondition && late.message.contains("locked"))
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_EvaluationService.Method.reviewEvaluation, review, token: h.admin)?.code
                    == .failedPrecondition)
            #expect(try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.getEvaluation, get, token: school) == locked)

            // The scorecard and a refused submission through xctl.
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let address = ["--assessment", "127.0.0.1:\(assessment.address.port)"]
            let card = try await runCommand(
                xctl,
                ["assessment", "evaluation", "show", "--school", "4136010001", "--year", "2026", "--format", "csv", "--token", school]
                    + address)
            #expect(card.status == 0 && card.output.contains("2-1,明确专职部门负责校内1+X推进工作,4.0,4.0,3.0,-1.0,3.0,文件未盖章"), "\(card.output)")
            #expect(card.output.contains("1-5,当年新增考核站点,4.0,,,,0.0,computed: none or no data"), "\(card.output)")
            #expect(card.output.contains("合计,,,8.5,7.5,,7.5,reviewed by 省厅管理员"), "\(card.output)")
            let report = try await runCommand(
                xctl,
                ["assessment", "report", "scorecard", "--school", "4136010001", "--year", "2026", "--format", "csv", "--token", school]
                    + address)
            #expect(report.status == 0 && report.output == card.output)
            let json = FileManager.default.temporaryDirectory.appendingPathComponent("scores-\(UUID().uuidString).json")
            try Data(#"{"scores": [{"code": "2-1", "points_tenths": 41}]}"#.utf8).write(to: json)
            defer { try? FileManager.default.removeItem(at: json) }
            let refusedByXctl = try await runCommand(
                xctl,
                ["assessment", "evaluation", "submit", "--school", "4136010001", "--year", "2026", "--json", json.path, "--token", school]
                    + address)
            #expect(
                refusedByXctl.status == 1 && refusedByXctl.output.contains("FAILED_PRECONDITION")
                    && refusedByXctl.output.contains("locked"), "\(refusedByXctl.output)")

            // The scheme it was scored against stays its scheme after a new version is published.
            create.indicators = try await assessment.call(
                Xcert_Assessment_V1_SchemeService.Method.getDefaultTemplate, Xcert_Assessment_V1_GetDefaultTemplateRequest(), token: h.admin
            ).indicators
            create.indicators[6].maxPointsTenths = 50
            _ = try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.createScheme, create, token: h.admin)
            publish.version = 2
            _ = try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.publishScheme, publish, token: h.admin)
            let after = try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.getEvaluation, get, token: h.admin)
            #expect(after.schemeVersion == 1 && after.items.first { $0.code == "2-1" }?.maxPointsTenths == 40)
            await assessment.stop()
        }
    }

    @Test(
        """
        computed items: 1-1, 1-2 and 1-3 from the outcomes, 1-4-1 and 1-4-2 from settlement, 1-5, 4-1, 4-2 and 6-2 from the registry; \
        they follow \
        changes until the review, which needs every source and freezes them
        """
    )
    func computedItems() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let assessment = try await Assessment.start(h)
            let settlement = try #require(h.settlement)
            try await assessment.publishDefaultScheme(token: h.admin)

            // 40 candidates of 4136010001 (qualified for 50): 30 pass, 10 fail.
            let passing = (0..<30).map { Candidates.row($0, theory: 800, practical: 700) }
            let failing = (30..<40).map { Candidates.row($0, theory: 300, practical: 300) }
            let roster = try await h.createRoster(token: world.car)
            _ = try await h.upload(roster.id, chunk: 0, passing + failing, token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 1, h)

            // Settlement: 3 of 4 receivables paid by their due dates, 300 of 400 yuan paid.
            settlement.setPayments("4136010001", year: 2026, due: 4, paidByDueDate: 3, receivableFen: 40_000, receivedFen: 30_000)
            settlement.setPayments("4136010003", year: 2026, due: 1, paidByDueDate: 1, receivableFen: 10_000, receivedFen: 10_000)
            // Registry: one site opened at the school in 2026 counts; one opened in 2025 and one elsewhere do not.
            try await h.registerSite("4136010001", "AUTO", opened: 2026, token: world.car)
            // 4136010002 holds no AUTO qualification, nor 4136010001 one for BIM: only the
            // province may register a site there.
            try await h.registerSite("4136010002", "AUTO", opened: 2026, token: h.admin)
            try await h.registerSite("4136010001", "BIM", opened: 2025, token: h.admin)
            // The school leads AUTO's alliance (a final selection; the selection itself is the registry's tests').
            try await h.postgres.query(
                """
                INSERT INTO registry.lead_selections (certificate_code, year, phase, applications_close, finalized_at)
                VALUES ('AUTO', 2026, 'final', '2026-03-31', now())
                """,
                logger: testLogger("evaluation")
            )
            try await h.postgres.query(
                """
                INSERT INTO registry.lead_schools (certificate_code, year, school_code, is_primary)
                VALUES ('AUTO', 2026, '4136010001', true)
                """,
                logger: testLogger("evaluation")
            )

            let school = try await h.token(role: "school", party: "4136010001")
            var submit = Xcert_Assessment_V1_SubmitSelfEvaluationRequest()
            submit.schoolCode = "4136010001"
            submit.year = 2026
            submit.scores = [Self.score("2-1", 40)]
            submit.report = Self.report
            // Two of its teachers trained for AUTO by its organization, one certified, one made a 种子师资.
            var trained = Xcert_Registry_V1_TrainingRecord()
            trained.schoolCode = "4136010001"
            trained.certificateCode = "AUTO"
            trained.level = .elementary
            trained.trainingName = "汽车运用与维修师资培训"
            trained.startOn = LocalDate(year: 2026, month: 7, day: 10)!.wire
            trained.endOn = LocalDate(year: 2026, month: 7, day: 14)!.wire
            trained.hours = 40
            var certified = trained
            certified.teacherName = "王老师"
            certified.completion.name = "结业证书.pdf"
            certified.completion.sizeBytes = 80_000
            certified.completion.sha256 = String(repeating: "ef", count: 32)
            certified.seedTeacher = true
            trained.teacherName = "李老师"
            var record = Xcert_Registry_V1_RecordTrainingsRequest()
            record.records = [certified, trained]
            _ = try await h.call(Xcert_Registry_V1_TeacherTrainingService.Method.recordTrainings, record, token: world.car)
            let open = try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, token: school)
            func points(_ evaluation: Xcert_Assessment_V1_Evaluation) -> [String: Int32] {
                Dictionary(uniqueKeysWithValues: evaluation.items.filter(\.computed).map { ($0.code, $0.finalPointsTenths) })
            }
            func item(_ evaluation: Xcert_Assessment_V1_Evaluation, _ code: String) -> Xcert_Assessment_V1_ItemScore? {
                evaluation.items.first { $0.code == code }
            }
            // 80 % registered: 6 × (80 − 50) / 40 = 4.5; all sat: 6; 75 % passed: 6 × 25 / 40 = 3.75, rounded down to 3.7.
            // 75 % on time and 75 % paid: 4 × (75 − 50) / 50 = 2 each; one new site: 2; one alliance led: 3; its one certificate
            // with a teacher certified: 4; one new 种子师资: 1.
            #expect(
                points(open) == [
                    "1-1": 45, "1-2": 60, "1-3": 37, "1-4-1": 20, "1-4-2": 20, "1-5": 20, "4-1": 40, "4-2": 10, "6-2": 30, "6-3": 0,
                ])
            #expect(!(item(open, "6-3")?.hasMeasure ?? true), "no schools' reporting calendar for 2026: no data, 0 points")
            #expect(
                item(open, "4-1")?.measure.numerator == 1 && item(open, "4-1")?.measure.denominator == 1 && item(open, "4-2")?.count == 1)
            #expect(item(open, "1-1")?.measure.numerator == 40 && item(open, "1-1")?.measure.denominator == 50)
            #expect(item(open, "1-4-2")?.measure.numerator == 30_000 && item(open, "1-4-2")?.measure.denominator == 40_000)
            #expect(item(open, "1-5")?.count == 1 && item(open, "6-2")?.count == 1)
            #expect(open.items.filter(\.computed).allSatisfy { $0.pendingReason.isEmpty })
            #expect(open.computedTotalTenths == 282 && open.finalTotalTenths == 282, "manual items count once reviewed")

            // The ten who failed were never there: 60 % registered (1.5), 100 % passed (6); and everything is paid now.
            let correction = try await h.createRoster(supersedes: roster.id, reason: "十人未报名", token: world.car)
            _ = try await h.upload(correction.id, chunk: 0, passing, token: world.car)
            _ = try await h.seal(correction.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 2, h)
            settlement.setPayments("4136010001", year: 2026, due: 4, paidByDueDate: 3, receivableFen: 30_000, receivedFen: 30_000)
            var get = Xcert_Assessment_V1_GetEvaluationRequest()
            get.schoolCode = "4136010001"
            get.year = 2026
            let corrected = try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.getEvaluation, get, token: school)
            #expect(points(corrected)["1-1"] == 15 && points(corrected)["1-3"] == 60 && points(corrected)["1-4-2"] == 40)

            // Settlement down: the items wait, with why, and the review is refused rather than locking a 0.
            settlement.answerTimeliness(false)
            let waiting = try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.getEvaluation, get, token: school)
            #expect(item(waiting, "1-4-1")?.pendingReason.contains("settlement") == true, "\(String(describing: item(waiting, "1-4-1")))")
            #expect(item(waiting, "1-4-1")?.finalPointsTenths == 0 && points(waiting)["1-5"] == 20)
            var review = Xcert_Assessment_V1_ReviewEvaluationRequest()
            review.schoolCode = "4136010001"
            review.year = 2026
            review.scores = open.items.filter { $0.kind == .manual }.map { Self.review($0.code, $0.code == "2-1" ? 40 : 0, "") }
            let refused = try #require(
                await assessment.refusal(Xcert_Assessment_V1_EvaluationService.Method.reviewEvaluation, review, token: h.admin))
            #expect(refused.code == .unavailable && refused.message.contains("1-4-1"), "\(refused)")
            #expect(
                try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.getEvaluation, get, token: school).state
                    == .selfSubmitted)
            settlement.answerTimeliness(true)

            let locked = try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.reviewEvaluation, review, token: h.admin)
            #expect(locked.computedTotalTenths == 295 && locked.finalTotalTenths == 335)
            #expect(item(locked, "1-5")?.count == 1 && item(locked, "1-4-2")?.measure.denominator == 30_000)

            // After the review, outcomes, payments and sites may change; the evaluation does not.
            let again = try await h.createRoster(supersedes: correction.id, reason: "恢复", token: world.car)
            _ = try await h.upload(again.id, chunk: 0, passing + failing, token: world.car)
            _ = try await h.seal(again.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 3, h)
            settlement.setPayments("4136010001", year: 2026, due: 4, paidByDueDate: 0, receivableFen: 40_000, receivedFen: 0)
            try await h.registerSite("4136010001", "NEV", opened: 2026, token: h.admin)
            #expect(try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.getEvaluation, get, token: school) == locked)
            await assessment.stop()
        }
    }

    @Test(
        """
        the evaluation calendar: a self-evaluation after the year's due day is refused, unless the province extended the school's; \
        the 自评报告 and its attachments come with it and are checked; the due days are in the view and through xctl
        """
    )
    func evaluationCalendar() async throws {
        try await withFilingStack { h in
            try await h.seedReference()
            for code in ["4136010001", "4136010002"] { try await h.createSchool(code) }
            // The evaluated year is this one in the province, so that "yesterday" and "today" are due days it permits.
            let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
            let year = Int32(today.year)
            let yesterday = today.adding(days: -1)
            let assessment = try await Assessment.start(h)
            try await assessment.publishDefaultScheme(year: year, token: h.admin)
            let school = try await h.token(role: "school", party: "4136010001")
            let method = Xcert_Assessment_V1_EvaluationService.Method.self

            var submit = Xcert_Assessment_V1_SubmitSelfEvaluationRequest()
            submit.schoolCode = "4136010001"
            submit.year = year
            submit.scores = [Self.score("2-1", 40)]
            var attachment = Xcert_Filing_V1_Attachment()
            attachment.name = "自评报告附件.pdf"
            attachment.sizeBytes = 120_000
            attachment.sha256 = "0123"
            submit.attachments = [attachment]
            // No report, a bad digest: both named, with the scores' problems, in one answer.
            submit.scores.append(Self.score("9-9", 1))
            let incomplete = try #require(await assessment.refusal(method.submitSelfEvaluation, submit, token: school))
            #expect(
                incomplete.fieldViolations.map(\.field) == ["report", "attachments[0].sha256", "scores[1].code"],
                "\(incomplete.fieldViolations)")
            submit.scores.removeLast()
            submit.report = Self.report
            submit.attachments[0].sha256 = String(repeating: "cd", count: 32)

            // Without a calendar, no due day.
            var get = Xcert_Assessment_V1_GetEvaluationCalendarRequest()
            get.year = year
            #expect(await assessment.refusal(method.getEvaluationCalendar, get, token: h.admin)?.code == .notFound)
            let open = try await assessment.call(method.submitSelfEvaluation, submit, token: school)
            #expect(open.report == Self.report && open.attachments == submit.attachments && !open.hasDueOn)

            // Due yesterday: refused, naming the day; a school cannot set the calendar.
            var set = Xcert_Assessment_V1_SetEvaluationCalendarRequest()
            set.year = year
            set.dueOn = yesterday.wire
            #expect(await assessment.refusal(method.setEvaluationCalendar, set, token: school)?.code == .permissionDenied)
            let calendar = try await assessment.call(method.setEvaluationCalendar, set, token: h.admin)
            #expect(calendar.closingInstant == "\(yesterday) 23:59:59 +08:00" && calendar.setBy == "省厅管理员")
            let late = try #require(await assessment.refusal(method.submitSelfEvaluation, submit, token: school))
            #expect(
                late.code == .failedPrecondition && late.message.contains("due by \(yesterday) 23:59:59 +08:00")
                    && late.message.contains("extend"), "\(late.message)")
            var admin = submit
            admin.schoolCode = "4136010002"
            #expect(
                await assessment.refusal(method.submitSelfEvaluation, admin, token: h.admin)?.code == .failedPrecondition,
                "the province submitting for a school keeps the day too")

            // Extensions: after the year's day, with a reason; then the school submits.
            var extend = Xcert_Assessment_V1_ExtendEvaluationDueRequest()
            extend.schoolCode = "4136010001"
            extend.year = year
            extend.dueOn = yesterday.wire
            extend.reason = "附件需补充盖章"
            let notLater = try #require(await assessment.refusal(method.extendEvaluationDue, extend, token: h.admin))
            #expect(notLater.fieldViolations.map(\.field) == ["due_on"], "\(notLater)")
            extend.dueOn = today.wire
            extend.reason = " "
            #expect(
                await assessment.refusal(method.extendEvaluationDue, extend, token: h.admin)?.fieldViolations.map(\.field) == ["reason"])
            extend.reason = "附件需补充盖章"
            let extended = try await assessment.call(method.extendEvaluationDue, extend, token: h.admin)
            #expect(extended.extensions.map(\.schoolCode) == ["4136010001"] && extended.extensions[0].reason == "附件需补充盖章")
            let accepted = try await assessment.call(method.submitSelfEvaluation, submit, token: school)
            #expect(accepted.dueOn == today.wire && accepted.dueExtended && accepted.report == Self.report)
            #expect(await assessment.refusal(method.submitSelfEvaluation, admin, token: h.admin)?.code == .failedPrecondition)

            // Moving the year's day onto the extension is refused, naming the school; each school sees only its own extension.
            set.dueOn = today.wire
            let overtaken = try #require(await assessment.refusal(method.setEvaluationCalendar, set, token: h.admin))
            #expect(overtaken.fieldViolations.first?.description.contains("school 4136010001 (to \(today))") == true, "\(overtaken)")
            #expect(try await assessment.call(method.getEvaluationCalendar, get, token: school).extensions.count == 1)
            let other = try await h.token(role: "school", party: "4136010002")
            let seen = try await assessment.call(method.getEvaluationCalendar, get, token: other)
            #expect(seen.extensions.isEmpty && seen.dueOn == yesterday.wire)

            // The view: the school's day, its extension and its report.
            let row = try await h.scalar(
                """
                SELECT to_char(due_on, 'YYYY-MM-DD') || ' ' || extended || ' ' || report_sent || ' ' || attachments
                FROM analytics.evaluation_due_days WHERE year = \(year) AND school_code = '4136010001'
                """, as: String.self)
            #expect(row == "\(today) true true 1")

            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let shown = try await runCommand(
                xctl,
                [
                    "assessment", "evaluation", "calendar", "show", "--year", String(year), "--format", "csv", "--token", h.admin,
                    "--assessment", "127.0.0.1:\(assessment.address.port)",
                ])
            #expect(
                shown.status == 0 && shown.output.contains("(all),\(yesterday),") && shown.output.contains("4136010001,\(today),附件需补充盖章"),
                "\(shown.output)")
            await assessment.stop()
        }
    }

    static func review(_ code: String, _ tenths: Int32, _ comment: String) -> Xcert_Assessment_V1_ReviewScore {
        var score = Xcert_Assessment_V1_ReviewScore()
        score.code = code
        score.pointsTenths = tenths
        score.comment = comment
        return score
    }
}
