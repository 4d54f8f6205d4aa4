import Foundation

/// Whether a training & evaluation organization may work in the province's pilot (004 第22条
/// 退出机制: an organization that breaks the rules may not carry on the pilot in the province).
///
/// The province suspends an active organization (暂停) and reinstates a suspended one, or
/// exits either (退出), for good. While not active, its filings cannot be approved and it
/// cannot open exam rosters; what it already did stands (certificates earned stay valid).
public enum OrganizationStanding: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case active
    case suspended
    case exited

    /// The province's word for it.
    public var chineseName: String {
        switch self {
        case .active: "正常"
        case .suspended: "暂停"
        case .exited: "退出"
        }
    }

    public var description: String { "\(self.rawValue) (\(self.chineseName))" }

    /// Whether the organization may have filings approved and open exam rosters.
    public var mayWork: Bool { self == .active }

    /// The change to `next` from this standing, decided with `reason` to take effect on
    /// `effectiveOn` (a day in Asia/Shanghai), at `now`.
    ///
    /// - Throws: INVALID_ARGUMENT `standing.reason` for a blank or longer than 1000 reason,
    ///   `standing.effective-on` for a day after today in Asia/Shanghai; FAILED_PRECONDITION
    ///   `standing.unchanged` for the standing it has, `standing.exited` for any change of an
    ///   exited organization (an exit is final).
    public func change(
        to next: OrganizationStanding, reason: String, effectiveOn: LocalDate, now: Date
    ) throws(DomainError) -> OrganizationStanding {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...1000).contains(reason.count) else {
            throw DomainError(
                .invalidArgument, reason: "standing.reason", field: "reason",
                "must say why, as the province's decision does, 1 to 1000 characters")
        }
        let today = LocalDate(containing: Int64(now.timeIntervalSince1970.rounded(.down)))
        guard effectiveOn <= today else {
            throw DomainError(
                .invalidArgument, reason: "standing.effective-on", field: "effective_on",
                "\(effectiveOn) is after today (\(today) in Asia/Shanghai): record a decision once it takes effect")
        }
        guard self != .exited else {
            throw DomainError(
                .failedPrecondition, reason: "standing.exited",
                "the organization has exited the province's pilot; an exit is final and its standing cannot change")
        }
        guard next != self else {
            throw DomainError(.failedPrecondition, reason: "standing.unchanged", "the organization is \(self) already")
        }
        return next
    }

    /// The refusal of work (approving a filing, opening a roster) for an organization that
    /// is not active: `what` cannot be done, quoting the decision.
    ///
    /// - Returns: nil when the organization is active.
    public func refusal(of what: String, organization: String, since: LocalDate?, reason: String) -> DomainError? {
        guard !self.mayWork else { return nil }
        let decided = since.map { " since \($0)" } ?? ""
        return DomainError(
            .failedPrecondition, reason: "organization.\(self.rawValue)",
            "\(what): organization \(organization) is \(self)\(decided) by the province's decision: \(reason)")
    }
}
