import Testing
import XCertDomain

@Suite("A pilot application's review route (rule 4)")
struct ApplicationReviewTests {
    @Test(
        """
        a secondary school's application: the city approves, then the province approves, and it is approved; a rejection at either step is \
        final
        """
    )
    func route() throws {
        let approve = try ApplicationReview.Decision(approve: true, reason: "")
        var application = ApplicationReview(id: 3, state: .awaiting(.city), reviewingUnit: "360100")
        #expect(try application.review(approve, by: .city) == .init(step: .city, approved: true, reason: "", next: .awaitingProvinceReview))
        #expect(try application.review(approve, by: .province) == .init(step: .province, approved: true, reason: "", next: .approved))
        #expect(application.state == .approved)

        for first in [ReviewStep.city, .province] {
            var rejected = ApplicationReview(id: 4, state: .awaiting(first), reviewingUnit: "360100")
            let event = try rejected.review(try .init(approve: false, reason: " 专业不符 "), by: first == .city ? .city : .province)
            #expect(event.next == .rejected && event.reason == "专业不符" && rejected.state == .rejected)
        }
    }

    @Test(
        """
        each step by its own reviewer: the province before the city is refused, a city reviewer at the province's step is denied; a \
        decided application awaits nothing
        """
    )
    func whoDecides() throws {
        let approve = try ApplicationReview.Decision(approve: true, reason: "")
        var atCity = ApplicationReview(id: 5, state: .awaitingCityReview, reviewingUnit: "360400")
        let early = #expect(throws: DomainError.self) { try atCity.review(approve, by: .province) }
        #expect(
            early?.code == .failedPrecondition && early?.message == "application 5 awaits the review of its reviewing unit 360400 first")
        var atProvince = ApplicationReview(id: 6, state: .awaitingProvinceReview, reviewingUnit: "360400")
        let denied = #expect(throws: DomainError.self) { try atProvince.review(approve, by: .city) }
        #expect(denied?.code == .permissionDenied && denied?.reason == "application.province-step")
        for state in [ApplicationReview.State.approved, .rejected] {
            var decided = ApplicationReview(id: 7, state: state, reviewingUnit: "360400")
            let refused = #expect(throws: DomainError.self) { try decided.review(approve, by: .province) }
            #expect(refused?.reason == "application.decided" && refused?.message.contains("awaits no review") == true)
            #expect(decided.state == state)
        }
        #expect(atCity.state == .awaitingCityReview && atProvince.state == .awaitingProvinceReview, "a refused review changes nothing")
    }

    @Test("a rejection needs its reason; a reason is at most 1,000 characters")
    func reasons() throws {
        let missing = #expect(throws: DomainError.self) { try ApplicationReview.Decision(approve: false, reason: "") }
        #expect(missing?.field == "reason" && missing?.message == "is required to reject: say why")
        #expect(throws: DomainError.self) { try ApplicationReview.Decision(approve: true, reason: String(repeating: "因", count: 1001)) }
    }
}
