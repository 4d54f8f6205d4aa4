import Foundation
import Testing
import XCertDomain

@Suite("An organization's standing: suspension, reinstatement and exit (004 第22条)")
struct OrganizationStandingTests {
    static func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }
    /// 2026-12-03 00:00:00 +08:00 is 2026-12-02 16:00:00 UTC.
    static let startOfThirdDecember = Date(timeIntervalSince1970: 1_796_227_200)

    @Test("active ⇄ suspended, either → exited; an exit is final and a change to the same standing is refused")
    func transitions() throws {
        let today = Self.day("2026-12-03")
        let now = Self.startOfThirdDecember
        #expect(try OrganizationStanding.active.change(to: .suspended, reason: "委托代理机构", effectiveOn: today, now: now) == .suspended)
        #expect(try OrganizationStanding.suspended.change(to: .active, reason: "整改完成", effectiveOn: today, now: now) == .active)
        #expect(try OrganizationStanding.suspended.change(to: .exited, reason: "拒不整改", effectiveOn: today, now: now) == .exited)
        #expect(try OrganizationStanding.active.change(to: .exited, reason: "强制购买", effectiveOn: today, now: now) == .exited)
        for next in OrganizationStanding.allCases {
            let error = #expect(throws: DomainError.self) {
                try OrganizationStanding.exited.change(to: next, reason: "再议", effectiveOn: today, now: now)
            }
            #expect(error?.reason == "standing.exited" && error?.code == .failedPrecondition)
        }
        let same = #expect(throws: DomainError.self) {
            try OrganizationStanding.suspended.change(to: .suspended, reason: "再次暂停", effectiveOn: today, now: now)
        }
        #expect(same?.reason == "standing.unchanged" && same?.message.contains("suspended (暂停) already") == true)
    }

    @Test("the decision takes effect today or earlier in Asia/Shanghai, never tomorrow; a reason is 1 to 1000 characters")
    func effectiveDayAndReason() throws {
        let now = Self.startOfThirdDecember
        // At 00:00:00 +08:00 on 3 December it is still 2 December in UTC: the 3rd is today.
        #expect(
            try OrganizationStanding.active.change(to: .suspended, reason: "r", effectiveOn: Self.day("2026-12-03"), now: now) == .suspended
        )
        let tomorrow = #expect(throws: DomainError.self) {
            try OrganizationStanding.active.change(to: .suspended, reason: "r", effectiveOn: Self.day("2026-12-04"), now: now)
        }
        #expect(tomorrow?.field == "effective_on" && tomorrow?.message.contains("2026-12-04 is after today (2026-12-03") == true)
        let justBefore = now.addingTimeInterval(-1)  // 2026-12-02 23:59:59 +08:00
        #expect(throws: DomainError.self) {
            try OrganizationStanding.active.change(to: .suspended, reason: "r", effectiveOn: Self.day("2026-12-03"), now: justBefore)
        }
        for reason in ["", "   ", String(repeating: "违", count: 1001)] {
            let error = #expect(throws: DomainError.self) {
                try OrganizationStanding.active.change(to: .suspended, reason: reason, effectiveOn: Self.day("2026-12-01"), now: now)
            }
            #expect(error?.field == "reason")
        }
        #expect(
            try OrganizationStanding.active.change(
                to: .suspended, reason: String(repeating: "违", count: 1000), effectiveOn: Self.day("2026-12-01"), now: now) == .suspended)
    }

    @Test("only an active organization works; the refusal quotes the standing, its day and the province's reason")
    func refusals() {
        #expect(OrganizationStanding.active.refusal(of: "x", organization: "o", since: nil, reason: "") == nil)
        let refusal = OrganizationStanding.suspended.refusal(
            of: "filing 7 cannot be approved", organization: "甲评价组织", since: Self.day("2026-11-20"), reason: "委托代理机构招生")
        #expect(refusal?.code == .failedPrecondition && refusal?.reason == "organization.suspended")
        #expect(
            refusal?.message
                == "filing 7 cannot be approved: organization 甲评价组织 is suspended (暂停) since 2026-11-20 by the province's decision: 委托代理机构招生"
        )
        #expect(OrganizationStanding.exited.refusal(of: "x", organization: "o", since: nil, reason: "r")?.reason == "organization.exited")
    }
}
