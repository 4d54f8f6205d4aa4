/// A calendar date in the province's time zone (Asia/Shanghai, UTC+8, no daylight
/// saving): "closes May 29" means open until 2020-05-29 23:59:59 +08:00.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The province's offset from UTC.
    public static let utcOffsetSeconds: Int64 = 8 * 3600

    public let year: Int
    public let month: Int
    public let day: Int

    /// nil unless the date exists in the Gregorian calendar.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// A date as PostgreSQL and the province's files write it (`YYYY-MM-DD`); nil otherwise.
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2] else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The first instant after this day, in seconds since the Unix epoch: a deadline on
    /// this day accepts every instant before it.
    public var endInstant: Int64 {
        (Self.daysSinceEpoch(year: self.year, month: self.month, day: self.day) + 1) * 86_400 - Self.utcOffsetSeconds
    }

    /// Whether a deadline on this day still accepts the instant `seconds` (since the Unix epoch).
    public func accepts(instant seconds: Double) -> Bool {
        seconds < Double(self.endInstant)
    }

    /// The last second of the day as the province writes it, e.g. `2020-05-29 23:59:59 +08:00`.
    public var closingInstant: String { "\(self) 23:59:59 +08:00" }

    /// The day on which the instant `seconds` (since the Unix epoch) falls in the province.
    public init(containing seconds: Int64) {
        let local = seconds + Self.utcOffsetSeconds
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        (self.year, self.month, self.day) = Self.civil(daysSinceEpoch: days)
    }

    /// An instant as the province writes it, e.g. `2020-05-29 23:59:59 +08:00`.
    public static func provinceTime(_ seconds: Int64) -> String {
        let (date, time) = Self.provinceDateAndTime(seconds)
        return "\(date) \(time) +08:00"
    }

    /// An instant in ISO 8601 with the province's offset, e.g. `2020-05-29T23:59:59+08:00`
    /// (a credential's `validFrom`).
    public static func provinceTimestamp(_ seconds: Int64) -> String {
        let (date, time) = Self.provinceDateAndTime(seconds)
        return "\(date)T\(time)+08:00"
    }

    /// The province's day of an instant and its time of day, `HH:MM:SS`.
    private static func provinceDateAndTime(_ seconds: Int64) -> (LocalDate, String) {
        let local = seconds + Self.utcOffsetSeconds
        let second = ((local % 86_400) + 86_400) % 86_400
        let time = "\(Self.padded(Int(second / 3600), 2)):\(Self.padded(Int(second / 60 % 60), 2)):\(Self.padded(Int(second % 60), 2))"
        return (LocalDate(containing: seconds), time)
    }

    /// The date `days` later (earlier when negative).
    public func adding(days: Int) -> LocalDate {
        let (year, month, day) = Self.civil(
            daysSinceEpoch: Self.daysSinceEpoch(year: self.year, month: self.month, day: self.day) + Int64(days))
        return LocalDate(year: year, month: month, day: day) ?? self
    }

    /// The last day of this date's month.
    public var lastOfMonth: LocalDate {
        LocalDate(year: self.year, month: self.month, day: Self.days(inMonth: self.month, of: self.year)) ?? self
    }

    /// The day of the week, ISO 8601: 1 Monday … 6 Saturday, 7 Sunday.
    public var weekday: Int {
        let days = Self.daysSinceEpoch(year: self.year, month: self.month, day: self.day)
        // 1970-01-01 was a Thursday.
        return Int(((days + 3) % 7 + 7) % 7) + 1
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        "\(Self.padded(self.year, 4))-\(Self.padded(self.month, 2))-\(Self.padded(self.day, 2))"
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    private static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's inverse algorithm).
    private static func civil(daysSinceEpoch days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// Days from 1970-01-01 to the date (proleptic Gregorian; Howard Hinnant's algorithm).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
