import Foundation
import Testing
import XCertDomain

@Suite("Results on public notice (成绩公示): the window, objections, closing")
struct ResultNoticeTests {
    static func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }

    @Test(
        """
        a 5-day window from Wednesday 2020-06-24: calendar days end Sunday 28 June; working days by 2020's calendar (端午 25–27 off, \
        Sunday 28 worked) end Wednesday 1 July; by weekdays alone Tuesday 30 June; a window starting on a holiday counts from the next \
        working day
        """
    )
    func window() {
        let start = Self.day("2020-06-24")
        #expect(ResultNotice.lastDay(startingOn: start, days: 5, workingDays: nil) == Self.day("2020-06-28"))
        #expect(
            ResultNotice.lastDay(startingOn: start, days: 5, workingDays: ApplicationWindowTests.dragonBoat2020) == Self.day("2020-07-01"))
        #expect(ResultNotice.lastDay(startingOn: start, days: 5, workingDays: .weekdaysOnly) == Self.day("2020-06-30"))
        #expect(
            ResultNotice.lastDay(startingOn: Self.day("2020-06-25"), days: 1, workingDays: ApplicationWindowTests.dragonBoat2020)
                == Self.day("2020-06-28"))
        #expect(ResultNotice.lastDay(startingOn: start, days: 1, workingDays: nil) == start, "one day: the first is the last")
        #expect(ResultNotice.lastDay(startingOn: start, days: 10_000, workingDays: nil) == start.adding(days: 29), "at most 30 days")
    }

    @Test("an objection is taken until 23:59:59 of the last day, not a second later; never before the window nor once closed")
    func objections() throws {
        var notice = ResultNotice(startsOn: Self.day("2026-07-01"), endsOn: Self.day("2026-07-07"), closed: false)
        let end = Self.day("2026-07-07").endInstant
        try notice.acceptObjection(at: end - 1)
        #expect(throws: DomainError.self) { try notice.acceptObjection(at: end) }
        #expect(throws: DomainError.self) { try notice.acceptObjection(at: Self.day("2026-07-01").endInstant - 86_401) }
        try notice.close(at: end, openObjections: [])
        #expect(notice.state == .final)
        do {
            try notice.acceptObjection(at: end - 1)
            Issue.record("a closed notice took an objection")
        } catch {
            #expect(error.reason == "notice.closed")
        }
    }

    @Test("the notice closes only after its window and with no objection open, naming those open")
    func closing() throws {
        var notice = ResultNotice(startsOn: Self.day("2026-07-01"), endsOn: Self.day("2026-07-07"), closed: false)
        let end = notice.endInstant
        do {
            try notice.close(at: end - 1, openObjections: [])
            Issue.record("closed while running")
        } catch {
            #expect(error.reason == "notice.running" && error.message.contains("2026-07-07 23:59:59 +08:00"))
        }
        do {
            try notice.close(at: end, openObjections: ["7 (candidate 2026-001)"])
            Issue.record("closed with an objection open")
        } catch {
            #expect(error.reason == "notice.open-objections" && error.message.contains("7 (candidate 2026-001)"))
        }
        #expect(notice.state == .onNotice)
        try notice.close(at: end, openObjections: [])
        #expect(notice.state == .final)
        #expect(throws: DomainError.self) { try notice.close(at: end + 10, openObjections: []) }
    }
}
