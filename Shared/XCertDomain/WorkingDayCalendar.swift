/// The province's working days (工作日): Monday to Friday, except the public holidays the
/// State Council announces each year, plus the weekend days it makes working days to
/// bridge them (调休). The province loads those exceptions as data; nothing here knows a
/// year's holidays.
public struct WorkingDayCalendar: Sendable, Hashable {
    /// A day that is not what its weekday says: a holiday on a weekday, or a weekend day made
    /// a working day.
    public struct Exception: Sendable, Hashable {
        public let day: LocalDate
        /// true: a weekend day made a working day (调休上班); false: a holiday (休).
        public let working: Bool
        public let note: String

        public init(day: LocalDate, working: Bool, note: String) {
            self.day = day
            self.working = working
            self.note = note
        }
    }

    private let exceptions: [LocalDate: Bool]

    public init(exceptions: [Exception]) {
        self.exceptions = Dictionary(exceptions.map { ($0.day, $0.working) }, uniquingKeysWith: { _, last in last })
    }

    /// Weekdays only: a calendar without any exception loaded.
    public static let weekdaysOnly = WorkingDayCalendar(exceptions: [])

    public func isWorkingDay(_ day: LocalDate) -> Bool {
        self.exceptions[day] ?? (day.weekday <= 5)
    }

    /// The `count`-th working day after `day` (`day` itself not counted): a step due "within
    /// 5 working days" of a submission on `day` is due by the end of this day.
    public func workingDay(_ count: Int, after day: LocalDate) -> LocalDate {
        var current = day
        var left = max(0, count)
        // A year has at most a few weeks of holidays: 400 days bound any count used here.
        var steps = 0
        while left > 0, steps < 400 + count * 2 {
            current = current.adding(days: 1)
            steps += 1
            if self.isWorkingDay(current) { left -= 1 }
        }
        return current
    }

    /// 星期一 … 星期日.
    public static func weekdayName(_ day: LocalDate) -> String {
        ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"][day.weekday - 1]
    }
}
