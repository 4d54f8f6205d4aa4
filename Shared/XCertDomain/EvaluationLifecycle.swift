import Foundation

/// A school's yearly evaluation (年度考核, 003) through its life:
///
///     (none) ──the school submits──▶ self-submitted ──the province reviews──▶ locked
///                                      ╰── the school submits again ──╯
///
/// The school may submit its self-evaluation again until the province has reviewed it; the
/// review locks it, the computed items' points included, and nothing changes it after.
public struct EvaluationLifecycle: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        case selfSubmitted = "self_submitted"
        case locked
    }

    /// What a transition changes, to persist as it says.
    public enum Event: Sendable, Hashable {
        /// The self-evaluation as submitted (again) by `submitter` at this time.
        case selfSubmitted(by: String, at: Date)
        /// Reviewed by `reviewer` and locked at this time.
        case locked(reviewer: String, at: Date)
    }

    public let school: String
    public let year: Int32
    /// nil before the school's first submission.
    public private(set) var state: State?

    public init(school: String, year: Int32, state: State?) {
        self.school = school
        self.year = year
        self.state = state
    }

    /// The school submits its self-evaluation, the first time or again.
    ///
    /// - Throws: FAILED_PRECONDITION once the evaluation is reviewed and locked.
    public mutating func submit(by submitter: String, now: Date) throws(DomainError) -> Event {
        guard self.state != .locked else { throw self.lockedRefusal }
        self.state = .selfSubmitted
        return .selfSubmitted(by: submitter, at: now)
    }

    /// The province reviews the self-evaluation, which locks it.
    ///
    /// - Throws: FAILED_PRECONDITION before the school has submitted, or once locked.
    public mutating func review(reviewer: String, now: Date) throws(DomainError) -> Event {
        switch self.state {
        case nil:
            throw DomainError(
                .failedPrecondition, reason: "evaluation.not-submitted",
                "\(self.school) has not submitted its \(self.year) self-evaluation yet"
            )
        case .locked:
            throw self.lockedRefusal
        case .selfSubmitted:
            self.state = .locked
            return .locked(reviewer: reviewer, at: now)
        }
    }

    private var lockedRefusal: DomainError {
        DomainError(
            .failedPrecondition, reason: "evaluation.locked", "the \(self.year) evaluation of \(self.school) is reviewed and locked")
    }
}
