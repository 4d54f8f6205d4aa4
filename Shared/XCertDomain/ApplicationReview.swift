import Foundation

/// A school's application to pilot a certificate (试点申报) on its review route (rule 4,
/// 001 §三.3):
///
///     secondary school:  awaiting city review ──city approves──▶ awaiting province review
///     other schools:                                              awaiting province review
///     awaiting province review ──province approves──▶ approved (a qualification is granted)
///     either awaiting state ──rejected──▶ rejected (final)
///
/// Each step is decided by its own reviewer: the reviewer of the school's reviewing unit
/// (审核单位: its city's bureau, or a bureau the province designates) the city step, the
/// province the province step.
public struct ApplicationReview: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        case awaitingCityReview = "awaiting_city_review"
        case awaitingProvinceReview = "awaiting_province_review"
        case approved, rejected

        /// The state that awaits `step`.
        public static func awaiting(_ step: ReviewStep) -> State {
            step == .city ? .awaitingCityReview : .awaitingProvinceReview
        }

        /// The step this state awaits; nil once decided.
        public var awaitedStep: ReviewStep? {
            switch self {
            case .awaitingCityReview: .city
            case .awaitingProvinceReview: .province
            case .approved, .rejected: nil
            }
        }
    }

    /// Who decides: the reviewer of the school's reviewing unit, or the province.
    public enum Reviewer: Sendable, Hashable {
        case city, province
    }

    /// A reviewer's decision: approve, or reject with why.
    public struct Decision: Sendable, Hashable {
        public let approve: Bool
        public let reason: String

        public init(approve: Bool, reason: String) throws(DomainError) {
            self.approve = approve
            self.reason = try ReviewReason.checked(reason, required: !approve, "is required to reject: say why")
        }
    }

    /// One step decided: to record with the reviewer, and the state it leads to. An
    /// application `approved` by the last step becomes a qualification.
    public struct Event: Sendable, Hashable {
        public let step: ReviewStep
        public let approved: Bool
        public let reason: String
        public let next: State

        public init(step: ReviewStep, approved: Bool, reason: String, next: State) {
            self.step = step
            self.approved = approved
            self.reason = reason
            self.next = next
        }
    }

    public let id: Int64
    public private(set) var state: State
    /// The school's reviewing unit (its city or a designated bureau), named when its review
    /// comes first.
    public let reviewingUnit: String

    public init(id: Int64, state: State, reviewingUnit: String) {
        self.id = id
        self.state = state
        self.reviewingUnit = reviewingUnit
    }

    /// `reviewer` decides the step the application awaits.
    ///
    /// - Throws: FAILED_PRECONDITION when it awaits no review, or when the province would
    ///   decide before the city; PERMISSION_DENIED when a city reviewer would decide the
    ///   province's step.
    public mutating func review(_ decision: Decision, by reviewer: Reviewer) throws(DomainError) -> Event {
        guard let step = self.state.awaitedStep else {
            throw DomainError(
                .failedPrecondition, reason: "application.decided",
                "application \(self.id) is \(self.state.rawValue.replacingOccurrences(of: "_", with: " ")); it awaits no review"
            )
        }
        switch (step, reviewer) {
        case (.city, .city), (.province, .province):
            break
        case (.city, .province):
            throw DomainError(
                .failedPrecondition, reason: "application.city-first",
                "application \(self.id) awaits the review of its reviewing unit \(self.reviewingUnit) first"
            )
        case (.province, .city):
            throw DomainError(
                .permissionDenied, reason: "application.province-step",
                "application \(self.id) awaits the province's review; a city reviewer decides only the city step"
            )
        }
        let next: State = !decision.approve ? .rejected : step.next.map(State.awaiting) ?? .approved
        self.state = next
        return Event(step: step, approved: decision.approve, reason: decision.reason, next: next)
    }
}
