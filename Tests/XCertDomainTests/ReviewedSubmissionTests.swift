import Foundation
import Testing
import XCertDomain

@Suite("The review of filings and yearly reports: one lifecycle")
struct ReviewedSubmissionTests {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)

    @Test(
        """
        submitted → approved or rejected by review, with reviewer, reason and the clock's time; a report's states are named accepted and \
        returned
        """
    )
    func review() throws {
        for kind in [ReviewedSubmission.Kind.filing, .report] {
            var approved = ReviewedSubmission(kind: kind, id: 7, state: .submitted)
            let approval = try approved.review(try .init(approve: true, reason: "", of: kind), reviewer: "省厅", now: Self.now)
            #expect(approval == .reviewed(approved: true, reason: "", reviewer: "省厅", at: Self.now))
            #expect(approved.state == .approved && approval.state == .approved)

            var rejected = ReviewedSubmission(kind: kind, id: 8, state: .submitted)
            let rejection = try rejected.review(
                try .init(approve: false, reason: "  fees unclear \n", of: kind), reviewer: "省厅", now: Self.now)
            #expect(rejection == .reviewed(approved: false, reason: "fees unclear", reviewer: "省厅", at: Self.now))
            #expect(rejected.state == .rejected)
        }
        #expect(ReviewedSubmission.Kind.report.name(of: .approved) == "accepted")
        #expect(ReviewedSubmission.Kind.report.name(of: .rejected) == "returned")
        #expect(ReviewedSubmission.Kind.filing.name(of: .rejected) == "rejected")
        for kind in [ReviewedSubmission.Kind.filing, .report] {
            for state in ReviewedSubmission.State.allCases {
                #expect(kind.state(named: kind.name(of: state)) == state)
            }
        }
        #expect(ReviewedSubmission.Kind.report.state(named: "approved") == nil)
    }

    @Test("only a submitted version is reviewed or withdrawn; the refusal names its state in the kind's words")
    func onlySubmitted() throws {
        for kind in [ReviewedSubmission.Kind.filing, .report] {
            for state in ReviewedSubmission.State.allCases where state != .submitted {
                var submission = ReviewedSubmission(kind: kind, id: 9, state: state)
                let decision = try ReviewedSubmission.Decision(approve: true, reason: "", of: kind)
                let review = #expect(throws: DomainError.self) { try submission.review(decision, reviewer: "省厅", now: Self.now) }
                #expect(review?.code == .failedPrecondition && review?.reason == "review.not-submitted")
                #expect(review?.message == "\(kind.noun) 9 is \(kind.name(of: state)); only a submitted \(kind.noun) is reviewed")
                let withdrawal = #expect(throws: DomainError.self) { try submission.withdraw(try .init(reason: "wrong year", of: kind)) }
                #expect(withdrawal?.code == .failedPrecondition && withdrawal?.reason == "withdrawal.not-awaiting-review")
                #expect(submission.state == state, "a refused transition changes nothing")
            }
            var submitted = ReviewedSubmission(kind: kind, id: 10, state: .submitted)
            #expect(try submitted.withdraw(try .init(reason: " wrong year ", of: kind)) == .withdrawn(reason: "wrong year"))
            #expect(submitted.state == .withdrawn)
        }
    }

    @Test("a rejection needs its reason, a withdrawal too; reasons are at most 1,000 characters")
    func reasons() throws {
        let missing = #expect(throws: DomainError.self) { try ReviewedSubmission.Decision(approve: false, reason: "  ", of: .filing) }
        #expect(missing?.code == .invalidArgument && missing?.field == "reason" && missing?.reason == "review.reason-required")
        let returned = #expect(throws: DomainError.self) { try ReviewedSubmission.Decision(approve: false, reason: "", of: .report) }
        #expect(returned?.message == "is required to return a report: say what the organization must correct")
        #expect(throws: DomainError.self) {
            try ReviewedSubmission.Decision(approve: true, reason: String(repeating: "理", count: 1001), of: .filing)
        }
        #expect(
            try ReviewedSubmission.Decision(approve: true, reason: String(repeating: "理", count: 1000), of: .filing).reason.count == 1000)
        for reason in ["", " \n", String(repeating: "x", count: 1001)] {
            let refused = #expect(throws: DomainError.self) { try ReviewedSubmission.Withdrawal(reason: reason, of: .report) }
            #expect(refused?.field == "reason" && refused?.code == .invalidArgument)
        }
    }

    @Test("a new version only while none is live: a submitted or approved one stands in the way, a rejected or withdrawn one does not")
    func noneLive() throws {
        try ReviewedSubmission.requireNoneLive([(1, 1, .rejected), (2, 2, .withdrawn)], kind: .filing, subject: "of BIM for 2025")
        let filing = #expect(throws: DomainError.self) {
            try ReviewedSubmission.requireNoneLive([(1, 1, .rejected), (3, 2, .approved)], kind: .filing, subject: "of BIM for 2025")
        }
        #expect(filing?.code == .alreadyExists)
        #expect(filing?.message == "filing 3 (version 2) of BIM for 2025 is approved; withdraw it or await its review before filing again")
        let report = #expect(throws: DomainError.self) {
            try ReviewedSubmission.requireNoneLive([(4, 1, .approved)], kind: .report, subject: "for 2025")
        }
        #expect(report?.message == "report 4 (version 1) for 2025 is accepted; withdraw it or await its review before reporting again")
    }
}
