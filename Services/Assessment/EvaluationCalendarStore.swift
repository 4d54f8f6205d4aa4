import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The SQL of the evaluation calendars (`assessment.evaluation_calendars`) and the schools'
/// extensions of their due day.
enum EvaluationCalendarStore {
    /// A year's calendar as stored: the rule's view of it and what the wire shows.
    struct Stored {
        var calendar: EvaluationCalendar
        var message: Xcert_Assessment_V1_EvaluationCalendar
    }

    /// The calendar of `year` with every school's extension; nil while the province has set
    /// none. With `forUpdate`, its row stays locked until the transaction ends (changes of the
    /// calendar take turns).
    static func calendar(year: Int32, forUpdate: Bool = false, _ connection: PostgresConnection, _ logger: Logger) async throws -> Stored? {
        let header = try await connection.query(
            """
            SELECT to_char(due_on, 'YYYY-MM-DD'), set_by, set_at FROM assessment.evaluation_calendars WHERE year = \(year)
            \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """,
            logger: logger
        )
        var found: (LocalDate, String, Date)?
        for try await (day, setBy, setAt) in header.decode((String, String, Date).self) {
            guard let day = LocalDate(iso: day) else { throw RPCError(.internal, "the \(year) evaluation calendar's due day is no date") }
            found = (day, setBy, setAt)
        }
        guard let (dueOn, setBy, setAt) = found else { return nil }
        let rows = try await connection.query(
            """
            SELECT school_code, to_char(due_on, 'YYYY-MM-DD'), reason, granted_by, granted_at
            FROM assessment.evaluation_extensions WHERE year = \(year) ORDER BY school_code
            """,
            logger: logger
        )
        var message = Xcert_Assessment_V1_EvaluationCalendar()
        message.year = year
        message.dueOn = dueOn.wire
        message.closingInstant = dueOn.closingInstant
        message.setBy = setBy
        message.setAt = .init(setAt)
        var extensions: [String: LocalDate] = [:]
        for try await (school, day, reason, grantedBy, grantedAt) in rows.decode((String, String, String, String, Date).self) {
            guard let day = LocalDate(iso: day) else { throw RPCError(.internal, "the extension of \(school) in \(year) is no date") }
            extensions[school] = day
            var granted = Xcert_Assessment_V1_DueExtension()
            granted.schoolCode = school
            granted.dueOn = day.wire
            granted.reason = reason
            granted.grantedBy = grantedBy
            granted.grantedAt = .init(grantedAt)
            message.extensions.append(granted)
        }
        return Stored(calendar: EvaluationCalendar(year: year, dueOn: dueOn, extensions: extensions), message: message)
    }

    /// Sets the due day of `calendar`'s year.
    static func save(_ calendar: EvaluationCalendar, setBy: String, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO assessment.evaluation_calendars (year, due_on, set_by)
            VALUES (\(calendar.year), \(calendar.dueOn.description)::date, \(setBy))
            ON CONFLICT (year) DO UPDATE SET due_on = excluded.due_on, set_by = excluded.set_by, set_at = now()
            """,
            logger: logger
        )
    }

    /// Extends `school`'s due day of `year` to `day` (or changes its extension).
    static func extend(
        school: String, year: Int32, to day: LocalDate, reason: String, grantedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO assessment.evaluation_extensions (school_code, year, due_on, reason, granted_by)
            VALUES (\(school), \(year), \(day.description)::date, \(reason), \(grantedBy))
            ON CONFLICT (school_code, year) DO UPDATE
            SET due_on = excluded.due_on, reason = excluded.reason, granted_by = excluded.granted_by, granted_at = now()
            """,
            logger: logger
        )
    }
}
