/// A year's calendar of periodic reports for one kind of party (000 §八: lead schools report
/// weekly or half-monthly; 004 items 2 and 18: weekly reports; 003 indicator 6-3: the
/// biweekly report, 双周报): periods of a fixed length from a first day in the year, each
/// report due a number of days after its period's last day, by a time of day in the province
/// (Asia/Shanghai).
public struct ReportingCalendar: Sendable, Hashable {
    public let year: Int32
    /// The first day of period 1; in the year.
    public let firstPeriodStarts: LocalDate
    /// 7 for weekly reports, 14 for 双周报; 1 to 92.
    public let periodDays: Int
    /// Days after a period's last day its report is due (0: that day itself); 0 to 30.
    public let dueDaysAfter: Int
    /// The minute of the due day by which the report is due (1080: 18:00); 0 to 1439.
    public let dueMinute: Int

    /// The calendar, or INVALID_ARGUMENT naming the field that is out of its range.
    public init(year: Int32, firstPeriodStarts: LocalDate, periodDays: Int, dueDaysAfter: Int, dueMinute: Int) throws(DomainError) {
        guard firstPeriodStarts.year == Int(year) else {
            throw DomainError(
                .invalidArgument, reason: "reporting.first-day-outside-year", field: "first_period_starts",
                "period 1 must start in \(year); not on \(firstPeriodStarts)")
        }
        guard (1...92).contains(periodDays) else {
            throw DomainError(
                .invalidArgument, reason: "reporting.period-length", field: "period_days",
                "a period is 1 to 92 days (7 weekly, 14 for 双周报); not \(periodDays)")
        }
        guard (0...30).contains(dueDaysAfter) else {
            throw DomainError(
                .invalidArgument, reason: "reporting.due-days", field: "due_days_after",
                "a report is due 0 to 30 days after its period's last day; not \(dueDaysAfter)")
        }
        guard (0..<1440).contains(dueMinute) else {
            throw DomainError(
                .invalidArgument, reason: "reporting.due-minute", field: "due_minute",
                "the due time is a minute of the day, 0 (00:00) to 1439 (23:59); not \(dueMinute)")
        }
        self.year = year
        self.firstPeriodStarts = firstPeriodStarts
        self.periodDays = periodDays
        self.dueDaysAfter = dueDaysAfter
        self.dueMinute = dueMinute
    }

    /// How many periods start in the year (the last may end in the next).
    public var periods: Int {
        let last = LocalDate(year: Int(self.year), month: 12, day: 31)!
        return (self.firstPeriodStarts.days(until: last)) / self.periodDays + 1
    }

    /// Period `number`'s first and last day; nil unless 1 ≤ number ≤ ``periods``.
    public func period(_ number: Int) -> (starts: LocalDate, ends: LocalDate)? {
        guard (1...self.periods).contains(number) else { return nil }
        let starts = self.firstPeriodStarts.adding(days: (number - 1) * self.periodDays)
        return (starts, starts.adding(days: self.periodDays - 1))
    }

    /// The period that contains `day`; nil before period 1 or after the last.
    public func period(containing day: LocalDate) -> Int? {
        let offset = self.firstPeriodStarts.days(until: day)
        guard offset >= 0 else { return nil }
        let number = offset / self.periodDays + 1
        return number <= self.periods ? number : nil
    }

    /// The first instant (seconds since the Unix epoch) at which period `number`'s report is
    /// late: its due day at the due minute, Asia/Shanghai.
    public func lateFrom(_ number: Int) -> Int64? {
        guard let period = self.period(number) else { return nil }
        let due = period.ends.adding(days: self.dueDaysAfter)
        return due.endInstant - 86_400 + Int64(self.dueMinute) * 60
    }

    /// Period `number`'s due instant as the province writes it, e.g. `2026-03-16 18:00:00 +08:00`.
    public func dueInstant(_ number: Int) -> String? {
        self.lateFrom(number).map { LocalDate.provinceTime($0) }
    }

    /// Where a party's report of a period stands at `now` (seconds since the Unix epoch).
    public enum Status: Sendable, Hashable {
        /// Received before its due instant.
        case onTime
        /// Received at or after its due instant.
        case late
        /// Not received, and the due instant has passed.
        case missing
        /// Not received, not due yet.
        case notDue
    }

    /// The status of period `number`'s report received at `submitted` (nil: not received) as
    /// of `now`; nil for a period the calendar does not have.
    public func status(of number: Int, submitted: Int64?, now: Int64) -> Status? {
        guard let late = self.lateFrom(number) else { return nil }
        if let submitted { return submitted < late ? .onTime : .late }
        return now < late ? .notDue : .missing
    }
}

extension LocalDate {
    /// The days from this date to `other` (negative when `other` is earlier).
    public func days(until other: LocalDate) -> Int {
        Int(
            Self.daysSinceEpoch(year: other.year, month: other.month, day: other.day)
                - Self.daysSinceEpoch(year: self.year, month: self.month, day: self.day))
    }
}
