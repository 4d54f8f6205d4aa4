import Foundation

/// A year's evaluation calendar (003: the schools' materials are due 4/1): self-evaluations
/// of the year are accepted until the end of the due day in the province (Asia/Shanghai),
/// or of the later day the province extended a school's to.
public struct EvaluationCalendar: Sendable, Hashable {
    /// The evaluated year.
    public let year: Int32
    /// The year's due day.
    public let dueOn: LocalDate
    /// Schools' extended due days, each after ``dueOn``.
    public let extensions: [String: LocalDate]

    public init(year: Int32, dueOn: LocalDate, extensions: [String: LocalDate] = [:]) {
        self.year = year
        self.dueOn = dueOn
        self.extensions = extensions
    }

    /// The days a due day may fall on for `year`: in the evaluated year or the next one
    /// (003's 4/1 is in the next).
    public static func permitsDueDay(_ day: LocalDate, year: Int32) -> Bool {
        day.year == Int(year) || day.year == Int(year) + 1
    }

    /// The day `school`'s self-evaluation is due: its extension, or the year's.
    public func dueDay(of school: String) -> LocalDate {
        self.extensions[school] ?? self.dueOn
    }

    /// Whether `school` has an extension.
    public func isExtended(_ school: String) -> Bool { self.extensions[school] != nil }

    /// Checks that `school` may submit its self-evaluation at `now`.
    ///
    /// - Throws: FAILED_PRECONDITION `evaluation.past-due` naming the due day (and whether it
    ///   is the school's extension) and the instant, once that day has ended in the province.
    public func requireOpen(for school: String, at now: Date) throws(DomainError) {
        let due = self.dueDay(of: school)
        guard !due.accepts(instant: now.timeIntervalSince1970) else { return }
        let at = LocalDate.provinceTime(Int64(now.timeIntervalSince1970.rounded(.down)))
        let whose = self.isExtended(school) ? "school \(school)'s extended due day" : "the \(self.year) due day"
        throw DomainError(
            .failedPrecondition, reason: "evaluation.past-due",
            """
            self-evaluations of \(self.year) were due by \(due.closingInstant) (\(whose)); it is \(at). Only the province can \
            extend a school's due day
            """
        )
    }

    /// Checks that an extension of a school's due day to `day` is one.
    ///
    /// - Throws: INVALID_ARGUMENT on `due_on` unless `day` is after the year's due day and
    ///   permitted for the year.
    public func requireExtension(to day: LocalDate) throws(DomainError) {
        guard day > self.dueOn, Self.permitsDueDay(day, year: self.year) else {
            throw DomainError(
                .invalidArgument, reason: "evaluation.extension-not-later", field: "due_on",
                "an extension must fall after the \(self.year) due day \(self.dueOn), in \(self.year) or \(self.year + 1); not \(day)")
        }
    }

    /// The calendar with the year's due day moved to `day`.
    ///
    /// - Throws: INVALID_ARGUMENT on `due_on` when `day` is not permitted for the year, or
    ///   when a school's extension would no longer be later than it (naming the schools).
    public func movingDueDay(to day: LocalDate) throws(DomainError) -> EvaluationCalendar {
        guard Self.permitsDueDay(day, year: self.year) else {
            throw DomainError(
                .invalidArgument, reason: "evaluation.due-day-out-of-range", field: "due_on",
                "the \(self.year) due day must fall in \(self.year) or \(self.year + 1); not \(day)")
        }
        let overtaken = self.extensions.filter { $0.value <= day }.sorted { $0.key < $1.key }
        guard overtaken.isEmpty else {
            throw DomainError(
                .invalidArgument, reason: "evaluation.extension-overtaken", field: "due_on",
                """
                the due day \(day) would not be before the extensions of \
                \(overtaken.map { "school \($0.key) (to \($0.value))" }.joined(separator: ", ")); extend them past it first
                """)
        }
        return EvaluationCalendar(year: self.year, dueOn: day, extensions: self.extensions)
    }
}
