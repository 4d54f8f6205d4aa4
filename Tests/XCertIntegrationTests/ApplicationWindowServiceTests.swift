import Foundation
import PostgresNIO
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

@Suite(
    "Registry: application windows, the working-day calendar and overdue reviews (001 §三.3)",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct ApplicationWindowServiceTests {
    static var today: LocalDate { LocalDate(containing: Int64(Date().timeIntervalSince1970)) }

    @Test(
        """
        an application is accepted through its window's last day and refused outside every window, naming the year's windows; a refusal \
        changes nothing; a window's days are checked field by field
        """
    )
    func windows() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            try await registry.createSchool("4136010001", specialties: 20)
            for year: Int32 in [2031, 2032, 2033] { registry.filing.approve("AUTO", year: year) }
            let none = try #require(await rpcRefusal { _ = try await registry.apply("4136010001", "AUTO", year: 2031) })
            #expect(
                none.code == .failedPrecondition && none.message.contains("has opened no application window for 2031"), "\(none.message)")
            // Closed yesterday; opening tomorrow: both refused, with the windows named.
            try await registry.setApplicationWindow(
                year: 2031, number: 1, opens: Self.today.adding(days: -9), closes: Self.today.adding(days: -1))
            try await registry.setApplicationWindow(
                year: 2031, number: 2, opens: Self.today.adding(days: 1), closes: Self.today.adding(days: 9))
            let outside = try #require(await rpcRefusal { _ = try await registry.apply("4136010001", "AUTO", year: 2031) })
            #expect(
                outside.message.contains("no application window for 2031 is open")
                    && outside.message.contains("1: \(Self.today.adding(days: -9)) to \(Self.today.adding(days: -1))"),
                "\(outside.message)")
            #expect(try await registry.scalar("SELECT count(*)::integer FROM registry.pilot_applications", as: Int32.self) == 0)
            // Closing today: accepted, in window 3.
            try await registry.setApplicationWindow(year: 2031, number: 3, opens: Self.today, closes: Self.today)
            let accepted = try await registry.apply("4136010001", "AUTO", year: 2031)
            #expect(accepted.windowNumber == 3)

            var list = Xcert_Registry_V1_ListApplicationWindowsRequest()
            list.year = 2031
            let windows = try await registry.call(Xcert_Registry_V1_PilotService.Method.listApplicationWindows, list, token: registry.admin)
            #expect(windows.windows.map { "\($0.number) \($0.open) \($0.setBy)" } == ["1 false 省厅管理员", "2 false 省厅管理员", "3 true 省厅管理员"])
            #expect(windows.windows[2].closingInstant == "\(Self.today) 23:59:59 +08:00")

            var bad = Xcert_Registry_V1_SetApplicationWindowRequest()
            bad.year = 2018
            bad.opens = Self.today.wire
            bad.closes = Self.today.adding(days: -1).wire
            let refused = try #require(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.setApplicationWindow, bad, token: registry.admin))
            #expect(refused.fieldViolations.map(\.field) == ["year", "number", "closes"], "\(refused)")
            let school = try await registry.token(role: "school", party: "4136010001")
            bad.year = 2031
            bad.number = 4
            bad.closes = Self.today.wire
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.setApplicationWindow, bad, token: school)?.code
                    == .permissionDenied)
        }
    }

    @Test(
        """
        a reviewing unit's review is due 5 working days after its window closed, by the province's calendar (a holiday moves it); past \
        that day it is flagged overdue in the application, listed for the unit and in the analysts' view, until the unit reviews
        """
    )
    func overdueReviews() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            try await registry.createSchool("4136070001", type: .secondaryVocational, city: "360700")
            try await registry.createSchool("4136070002", type: .secondaryVocational, city: "360700")
            registry.filing.approve("AUTO", year: 2020)
            let ganzhou = try await registry.token(role: "city_reviewer", party: "360700", name: "赣州市教育局")
            let jiujiang = try await registry.token(role: "city_reviewer", party: "360400", name: "九江市教育局")
            let first = try await registry.apply("4136070001", "AUTO")
            let second = try await registry.apply("4136070002", "AUTO")
            #expect(!first.reviewOverdue && first.hasReviewDue, "the window is open: nothing is due yet")

            // The province records the year's real window (round 2 closed Friday 2020-06-19): due 2020-06-26 by weekdays …
            try await registry.setApplicationWindow(
                year: 2020, number: 1, opens: LocalDate(iso: "2020-06-13")!, closes: LocalDate(iso: "2020-06-19")!)
            let read = { (id: Int64) in
                var request = Xcert_Registry_V1_GetApplicationRequest()
                request.id = id
                return try await registry.call(Xcert_Registry_V1_PilotService.Method.getApplication, request, token: ganzhou)
            }
            var late = try await read(first.id)
            #expect(late.reviewOverdue && LocalDate(wire: late.reviewDue)?.description == "2020-06-26")
            // … and 2020-06-29 once the calendar has 端午 (25–27 June off, Sunday 28 June worked).
            var calendar = Xcert_Registry_V1_ImportRequest()
            calendar.kind = .calendarDays
            calendar.csv = Data("日期,类型,说明\n2020-06-25,休,端午节\n2020-06-26,休,端午节\n2020-06-27,休,端午节\n2020-06-28,班,端午节调休上班\n".utf8)
            let imported = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.import, calendar, token: registry.admin)
            #expect(imported.created == 4)
            late = try await read(first.id)
            #expect(LocalDate(wire: late.reviewDue)?.description == "2020-06-29")

            let overdue = { (token: String) in
                var request = Xcert_Registry_V1_ListApplicationsRequest()
                request.overdueOnly = true
                return try await registry.call(Xcert_Registry_V1_PilotService.Method.listApplications, request, token: token).applications
                    .map(\.id)
            }
            #expect(try await overdue(ganzhou) == [first.id, second.id])
            #expect(try await overdue(jiujiang).isEmpty, "another unit's")
            #expect(
                try await registry.scalar(
                    """
                    SELECT string_agg(application_id || ' ' || reviewing_unit_name || ' ' || review_due || ' ' || overdue, '; '
                                      ORDER BY application_id)
                    FROM analytics.pending_unit_reviews
                    """,
                    as: String.self)
                    == "\(first.id) 赣州市 2020-06-29 true; \(second.id) 赣州市 2020-06-29 true")

            _ = try await registry.review(first.id, approve: true, token: ganzhou)
            #expect(try await overdue(ganzhou) == [second.id], "reviewed: no longer overdue")
            #expect(!(try await read(first.id)).reviewOverdue)

            // The calendar's own checks: a day twice, a kind that is neither 休 nor 班.
            var days = Xcert_Registry_V1_SetCalendarDaysRequest()
            var day = Xcert_Registry_V1_CalendarDay()
            day.day = LocalDate(iso: "2020-10-01")!.wire
            days.days = [day, day]
            let twice = try #require(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.setCalendarDays, days, token: registry.admin))
            #expect(twice.fieldViolations.map(\.field) == ["days[1].day"])
            calendar.csv = Data("日期,类型,说明\n2020-10-01,放假?,国庆节\n".utf8)
            let kind = try #require(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.import, calendar, token: registry.admin))
            #expect(kind.fieldViolations.map(\.field) == ["line 2, column 2 (类型 / kind)"], "\(kind)")
        }
    }
}
