/// An exam session's results through their public notice (成绩公示):
///
///     registered (sealed) ──start──▶ on notice ──close──▶ final (考试已结束)
///
/// The window opens on its first day and ends at 23:59:59 Asia/Shanghai of its last: `days`
/// working days counted from the first (the first day counts if it is a working day) when
/// the province has loaded its working-day calendar, else calendar days. During the window
/// a school may object for its candidate; the organization answers each objection. The
/// notice closes once the window has ended and no objection is open.
public struct ResultNotice: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        case registered
        case onNotice = "on_notice"
        case final
    }

    /// The longest window the province may set, in days.
    public static let maximumDays = 30

    public let startsOn: LocalDate
    public let endsOn: LocalDate
    public let closed: Bool

    public init(startsOn: LocalDate, endsOn: LocalDate, closed: Bool) {
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.closed = closed
    }

    /// The last day of a window of `days` starting on `start`: working days by `calendar`,
    /// or calendar days when it is nil.
    public static func lastDay(startingOn start: LocalDate, days: Int, workingDays calendar: WorkingDayCalendar?) -> LocalDate {
        let count = min(max(days, 1), Self.maximumDays)
        guard let calendar else { return start.adding(days: count - 1) }
        return calendar.workingDay(count, after: start.adding(days: -1))
    }

    public var state: State { self.closed ? .final : .onNotice }

    /// The first instant after the window, in seconds since the Unix epoch.
    public var endInstant: Int64 { self.endsOn.endInstant }

    /// Refuses an objection lodged at `instant` (seconds since the Unix epoch) unless the
    /// window is open then.
    public func acceptObjection(at instant: Int64) throws(DomainError) {
        guard !self.closed else {
            throw DomainError(.failedPrecondition, reason: "notice.closed", "the results are final; the notice is closed")
        }
        guard instant < self.endInstant else {
            throw DomainError(
                .failedPrecondition, reason: "notice.ended",
                "the notice ended at \(self.endsOn.closingInstant); no objection is taken after it")
        }
        guard LocalDate(containing: instant) >= self.startsOn else {
            throw DomainError(.failedPrecondition, reason: "notice.not-started", "the notice begins on \(self.startsOn)")
        }
    }

    /// Closes the notice at `instant`: refused while the window runs or an objection is
    /// open (named by `openObjections`, e.g. "7 (candidate 2026-001)").
    public mutating func close(at instant: Int64, openObjections: [String]) throws(DomainError) {
        guard !self.closed else {
            throw DomainError(.failedPrecondition, reason: "notice.closed", "the notice is closed already; the results are final")
        }
        guard instant >= self.endInstant else {
            throw DomainError(
                .failedPrecondition, reason: "notice.running",
                "the notice runs until \(self.endsOn.closingInstant); it closes after that")
        }
        guard openObjections.isEmpty else {
            throw DomainError(
                .failedPrecondition, reason: "notice.open-objections",
                """
                \(openObjections.count) objection(s) still open: \(openObjections.joined(separator: ", ")); the organization answers \
                each before the notice closes
                """)
        }
        self = ResultNotice(startsOn: self.startsOn, endsOn: self.endsOn, closed: true)
    }
}
