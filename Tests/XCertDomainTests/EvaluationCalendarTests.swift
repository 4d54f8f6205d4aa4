import Foundation
import Testing
import XCertDomain

@Suite("The evaluation calendar (003: materials due 4/1) and schools' extensions")
struct EvaluationCalendarTests {
    static func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }
    /// 2025-04-01 23:59:59 +08:00.
    static let lastSecond = Date(timeIntervalSince1970: 1_743_523_199)

    @Test("a self-evaluation is taken to 23:59:59 of the due day in Asia/Shanghai, and refused a second later, naming the day")
    func dueDayBoundary() throws {
        let calendar = EvaluationCalendar(year: 2024, dueOn: Self.day("2025-04-01"))
        try calendar.requireOpen(for: "4136010001", at: Self.lastSecond)
        let late = #expect(throws: DomainError.self) {
            try calendar.requireOpen(for: "4136010001", at: Self.lastSecond.addingTimeInterval(1))
        }
        #expect(late?.code == .failedPrecondition && late?.reason == "evaluation.past-due")
        #expect(late?.message.contains("2025-04-01 23:59:59 +08:00") == true && late?.message.contains("the 2024 due day") == true)
    }

    @Test("an extension moves one school's due day only; it must fall after the year's day, in the year or the next")
    func extensions() throws {
        let calendar = EvaluationCalendar(year: 2024, dueOn: Self.day("2025-04-01"), extensions: ["4136010001": Self.day("2025-04-15")])
        let later = Self.lastSecond.addingTimeInterval(86_400)
        try calendar.requireOpen(for: "4136010001", at: later)
        #expect(calendar.dueDay(of: "4136010001") == Self.day("2025-04-15") && calendar.isExtended("4136010001"))
        let other = #expect(throws: DomainError.self) { try calendar.requireOpen(for: "4136010002", at: later) }
        #expect(other?.reason == "evaluation.past-due" && !calendar.isExtended("4136010002"))
        let extended = #expect(throws: DomainError.self) {
            try calendar.requireOpen(for: "4136010001", at: Self.lastSecond.addingTimeInterval(14 * 86_400 + 1))
        }
        #expect(extended?.message.contains("school 4136010001's extended due day") == true)

        try calendar.requireExtension(to: Self.day("2025-04-02"))
        for refused in ["2025-04-01", "2025-03-31", "2026-01-01"] {
            let error = #expect(throws: DomainError.self) { try calendar.requireExtension(to: Self.day(refused)) }
            #expect(error?.field == "due_on" && error?.code == .invalidArgument, "\(refused)")
        }
    }

    @Test("moving the year's due day keeps the extensions later than it, names those it would overtake, and stays in range")
    func movingTheDueDay() throws {
        let calendar = EvaluationCalendar(
            year: 2024, dueOn: Self.day("2025-04-01"),
            extensions: ["4136010002": Self.day("2025-04-10"), "4136010001": Self.day("2025-04-20")])
        #expect(try calendar.movingDueDay(to: Self.day("2025-04-09")).dueOn == Self.day("2025-04-09"))
        let overtaken = #expect(throws: DomainError.self) { try calendar.movingDueDay(to: Self.day("2025-04-20")) }
        #expect(overtaken?.reason == "evaluation.extension-overtaken")
        #expect(overtaken?.message.contains("school 4136010001 (to 2025-04-20), school 4136010002 (to 2025-04-10)") == true)
        #expect(EvaluationCalendar.permitsDueDay(Self.day("2024-12-31"), year: 2024))
        #expect(!EvaluationCalendar.permitsDueDay(Self.day("2026-01-01"), year: 2024))
        let out = #expect(throws: DomainError.self) { try calendar.movingDueDay(to: Self.day("2023-12-31")) }
        #expect(out?.reason == "evaluation.due-day-out-of-range")
    }
}
