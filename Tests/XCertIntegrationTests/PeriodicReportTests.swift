import Foundation
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

@Suite(
    "Filing: periodic reports (周报, 双周报) and who is late or missing",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct PeriodicReportTests {
    static func calendar(
        _ year: Int32, _ party: Xcert_Filing_V1_ReportingParty, dueDaysAfter: Int32, dueMinute: Int32, figures: [(String, String)]
    ) -> Xcert_Filing_V1_SetReportingCalendarRequest {
        var request = Xcert_Filing_V1_SetReportingCalendarRequest()
        request.calendar.year = year
        request.calendar.party = party
        request.calendar.firstPeriodStarts = LocalDate(year: Int(year), month: 1, day: 1)!.wire
        request.calendar.periodDays = 1
        request.calendar.dueDaysAfter = dueDaysAfter
        request.calendar.dueMinute = dueMinute
        request.calendar.figures = figures.map { code, label in
            var figure = Xcert_Filing_V1_ReportFigure()
            figure.code = code
            figure.label = label
            return figure
        }
        return request
    }

    static func figure(_ code: String, _ value: Int64) -> Xcert_Filing_V1_FigureValue {
        var figure = Xcert_Filing_V1_FigureValue()
        figure.code = code
        figure.value = value
        return figure
    }

    @Test(
        """
        the province's calendars per kind of party; a report per party and period, on time before its due instant and late from it; \
        the late table lists the late and the missing of the parties expected, as the view does
        """
    )
    func calendarsReportsAndLateTable() async throws {
        try await withFilingStack { h in
            // Daily periods of this year, so that today's period exists whatever the day: the schools' reports are due at 00:00 of
            // their own day (so already late today), the organizations' 30 days after (so on time today).
            let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
            let year = Int32(today.year)
            let world = try await h.rosterWorld(year: year)
            let period = Int32(LocalDate(year: today.year, month: 1, day: 1)!.days(until: today) + 1)
            let school = try await h.token(role: "school", party: "4136010001")
            let method = Xcert_Filing_V1_PeriodicReportService.Method.self

            var schools = Self.calendar(
                year, .school, dueDaysAfter: 0, dueMinute: 0, figures: [("trained", "本期培训人数"), ("examined", "本期考核人数")])
            #expect(await h.refusal(method.setReportingCalendar, schools, token: school)?.code == .permissionDenied)
            var bad = schools
            bad.calendar.figures[1].code = "trained"
            bad.calendar.figures[0].label = ""
            #expect(
                await h.refusal(method.setReportingCalendar, bad, token: h.admin)?.fieldViolations.map(\.field) == [
                    "calendar.figures[0].label", "calendar.figures[1].code",
                ])
            bad = schools
            bad.calendar.periodDays = 0
            #expect(
                await h.refusal(method.setReportingCalendar, bad, token: h.admin)?.fieldViolations.map(\.field) == ["calendar.period_days"])
            let set = try await h.call(method.setReportingCalendar, schools, token: h.admin)
            #expect(set.periods == (today.year % 4 == 0 ? 366 : 365) && set.figures.count == 2)
            _ = try await h.call(
                method.setReportingCalendar,
                Self.calendar(year, .organization, dueDaysAfter: 30, dueMinute: 1439, figures: [("sessions", "本期考核场次")]),
                token: h.admin)

            // School 4136010001 reports today's period, after its due instant: late, complete.
            var report = Xcert_Filing_V1_SubmitPeriodicReportRequest()
            report.year = year
            report.party = .school
            report.period = period
            report.schoolCode = "4136010001"
            report.figures = [Self.figure("trained", 12), Self.figure("examined", 40)]
            report.text = "本期开展证书培训两次，组织考核一次。"
            let late = try await h.call(method.submitPeriodicReport, report, token: school)
            #expect(!late.onTime && late.complete && late.periodStarts == today.wire && late.dueInstant == "\(today) 00:00:00 +08:00")
            #expect(await h.refusal(method.submitPeriodicReport, report, token: school)?.code == .alreadyExists)
            var other = report
            other.schoolCode = "4136010003"
            #expect(await h.refusal(method.submitPeriodicReport, other, token: school)?.fieldViolations.map(\.field) == ["school_code"])
            var unknown = report
            unknown.figures = [Self.figure("nonsense", 1)]
            #expect(
                await h.refusal(method.submitPeriodicReport, unknown, token: school)?.fieldViolations.map(\.field) == ["figures[0].code"])
            var lead = report
            lead.party = .leadSchool
            #expect(await h.refusal(method.submitPeriodicReport, lead, token: school)?.code == .failedPrecondition, "it leads no alliance")
            if period < set.periods {
                var tomorrow = report
                tomorrow.period = period + 1
                #expect(await h.refusal(method.submitPeriodicReport, tomorrow, token: school)?.code == .failedPrecondition)
            }
            #expect(await h.refusal(method.submitPeriodicReport, report, token: world.car)?.code == .permissionDenied)

            // The organization reports today's period on time, without its figure and text: incomplete.
            var organization = Xcert_Filing_V1_SubmitPeriodicReportRequest()
            organization.year = year
            organization.party = .organization
            organization.period = period
            let onTime = try await h.call(method.submitPeriodicReport, organization, token: world.car)
            #expect(onTime.onTime && !onTime.complete && onTime.partyCode == String(world.carOrganization))

            // The late table: of the two pilot schools, one late, one missing; the organization on time.
            var status = Xcert_Filing_V1_GetReportingStatusRequest()
            status.year = year
            status.party = .school
            status.period = period
            status.lateOnly = true
            let table = try await h.call(method.getReportingStatus, status, token: h.admin)
            #expect(table.expected == 2 && table.late == 1 && table.missing == 1 && table.onTime == 0)
            #expect(table.lines.map { "\($0.partyCode) \($0.status)" } == ["4136010001 late", "4136010003 missing"])
            #expect(await h.refusal(method.getReportingStatus, status, token: school)?.code == .permissionDenied)
            status.party = .organization
            let organizations = try await h.call(method.getReportingStatus, status, token: h.admin)
            #expect(organizations.expected == 1 && organizations.onTime == 1 && organizations.lines.isEmpty, "late_only: none")
            if period < set.periods {
                status.party = .school
                status.period = period + 1
                status.lateOnly = false
                #expect(try await h.call(method.getReportingStatus, status, token: h.admin).lines.map(\.status) == [.notDue, .notDue])
            }

            // Item 6-3's measure: of the periods due by now, 4136010001's reports on time and complete (none: its one was late).
            var measures = Xcert_Filing_V1_GetReportingMeasuresRequest()
            measures.year = year
            let measured = try await h.call(method.getReportingMeasures, measures, token: h.admin)
            #expect(
                measured.periodsDue == period && measured.schools.map { "\($0.schoolCode) \($0.onTimeAndComplete)" } == ["4136010001 0"])
            #expect(try await h.call(method.getReportingMeasures, measures, token: school).schools.map(\.schoolCode) == ["4136010001"])
            let other3 = try await h.token(role: "school", party: "4136010003")
            #expect(try await h.call(method.getReportingMeasures, measures, token: other3).schools.isEmpty)

            // A calendar with reports in no longer changes.
            schools.calendar.periodDays = 7
            #expect(await h.refusal(method.setReportingCalendar, schools, token: h.admin)?.code == .failedPrecondition)

            // The analysts' view says the same.
            let viewed = try await h.scalar(
                """
                SELECT string_agg(party || ':' || party_code || ':' || status, ',' ORDER BY party, party_code)
                FROM analytics.periodic_report_status WHERE year = \(year) AND period = \(period)
                """, as: String.self)
            #expect(viewed == "organization:\(world.carOrganization):on_time,school:4136010001:late,school:4136010003:missing")

            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let printed = try await runCommand(
                xctl,
                [
                    "filing", "periodic", "status", "--year", String(year), "--party", "school", "--period", String(period), "--late-only",
                    "--format", "csv", "--chinese-headers", "--filing", "127.0.0.1:\(try #require(h.filingAddress).port)", "--token",
                    h.admin,
                ])
            #expect(printed.status == 0 && printed.output.contains("报送单位,报送情况,报送时间,内容完整"), "\(printed.output)")
            #expect(printed.output.contains("4136010003,未报,,"), "\(printed.output)")
        }
    }

    @Test(
        """
        补录: the province records reports received outside the system as of when they came: on time a second before the due \
        instant, late at it; refused before the period, in the future, for a party not expected, without a reason; 6-3 is computed \
        from them, and the view shows the reason
        """
    )
    func recordedOnReceipt() async throws {
        try await withFilingStack { h in
            // 2025's 双周报 of schools: 26 fortnights from Monday 6 January, each due 3 days after its last day at 18:00; all due now.
            _ = try await h.rosterWorld(year: 2025)
            let method = Xcert_Filing_V1_PeriodicReportService.Method.self
            var calendar = Self.calendar(2025, .school, dueDaysAfter: 3, dueMinute: 1080, figures: [("trained", "本期培训人数")])
            calendar.calendar.firstPeriodStarts = LocalDate(year: 2025, month: 1, day: 6)!.wire
            calendar.calendar.periodDays = 14
            #expect(try await h.call(method.setReportingCalendar, calendar, token: h.admin).periods == 26)
            let rule = try ReportingCalendar(
                year: 2025, firstPeriodStarts: LocalDate(year: 2025, month: 1, day: 6)!, periodDays: 14, dueDaysAfter: 3, dueMinute: 1080)

            func record(_ period: Int32, at seconds: Int64, text: String = "本期组织培训一次。") -> Xcert_Filing_V1_RecordPeriodicReportRequest {
                var request = Xcert_Filing_V1_RecordPeriodicReportRequest()
                request.year = 2025
                request.party = .school
                request.period = period
                request.partyCode = "4136010001"
                request.figures = [Self.figure("trained", 20)]
                request.text = text
                request.receivedAt.seconds = seconds
                request.reason = "纸质报送，按收件日期补录"
                return request
            }
            let due = { (period: Int32) in rule.lateFrom(Int(period))! }
            // Period 1 a day early; period 2 a second before its due instant; period 3 at it; period 4 a day late.
            let early = try await h.call(method.recordPeriodicReport, record(1, at: due(1) - 86_400), token: h.admin)
            #expect(early.onTime && early.complete && early.recordedReason == "纸质报送，按收件日期补录" && early.submittedBy == "省厅管理员")
            #expect(early.submittedAt.seconds == due(1) - 86_400 && early.dueInstant == "2025-01-22 18:00:00 +08:00")
            #expect(try await h.call(method.recordPeriodicReport, record(2, at: due(2) - 1), token: h.admin).onTime)
            #expect(!(try await h.call(method.recordPeriodicReport, record(3, at: due(3)), token: h.admin).onTime))
            #expect(!(try await h.call(method.recordPeriodicReport, record(4, at: due(4) + 86_400), token: h.admin).onTime))
            // Period 5 on time without text: incomplete. Periods 6 to 24 on time and complete; 25 and 26 never came.
            #expect(!(try await h.call(method.recordPeriodicReport, record(5, at: due(5) - 3600, text: ""), token: h.admin).complete))
            for period in Int32(6)...24 {
                _ = try await h.call(method.recordPeriodicReport, record(period, at: due(period) - 3600), token: h.admin)
            }

            // Refusals, nothing stored by any.
            let school = try await h.token(role: "school", party: "4136010001")
            #expect(await h.refusal(method.recordPeriodicReport, record(25, at: due(25) - 60), token: school)?.code == .permissionDenied)
            #expect(await h.refusal(method.recordPeriodicReport, record(1, at: due(1)), token: h.admin)?.code == .alreadyExists)
            let periodStarts = LocalDate(year: 2025, month: 12, day: 8)!.endInstant - 86_400
            #expect(
                await h.refusal(method.recordPeriodicReport, record(25, at: periodStarts - 1), token: h.admin)?.code == .failedPrecondition,
                "received the day before period 25 began")
            var future = record(25, at: Int64(Date().timeIntervalSince1970) + 3600)
            future.reason = ""
            future.partyCode = "4136010002"
            #expect(
                await h.refusal(method.recordPeriodicReport, future, token: h.admin)?.fieldViolations.map(\.field) == [
                    "received_at", "reason",
                ])
            var stranger = record(25, at: due(25) - 60)
            stranger.partyCode = "4136010002"
            #expect(
                await h.refusal(method.recordPeriodicReport, stranger, token: h.admin)?.fieldViolations.map(\.field) == ["party_code"],
                "4136010002 holds no 2025 qualification")

            // 6-3's measure: 26 periods due, 21 on time and complete (1, 2, 6–24).
            var measures = Xcert_Filing_V1_GetReportingMeasuresRequest()
            measures.year = 2025
            let measured = try await h.call(method.getReportingMeasures, measures, token: h.admin)
            #expect(measured.periodsDue == 26 && measured.schools.map { "\($0.schoolCode) \($0.onTimeAndComplete)" } == ["4136010001 21"])

            // The evaluation scores 6-3 from it: 21 of 26 is 80.8 %, 3 points × (80.8 − 50) / 50 = 1.8.
            let assessment = try await Assessment.start(h)
            try await assessment.publishDefaultScheme(year: 2025, token: h.admin)
            var submit = Xcert_Assessment_V1_SubmitSelfEvaluationRequest()
            submit.schoolCode = "4136010001"
            submit.year = 2025
            submit.scores = [EvaluationTests.score("2-1", 40)]
            submit.report = EvaluationTests.report
            let evaluation = try await assessment.call(
                Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, token: school)
            let item = try #require(evaluation.items.first { $0.code == "6-3" })
            #expect(
                item.computed && item.measure.numerator == 21 && item.measure.denominator == 26 && item.finalPointsTenths == 18, "\(item)")
            await assessment.stop()

            // The view: the reason with every recorded report; 4136010003 missing throughout.
            let viewed = try await h.scalar(
                """
                SELECT string_agg(party_code || ':' || status, ',' ORDER BY party_code)
                FROM (SELECT party_code, status, count(*) AS n FROM analytics.periodic_report_status
                      WHERE year = 2025 AND party = 'school' GROUP BY party_code, status) s
                """, as: String.self)
            #expect(viewed == "4136010001:late,4136010001:missing,4136010001:on_time,4136010003:missing")
            #expect(
                try await h.scalar(
                    "SELECT count(*)::integer FROM analytics.periodic_report_status WHERE year = 2025 AND recorded_reason IS NOT NULL",
                    as: Int32.self) == 24)

            // xctl records one for 4136010003, late.
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let printed = try await runCommand(
                xctl,
                [
                    "filing", "periodic", "record", "--year", "2025", "--party", "school", "--period", "1", "--party-code", "4136010003",
                    "--received-at", "2025-01-23 09:30", "--reason", "邮件报送", "--figure", "trained=3", "--filing",
                    "127.0.0.1:\(try #require(h.filingAddress).port)", "--token", h.admin,
                ])
            #expect(
                printed.status == 0 && printed.output.contains("recorded as received 2025-01-23 09:30:00 +08:00: late"), "\(printed.output)"
            )
        }
    }
}
