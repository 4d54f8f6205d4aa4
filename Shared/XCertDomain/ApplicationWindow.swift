import Foundation

/// A window in which schools apply to pilot certificates (申报时间, 001: school applications
/// close on 12 June for the first round and 19 June for the second). The province opens
/// each year's windows; an application is accepted from the first instant of `opens` to the
/// last of `closes`, both days in Asia/Shanghai.
public struct ApplicationWindow: Sendable, Hashable {
    public let year: Int32
    public let number: Int32
    public let opens: LocalDate
    public let closes: LocalDate

    public init(year: Int32, number: Int32, opens: LocalDate, closes: LocalDate) {
        self.year = year
        self.number = number
        self.opens = opens
        self.closes = closes
    }

    /// Whether an application at `now` falls in the window.
    public func accepts(_ now: Date) -> Bool {
        let seconds = now.timeIntervalSince1970
        return seconds >= Double(self.opens.adding(days: -1).endInstant) && self.closes.accepts(instant: seconds)
    }

    /// The working days a reviewing unit has, after a window's closing day, to review the
    /// applications of its secondary schools (001 §三.3: 5).
    public static let unitReviewWorkingDays = 5

    /// The day by whose end the reviewing units' reviews of this window's applications are due.
    public func reviewDue(by calendar: WorkingDayCalendar) -> LocalDate {
        calendar.workingDay(Self.unitReviewWorkingDays, after: self.closes)
    }

    /// Whether a review due on `due` is overdue at `now`: its day has ended in the province.
    public static func isOverdue(_ due: LocalDate, at now: Date) -> Bool {
        !due.accepts(instant: now.timeIntervalSince1970)
    }

    /// `1: 2020-06-01 to 2020-06-12`.
    public var description: String { "\(self.number): \(self.opens) to \(self.closes)" }

    /// The window of `windows` (one year's) that takes an application at `now`.
    ///
    /// - Throws: FAILED_PRECONDITION `application.no-window` naming the year's windows (or
    ///   that there is none) and the instant, when none is open.
    public static func open(
        among windows: [ApplicationWindow], year: Int32, at now: Date
    ) throws(DomainError) -> ApplicationWindow {
        if let window = windows.sorted(by: { $0.number < $1.number }).first(where: { $0.year == year && $0.accepts(now) }) {
            return window
        }
        let at = LocalDate.provinceTime(Int64(now.timeIntervalSince1970.rounded(.down)))
        let listed = windows.filter { $0.year == year }.sorted { $0.number < $1.number }
        let message =
            listed.isEmpty
            ? "the province has opened no application window for \(year) yet; applications are not accepted"
            : """
            no application window for \(year) is open at \(at) (the windows: \(listed.map(\.description).joined(separator: "; ")), \
            each to 23:59:59 +08:00 of its last day)
            """
        throw DomainError(.failedPrecondition, reason: "application.no-window", message)
    }
}
