import Foundation
import Testing
import XCertDomain

@Suite("A school's yearly evaluation: self-submitted, then locked by the review")
struct EvaluationLifecycleTests {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)

    @Test("the school submits, may submit again, and the province's review locks it")
    func lifecycle() throws {
        var evaluation = EvaluationLifecycle(school: "4136010001", year: 2025, state: nil)
        #expect(try evaluation.submit(by: "学校", now: Self.now) == .selfSubmitted(by: "学校", at: Self.now))
        #expect(try evaluation.submit(by: "学校", now: Self.now + 60) == .selfSubmitted(by: "学校", at: Self.now + 60))
        #expect(evaluation.state == .selfSubmitted)
        #expect(try evaluation.review(reviewer: "省厅", now: Self.now + 120) == .locked(reviewer: "省厅", at: Self.now + 120))
        #expect(evaluation.state == .locked)
    }

    @Test("no review before a submission; nothing after the lock")
    func refusals() throws {
        var unsubmitted = EvaluationLifecycle(school: "4136010001", year: 2025, state: nil)
        let early = #expect(throws: DomainError.self) { try unsubmitted.review(reviewer: "省厅", now: Self.now) }
        #expect(early?.code == .failedPrecondition && early?.reason == "evaluation.not-submitted")
        #expect(early?.message == "4136010001 has not submitted its 2025 self-evaluation yet")
        var locked = EvaluationLifecycle(school: "4136010001", year: 2025, state: .locked)
        let again = #expect(throws: DomainError.self) { try locked.submit(by: "学校", now: Self.now) }
        #expect(again?.reason == "evaluation.locked" && again?.message == "the 2025 evaluation of 4136010001 is reviewed and locked")
        #expect((#expect(throws: DomainError.self) { try locked.review(reviewer: "省厅", now: Self.now) })?.reason == "evaluation.locked")
        #expect(unsubmitted.state == nil && locked.state == .locked)
    }
}
