import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The registry's SQL for application windows (申报时间) and the day their reviews are due.
enum ApplicationWindowStore {
    /// A stored window with the day its reviewing units' reviews are due, and who set it.
    struct StoredWindow: Sendable {
        var window: ApplicationWindow
        var reviewDue: LocalDate
        var setBy: String
    }

    /// The windows of `year` (every year's when nil), by number.
    static func windows(year: Int32?, _ connection: PostgresConnection, _ logger: Logger) async throws -> [StoredWindow] {
        let rows = try await connection.query(
            """
            SELECT year, number, to_char(opens, 'YYYY-MM-DD'), to_char(closes, 'YYYY-MM-DD'), to_char(review_due, 'YYYY-MM-DD'), set_by
            FROM registry.application_windows WHERE (\(year)::integer IS NULL OR year = \(year)) ORDER BY year, number
            """,
            logger: logger
        )
        var windows: [StoredWindow] = []
        for try await (year, number, opens, closes, due, setBy) in rows.decode((Int32, Int32, String, String, String, String).self) {
            guard let opens = LocalDate(iso: opens), let closes = LocalDate(iso: closes), let due = LocalDate(iso: due) else {
                throw RPCError(.internal, "application window \(number) of \(year) has a day that is no date")
            }
            windows.append(
                StoredWindow(
                    window: ApplicationWindow(year: year, number: number, opens: opens, closes: closes), reviewDue: due, setBy: setBy))
        }
        return windows
    }

    /// Opens a window, or changes the days of the one with its number.
    static func save(
        _ window: ApplicationWindow, reviewDue: LocalDate, setBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO registry.application_windows (year, number, opens, closes, review_due, set_by)
            VALUES (\(window.year), \(window.number), \(window.opens.description)::date, \(window.closes.description)::date,
                    \(reviewDue.description)::date, \(setBy))
            ON CONFLICT (year, number) DO UPDATE SET opens = excluded.opens, closes = excluded.closes, review_due = excluded.review_due,
                set_by = excluded.set_by, set_at = now()
            """,
            logger: logger
        )
    }

    /// Works out again the day every window's reviews are due, by `calendar` (after the
    /// province changed it).
    static func updateReviewDues(by calendar: WorkingDayCalendar, _ connection: PostgresConnection, _ logger: Logger) async throws {
        for stored in try await self.windows(year: nil, connection, logger) {
            let due = stored.window.reviewDue(by: calendar)
            guard due != stored.reviewDue else { continue }
            try await connection.query(
                """
                UPDATE registry.application_windows SET review_due = \(due.description)::date
                WHERE year = \(stored.window.year) AND number = \(stored.window.number)
                """,
                logger: logger
            )
        }
    }

    /// A window as the protocol shows it, open or not at `now`.
    static func message(_ stored: StoredWindow, now: Date) -> Xcert_Registry_V1_ApplicationWindow {
        var message = Xcert_Registry_V1_ApplicationWindow()
        message.year = stored.window.year
        message.number = stored.window.number
        message.opens = stored.window.opens.wire
        message.closes = stored.window.closes.wire
        message.closingInstant = stored.window.closes.closingInstant
        message.open = stored.window.accepts(now)
        message.setBy = stored.setBy
        return message
    }
}

/// The registry's SQL for the working-day calendar (工作日): the days that are not what their
/// weekday says.
enum CalendarStore {
    /// The whole calendar: a province lists a few dozen days a year.
    static func calendar(_ connection: PostgresConnection, _ logger: Logger) async throws -> WorkingDayCalendar {
        WorkingDayCalendar(exceptions: try await self.days(year: nil, connection, logger))
    }

    /// The days listed for `year` (every year's when nil), by day.
    static func days(year: Int32?, _ connection: PostgresConnection, _ logger: Logger) async throws -> [WorkingDayCalendar.Exception] {
        let rows = try await connection.query(
            """
            SELECT to_char(day, 'YYYY-MM-DD'), working, note FROM registry.calendar_days
            WHERE \(year)::integer IS NULL OR extract(year FROM day) = \(year) ORDER BY day
            """,
            logger: logger
        )
        var days: [WorkingDayCalendar.Exception] = []
        for try await (day, working, note) in rows.decode((String, Bool, String).self) {
            guard let day = LocalDate(iso: day) else { throw RPCError(.internal, "the calendar holds \(day), which is no date") }
            days.append(.init(day: day, working: working, note: note))
        }
        return days
    }

    /// Sets the days given (a day set again is replaced), and works out again the day every
    /// application window's reviews are due by the calendar as it now is; how many days were
    /// created and how many changed.
    static func set(
        _ days: [WorkingDayCalendar.Exception], setBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> (created: Int, updated: Int) {
        var (created, updated) = (0, 0)
        for day in days {
            let rows = try await connection.query(
                """
                INSERT INTO registry.calendar_days (day, working, note, set_by)
                VALUES (\(day.day.description)::date, \(day.working), \(day.note), \(setBy))
                ON CONFLICT (day) DO UPDATE SET working = excluded.working, note = excluded.note, set_by = excluded.set_by, set_at = now()
                WHERE (registry.calendar_days.working, registry.calendar_days.note) IS DISTINCT FROM (excluded.working, excluded.note)
                RETURNING xmax = 0
                """,
                logger: logger
            )
            // xmax is 0 on a row this statement inserted, not on one it updated.
            for try await inserted in rows.decode(Bool.self) {
                if inserted { created += 1 } else { updated += 1 }
            }
        }
        try await ApplicationWindowStore.updateReviewDues(by: try await self.calendar(connection, logger), connection, logger)
        return (created, updated)
    }
}
