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
}
