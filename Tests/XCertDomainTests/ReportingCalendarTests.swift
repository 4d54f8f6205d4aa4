import Testing
import XCertDomain

@Suite("The periodic-report calendar (000 §八, 004 items 2 and 18, 003 indicator 6-3's 双周报)")
struct ReportingCalendarTests {
    static func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }
    /// 双周报 of 2026 from Thursday 1 January, due two days after a period's last day at 18:00.
    static let biweekly = try! ReportingCalendar(
        year: 2026, firstPeriodStarts: day("2026-01-01"), periodDays: 14, dueDaysAfter: 2, dueMinute: 18 * 60)

    @Test("periods follow each other from the first day; the last starts in the year; a day belongs to one period")
    func periods() throws {
        let calendar = Self.biweekly
        #expect(calendar.periods == 27, "1 January + 26 × 14 days is 31 December")
        let first = try #require(calendar.period(1))
        #expect(first.starts == Self.day("2026-01-01") && first.ends == Self.day("2026-01-14"))
        #expect(calendar.period(27)?.starts == Self.day("2026-12-31") && calendar.period(27)?.ends == Self.day("2027-01-13"))
        #expect(calendar.period(0) == nil && calendar.period(28) == nil)
        #expect(calendar.period(containing: Self.day("2026-01-14")) == 1 && calendar.period(containing: Self.day("2026-01-15")) == 2)
        #expect(calendar.period(containing: Self.day("2025-12-31")) == nil && calendar.period(containing: Self.day("2027-01-14")) == nil)
        let weekly = try ReportingCalendar(
            year: 2026, firstPeriodStarts: Self.day("2026-01-05"), periodDays: 7, dueDaysAfter: 0, dueMinute: 0)
        #expect(weekly.periods == 52)
    }

    @Test("a report is on time to the second before its due instant (Asia/Shanghai), late from it; missing only once due")
    func dueBoundary() {
        let calendar = Self.biweekly
        // Period 1 is due 2026-01-16 18:00:00 +08:00, 10:00:00 UTC.
        let due: Int64 = 1_768_557_600
        #expect(calendar.lateFrom(1) == due && calendar.dueInstant(1) == "2026-01-16 18:00:00 +08:00")
        #expect(calendar.status(of: 1, submitted: due - 1, now: due + 100) == .onTime)
        #expect(calendar.status(of: 1, submitted: due, now: due + 100) == .late)
        #expect(calendar.status(of: 1, submitted: nil, now: due - 1) == .notDue)
        #expect(calendar.status(of: 1, submitted: nil, now: due) == .missing)
        #expect(calendar.status(of: 30, submitted: nil, now: due) == nil)
        #expect(calendar.lateFrom(2) == due + 14 * 86_400)
    }

    @Test("each setting out of its range is refused, naming its field")
    func ranges() {
        let settings: [(String, Int, Int, Int, String)] = [
            ("2025-12-29", 7, 0, 0, "first_period_starts"), ("2026-01-01", 0, 0, 0, "period_days"),
            ("2026-01-01", 7, 31, 0, "due_days_after"), ("2026-01-01", 7, 0, 1440, "due_minute"),
        ]
        for (first, days, after, minute, field) in settings {
            let error = #expect(throws: DomainError.self) {
                try ReportingCalendar(
                    year: 2026, firstPeriodStarts: Self.day(first), periodDays: days, dueDaysAfter: after, dueMinute: minute)
            }
            #expect(error?.field == field && error?.code == .invalidArgument)
        }
        #expect(Self.day("2026-01-01").days(until: Self.day("2026-03-01")) == 59)
        #expect(Self.day("2026-03-01").days(until: Self.day("2026-01-01")) == -59)
    }
}
