import Foundation
import Testing
import XCertDomain

@Suite("A filing round: open through its closing day in Asia/Shanghai, unless closed early")
struct FilingRoundTests {
    static let closes = LocalDate(year: 2020, month: 5, day: 29)!
    static let lastSecond = Date(timeIntervalSince1970: TimeInterval(closes.endInstant - 1))

    @Test("open until 23:59:59 +08:00 of its closing day, closed from the next second, with the instant in the refusal")
    func closingDay() throws {
        let round = FilingRound(year: 2020, number: 1, closes: Self.closes)
        #expect(round.isOpen(at: Self.lastSecond))
        try round.requireOpen(at: Self.lastSecond)
        #expect(!round.isOpen(at: Self.lastSecond + 1))
        let closed = #expect(throws: DomainError.self) { try round.requireOpen(at: Self.lastSecond + 1) }
        #expect(closed?.reason == "filing-round.closed")
        #expect(closed?.message == "filing round 1 of 2020 closed at 2020-05-29 23:59:59 +08:00; submissions are no longer accepted")
    }

    @Test("closed early by the province: closed at once, and the refusal says when")
    func closedEarly() throws {
        let early = Date(timeIntervalSince1970: TimeInterval(Self.closes.endInstant - 86_400 * 3))
        let round = FilingRound(year: 2020, number: 2, closes: Self.closes, closedEarlyAt: early)
        #expect(!round.isOpen(at: early - 60), "closed early means closed, whatever the clock says")
        let closed = #expect(throws: DomainError.self) { try round.requireOpen(at: early) }
        #expect(closed?.message.hasSuffix("(closed early by the province); submissions are no longer accepted") == true)
        #expect(closed?.message.contains("2020-05-27 00:00:00 +08:00") == true, "\(closed?.message ?? "")")
    }
}
