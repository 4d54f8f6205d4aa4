import Foundation
import Testing
import XCertDomain

@Suite("Application windows and the working-day calendar (001 §三.3)")
struct ApplicationWindowTests {
    static func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }

    /// 2020's 端午节: 25–27 June off, Sunday 28 June a working day.
    static let dragonBoat2020 = WorkingDayCalendar(exceptions: [
        .init(day: day("2020-06-25"), working: false, note: "端午节"), .init(day: day("2020-06-26"), working: false, note: "端午节"),
        .init(day: day("2020-06-27"), working: false, note: "端午节"), .init(day: day("2020-06-28"), working: true, note: "端午节调休上班"),
    ])

    @Test("weekdays: 1970-01-01 was a Thursday, 2020-06-19 a Friday, 2000-02-29 a Tuesday")
    func weekdays() {
        #expect(Self.day("1970-01-01").weekday == 4)
        #expect(Self.day("2020-06-19").weekday == 5 && Self.day("2020-06-20").weekday == 6 && Self.day("2020-06-21").weekday == 7)
        #expect(Self.day("2000-02-29").weekday == 2 && Self.day("1969-12-31").weekday == 3)
    }

    @Test(
        """
        reviews of round 2 (closing Friday 2020-06-19) are due 5 working days later: Friday 26 June by weekdays alone, Monday 29 June \
        by 2020's calendar (端午 off, Sunday 28 June worked)
        """
    )
    func reviewDue() {
        let window = ApplicationWindow(year: 2020, number: 2, opens: Self.day("2020-06-13"), closes: Self.day("2020-06-19"))
        #expect(window.reviewDue(by: .weekdaysOnly) == Self.day("2020-06-26"))
        #expect(window.reviewDue(by: Self.dragonBoat2020) == Self.day("2020-06-29"))
        #expect(Self.dragonBoat2020.isWorkingDay(Self.day("2020-06-28")) && !Self.dragonBoat2020.isWorkingDay(Self.day("2020-06-26")))
        #expect(WorkingDayCalendar.weekdaysOnly.workingDay(0, after: Self.day("2020-06-19")) == Self.day("2020-06-19"))
    }

    @Test("a window takes applications from 00:00:00 of its first day to 23:59:59 of its last, Asia/Shanghai; overdue after the due day")
    func boundaries() throws {
        let window = ApplicationWindow(year: 2020, number: 1, opens: Self.day("2020-06-01"), closes: Self.day("2020-06-12"))
        // 2020-06-01 00:00:00 +08:00 is 2020-05-31 16:00:00 UTC: 1590940800.
        #expect(!window.accepts(Date(timeIntervalSince1970: 1_590_940_799)))
        #expect(window.accepts(Date(timeIntervalSince1970: 1_590_940_800)))
        // 2020-06-12 23:59:59 +08:00 is 1591977599.
        #expect(window.accepts(Date(timeIntervalSince1970: 1_591_977_599)))
        #expect(!window.accepts(Date(timeIntervalSince1970: 1_591_977_600)))
        #expect(!ApplicationWindow.isOverdue(Self.day("2020-06-12"), at: Date(timeIntervalSince1970: 1_591_977_599)))
        #expect(ApplicationWindow.isOverdue(Self.day("2020-06-12"), at: Date(timeIntervalSince1970: 1_591_977_600)))

        let second = ApplicationWindow(year: 2020, number: 2, opens: Self.day("2020-06-13"), closes: Self.day("2020-06-19"))
        #expect(try ApplicationWindow.open(among: [second, window], year: 2020, at: Date(timeIntervalSince1970: 1_591_977_600)) == second)
        let late = #expect(throws: DomainError.self) {
            try ApplicationWindow.open(among: [window, second], year: 2020, at: Date(timeIntervalSince1970: 1_592_582_400))
        }
        #expect(late?.code == .failedPrecondition && late?.reason == "application.no-window")
        #expect(
            late?.message
                == """
                no application window for 2020 is open at 2020-06-20 00:00:00 +08:00 (the windows: 1: 2020-06-01 to 2020-06-12; \
                2: 2020-06-13 to 2020-06-19, each to 23:59:59 +08:00 of its last day)
                """)
        let none = #expect(throws: DomainError.self) {
            try ApplicationWindow.open(among: [window], year: 2021, at: Date(timeIntervalSince1970: 1_591_977_000))
        }
        #expect(none?.message == "the province has opened no application window for 2021 yet; applications are not accepted")
    }
}
