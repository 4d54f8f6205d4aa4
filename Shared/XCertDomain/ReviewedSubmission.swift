import Foundation

/// What an organization submits for the province's review, and the one lifecycle both
/// kinds share: a work-plan filing (备案, 001 §三) and a yearly report (年度报告, 003).
///
///     submitted ──review: approve──▶ approved   (a report: accepted)
///         │     ──review: reject───▶ rejected   (a report: returned)
///         └──── withdraw ──────────▶ withdrawn
///
/// Only a submitted one is reviewed or withdrawn; the others are final. A new version may
/// be submitted while no version is live (submitted or approved) for the same subject (a
/// certificate's year for a filing, the year for a report).
public struct ReviewedSubmission: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// An organization's work-plan filing of one certificate for one year.
        case filing
        /// An organization's yearly report.
        case report

        /// The word for it in messages.
        public var noun: String {
            switch self {
            case .filing: "filing"
            case .report: "report"
            }
        }

        /// The stored and shown name of `state` for this kind: a report is accepted or
        /// returned where a filing is approved or rejected.
        public func name(of state: State) -> String {
            switch (self, state) {
            case (.report, .approved): "accepted"
            case (.report, .rejected): "returned"
            default: state.rawValue
            }
        }

        /// The state a stored name stands for; nil for a name of neither kind.
        public func state(named name: String) -> State? {
            State.allCases.first { self.name(of: $0) == name }
        }
    }

    public enum State: String, Sendable, Hashable, CaseIterable {
        case submitted, approved, rejected, withdrawn

        /// Submitted or approved: a version that stands in the way of a new one.
        public var isLive: Bool { self == .submitted || self == .approved }
    }

    /// The province's decision on a submitted version: approve, or reject with what the
    /// organization must change. Made before anything is loaded, so a decision without its
    /// reason is refused before the record is looked at.
    public struct Decision: Sendable, Hashable {
        public let approve: Bool
        /// Why, for a rejection; may be empty for an approval.
        public let reason: String

        public init(approve: Bool, reason: String, of kind: Kind) throws(DomainError) {
            self.approve = approve
            self.reason = try ReviewReason.checked(
                reason, required: !approve,
                kind == .filing
                    ? "is required to reject: say what the organization must change"
                    : "is required to return a report: say what the organization must correct"
            )
        }
    }

    /// The organization's withdrawal of a submitted version, with why.
    public struct Withdrawal: Sendable, Hashable {
        public let reason: String

        public init(reason: String, of kind: Kind) throws(DomainError) {
            let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...ReviewReason.maximumLength).contains(reason.count) else {
                throw DomainError(
                    .invalidArgument, reason: "withdrawal.reason-required", field: "reason",
                    "is required: say why the \(kind.noun) is withdrawn (1 to \(ReviewReason.maximumLength) characters)"
                )
            }
            self.reason = reason
        }
    }

    /// What a transition changes, to persist as it says.
    public enum Event: Sendable, Hashable {
        case withdrawn(reason: String)
        case reviewed(approved: Bool, reason: String, reviewer: String, at: Date)

        /// The state after the event.
        public var state: State {
            switch self {
            case .withdrawn: .withdrawn
            case .reviewed(let approved, _, _, _): approved ? .approved : .rejected
            }
        }
    }

    public let kind: Kind
    public let id: Int64
    public private(set) var state: State

    public init(kind: Kind, id: Int64, state: State) {
        self.kind = kind
        self.id = id
        self.state = state
    }

    /// The organization withdraws this version.
    ///
    /// - Throws: FAILED_PRECONDITION unless it is submitted (awaiting review).
    public mutating func withdraw(_ withdrawal: Withdrawal) throws(DomainError) -> Event {
        guard self.state == .submitted else {
            throw DomainError(
                .failedPrecondition, reason: "withdrawal.not-awaiting-review",
                """
                \(self.kind.noun) \(self.id) is \(self.kind.name(of: self.state)); only a submitted \(self.kind.noun) awaiting review can \
                be withdrawn
                """
            )
        }
        let event = Event.withdrawn(reason: withdrawal.reason)
        self.state = event.state
        return event
    }

    /// The province reviews this version.
    ///
    /// - Throws: FAILED_PRECONDITION unless it is submitted.
    public mutating func review(_ decision: Decision, reviewer: String, now: Date) throws(DomainError) -> Event {
        guard self.state == .submitted else {
            throw DomainError(
                .failedPrecondition, reason: "review.not-submitted",
                "\(self.kind.noun) \(self.id) is \(self.kind.name(of: self.state)); only a submitted \(self.kind.noun) is reviewed"
            )
        }
        let event = Event.reviewed(approved: decision.approve, reason: decision.reason, reviewer: reviewer, at: now)
        self.state = event.state
        return event
    }

    /// A version of the same subject that is still live: a new one may not be submitted
    /// beside it. `subject` names it in the message (`of BIM for 2025`, `for 2025`).
    ///
    /// - Throws: ALREADY_EXISTS naming the live version.
    public static func requireNoneLive(
        _ versions: [(id: Int64, version: Int32, state: State)], kind: Kind, subject: String
    ) throws(DomainError) {
        guard let live = versions.first(where: { $0.state.isLive }) else { return }
        let again = kind == .filing ? "filing again" : "reporting again"
        throw DomainError(
            .alreadyExists, reason: "submission.live-version-exists",
            """
            \(kind.noun) \(live.id) (version \(live.version)) \(subject) is \(kind.name(of: live.state)); withdraw it or await its review \
            before \(again)
            """
        )
    }
}

/// The reason a reviewer gives with a decision: trimmed, at most 1,000 characters, and
/// required for a negative decision.
public enum ReviewReason {
    public static let maximumLength = 1000

    /// `raw` trimmed.
    ///
    /// - Throws: INVALID_ARGUMENT (field `reason`) when it is `required` and empty
    ///   (`requiredWording` says what to write), or too long.
    public static func checked(_ raw: String, required: Bool, _ requiredWording: String) throws(DomainError) -> String {
        let reason = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !required || !reason.isEmpty else {
            throw DomainError(.invalidArgument, reason: "review.reason-required", field: "reason", requiredWording)
        }
        guard reason.count <= Self.maximumLength else {
            throw DomainError(
                .invalidArgument, reason: "review.reason-too-long", field: "reason", "must be at most \(Self.maximumLength) characters")
        }
        return reason
    }
}
