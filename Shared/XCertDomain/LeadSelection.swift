import Foundation

/// The selection of an alliance's lead schools (牵头院校遴选, 000 §五, §十四, §十五) through its
/// phases:
///
///     applications ──close──▶ expert review ──leads named──▶ public notice ──notice over──▶ final
///
/// Schools apply while applications are open, until the closing day (23:59:59 Asia/Shanghai);
/// experts score the applications during the expert review; naming the leads starts the
/// public notice (公示) for a number of days, and the selection is final only once the notice
/// has run its course.
public struct LeadSelection: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable, CaseIterable {
        case applications
        case expertReview = "expert_review"
        case publicNotice = "public_notice"
        case final
    }

    /// What a transition changes, to persist as it says.
    public enum Event: Sendable, Hashable {
        /// Applications are closed: the expert review begins.
        case applicationsClosed
        /// Leads named; the public notice runs until `noticeEndsAt`.
        case leadsNamed(noticeEndsAt: Date)
        /// The selection is final.
        case finalized(at: Date)
    }

    public let certificate: String
    public let year: Int32
    public private(set) var phase: Phase
    /// The last day of applications, in Asia/Shanghai.
    public let applicationsClose: LocalDate
    /// The end of the public notice, once the leads are named.
    public let noticeEndsAt: Date?

    public init(certificate: String, year: Int32, phase: Phase, applicationsClose: LocalDate, noticeEndsAt: Date? = nil) {
        self.certificate = certificate
        self.year = year
        self.phase = phase
        self.applicationsClose = applicationsClose
        self.noticeEndsAt = noticeEndsAt
    }

    /// Whether a school's application may be taken `now`.
    ///
    /// - Throws: FAILED_PRECONDITION once applications are closed, by the province or by
    ///   their closing day.
    public func requireApplicationsOpen(now: Date) throws(DomainError) {
        guard self.phase == .applications else {
            throw DomainError(
                .failedPrecondition, reason: "lead-selection.applications-closed",
                "applications for the lead schools of \(self.certificate) in \(self.year) are closed"
            )
        }
        guard self.applicationsClose.accepts(instant: now.timeIntervalSince1970) else {
            throw DomainError(
                .failedPrecondition, reason: "lead-selection.closing-day-passed",
                "applications closed on \(self.applicationsClose.closingInstant)"
            )
        }
    }

    /// Whether experts may score the applications now.
    ///
    /// - Throws: FAILED_PRECONDITION outside the expert review.
    public func requireExpertReview() throws(DomainError) {
        guard self.phase == .expertReview else {
            throw DomainError(
                .failedPrecondition, reason: "lead-selection.not-in-expert-review",
                "the selection of \(self.certificate) in \(self.year) is not in expert review; close the applications first"
            )
        }
    }

    /// The province closes the applications.
    ///
    /// - Throws: FAILED_PRECONDITION unless applications are open.
    public mutating func closeApplications() throws(DomainError) -> Event {
        try self.require(.applications)
        self.phase = .expertReview
        return .applicationsClosed
    }

    /// The province names the leads after the expert review; the public notice runs for
    /// `noticeDays` days from `now`.
    ///
    /// - Throws: FAILED_PRECONDITION outside the expert review.
    public mutating func nameLeads(noticeDays: Int32, now: Date) throws(DomainError) -> Event {
        guard self.phase == .expertReview else {
            throw DomainError(
                .failedPrecondition, reason: "lead-selection.naming-outside-expert-review",
                "lead schools are named after the expert review; the selection of \(self.certificate) in \(self.year) is \(self.phase)"
            )
        }
        self.phase = .publicNotice
        return .leadsNamed(noticeEndsAt: now + TimeInterval(noticeDays) * 86_400)
    }

    /// The province makes the selection final once the public notice is over.
    ///
    /// - Throws: FAILED_PRECONDITION outside the public notice, or while it still runs.
    public mutating func finalize(now: Date) throws(DomainError) -> Event {
        try self.require(.publicNotice)
        if let ends = self.noticeEndsAt, ends > now {
            throw DomainError(
                .failedPrecondition, reason: "lead-selection.notice-running",
                "the public notice of \(self.certificate) in \(self.year) runs until \(ends); objections may still come"
            )
        }
        self.phase = .final
        return .finalized(at: now)
    }

    private func require(_ phase: Phase) throws(DomainError) {
        guard self.phase == phase else {
            throw DomainError(
                .failedPrecondition, reason: "lead-selection.wrong-phase",
                "the selection of \(self.certificate) in \(self.year) is \(self.phase), not \(phase)"
            )
        }
    }
}

extension LeadSelection.Phase: CustomStringConvertible {
    /// The phase's name as the protocol spells it (`expertReview`).
    public var description: String {
        switch self {
        case .applications: "applications"
        case .expertReview: "expertReview"
        case .publicNotice: "publicNotice"
        case .final: "final"
        }
    }
}
