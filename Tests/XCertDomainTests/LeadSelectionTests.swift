import Foundation
import Testing
import XCertDomain

@Suite("The selection of an alliance's lead schools: applications → expert review → public notice → final")
struct LeadSelectionTests {
    static let close = LocalDate(year: 2025, month: 6, day: 20)!
    /// 2025-06-20 23:59:59 +08:00, the last second of the closing day.
    static let lastSecond = Date(timeIntervalSince1970: TimeInterval(close.endInstant - 1))

    @Test(
        """
        applications are taken until the closing day's last second in Asia/Shanghai, then closed by the province; experts score only in \
        the review
        """
    )
    func applications() throws {
        var selection = LeadSelection(certificate: "BIM", year: 2025, phase: .applications, applicationsClose: Self.close)
        try selection.requireApplicationsOpen(now: Self.lastSecond)
        let late = #expect(throws: DomainError.self) { try selection.requireApplicationsOpen(now: Self.lastSecond + 1) }
        #expect(late?.reason == "lead-selection.closing-day-passed" && late?.message == "applications closed on 2025-06-20 23:59:59 +08:00")
        #expect(
            (#expect(throws: DomainError.self) { try selection.requireExpertReview() })?.reason == "lead-selection.not-in-expert-review")

        #expect(try selection.closeApplications() == .applicationsClosed)
        #expect(selection.phase == .expertReview)
        try selection.requireExpertReview()
        let closed = #expect(throws: DomainError.self) { try selection.requireApplicationsOpen(now: Self.lastSecond) }
        #expect(closed?.message == "applications for the lead schools of BIM in 2025 are closed")
        let again = #expect(throws: DomainError.self) { try selection.closeApplications() }
        #expect(again?.message == "the selection of BIM in 2025 is expertReview, not applications")
    }

    @Test("naming the leads starts the public notice; the selection is final only once it is over")
    func notice() throws {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        var selection = LeadSelection(certificate: "BIM", year: 2025, phase: .expertReview, applicationsClose: Self.close)
        #expect(try selection.nameLeads(noticeDays: 5, now: now) == .leadsNamed(noticeEndsAt: now + 5 * 86_400))
        #expect(selection.phase == .publicNotice)
        let early = #expect(throws: DomainError.self) { try selection.nameLeads(noticeDays: 5, now: now) }
        #expect(early?.reason == "lead-selection.naming-outside-expert-review")

        var running = LeadSelection(
            certificate: "BIM", year: 2025, phase: .publicNotice, applicationsClose: Self.close, noticeEndsAt: now + 10)
        let objections = #expect(throws: DomainError.self) { try running.finalize(now: now) }
        #expect(objections?.reason == "lead-selection.notice-running" && running.phase == .publicNotice)
        #expect(try running.finalize(now: now + 10) == .finalized(at: now + 10))
        #expect(running.phase == .final)
        #expect((#expect(throws: DomainError.self) { try running.finalize(now: now + 20) })?.reason == "lead-selection.wrong-phase")
    }
}
