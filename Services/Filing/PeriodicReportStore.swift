import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The SQL of periodic reports: the calendars (`filing.reporting_calendars`) and the reports
/// received (`filing.periodic_reports`).
enum PeriodicReportStore {
    /// A party kind as stored.
    static func stored(_ party: Xcert_Filing_V1_ReportingParty) -> String? {
        switch party {
        case .school: "school"
        case .leadSchool: "lead_school"
        case .organization: "organization"
        default: nil
        }
    }

    /// A calendar as stored: the rule's view of it and what the wire shows.
    struct Stored {
        var calendar: ReportingCalendar
        var message: Xcert_Filing_V1_ReportingCalendar
    }

    static func calendar(
        year: Int32, party: Xcert_Filing_V1_ReportingParty, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Stored? {
        let rows = try await connection.query(
            """
            SELECT to_char(first_period_starts, 'YYYY-MM-DD'), period_days, due_days_after, due_minute, figures::text, set_by
            FROM filing.reporting_calendars WHERE year = \(year) AND party = \(Self.stored(party) ?? "")
            """,
            logger: logger
        )
        for try await (first, days, after, minute, figures, setBy) in rows.decode((String, Int32, Int32, Int32, String, String).self) {
            guard let first = LocalDate(iso: first) else { throw RPCError(.internal, "the \(year) calendar's first day is no date") }
            let calendar = try ReportingCalendar(
                year: year, firstPeriodStarts: first, periodDays: Int(days), dueDaysAfter: Int(after), dueMinute: Int(minute))
            var message = Xcert_Filing_V1_ReportingCalendar()
            message.year = year
            message.party = party
            message.firstPeriodStarts = first.wire
            message.periodDays = days
            message.dueDaysAfter = after
            message.dueMinute = minute
            message.figures = try Xcert_Filing_V1_ReportFigure.array(fromJSONString: figures)
            message.periods = Int32(calendar.periods)
            message.setBy = setBy
            return Stored(calendar: calendar, message: message)
        }
        return nil
    }

    static func save(
        _ calendar: Xcert_Filing_V1_ReportingCalendar, setBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let figures = try Xcert_Filing_V1_ReportFigure.jsonString(from: calendar.figures, options: .stored)
        try await connection.query(
            """
            INSERT INTO filing.reporting_calendars (year, party, first_period_starts, period_days, due_days_after, due_minute, figures,
                set_by)
            VALUES (\(calendar.year), \(Self.stored(calendar.party) ?? ""),
                    \(LocalDate(wire: calendar.firstPeriodStarts)?.description ?? "")::date,
                    \(calendar.periodDays), \(calendar.dueDaysAfter), \(calendar.dueMinute), \(figures)::jsonb, \(setBy))
            ON CONFLICT (year, party) DO UPDATE SET first_period_starts = excluded.first_period_starts,
                period_days = excluded.period_days, due_days_after = excluded.due_days_after, due_minute = excluded.due_minute,
                figures = excluded.figures, set_by = excluded.set_by, set_at = now()
            """,
            logger: logger
        )
    }

    /// Whether any report of the calendar is in.
    static func hasReports(
        year: Int32, party: Xcert_Filing_V1_ReportingParty, _ connection: PostgresConnection, _ logger: Logger
    )
        async throws -> Bool
    {
        let rows = try await connection.query(
            "SELECT EXISTS (SELECT 1 FROM filing.periodic_reports WHERE year = \(year) AND party = \(Self.stored(party) ?? ""))",
            logger: logger)
        for try await exists in rows.decode(Bool.self) { return exists }
        return false
    }

    /// A report as stored: received at `submittedAt` (now, or when the province says it came).
    struct Row {
        var year: Int32
        var party: Xcert_Filing_V1_ReportingParty
        var partyCode: String
        var period: Int32
        var figures: [Xcert_Filing_V1_FigureValue]
        var text: String
        var attachments: [Xcert_Filing_V1_Attachment]
        var submittedAt: Date
        var submittedBy: String
        var onTime: Bool
        var complete: Bool
        /// 补录: why the province recorded it; nil when the party submitted it.
        var recordedReason: String?
    }

    /// Stores a report; nil when the party's report of the period is in already.
    static func insert(_ row: Row, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int64? {
        let figures = try Xcert_Filing_V1_FigureValue.jsonString(from: row.figures, options: .stored)
        let attachments = try Xcert_Filing_V1_Attachment.jsonString(from: row.attachments, options: .stored)
        let rows = try await connection.query(
            """
            INSERT INTO filing.periodic_reports (year, party, party_code, period, figures, text, attachments, submitted_at, submitted_by,
                on_time, complete, recorded_reason)
            VALUES (\(row.year), \(Self.stored(row.party) ?? ""), \(row.partyCode), \(row.period), \(figures)::jsonb, \(row.text),
                    \(attachments)::jsonb, \(row.submittedAt), \(row.submittedBy), \(row.onTime), \(row.complete), \(row.recordedReason))
            ON CONFLICT (year, party, party_code, period) DO NOTHING
            RETURNING id
            """,
            logger: logger
        )
        for try await id in rows.decode(Int64.self) { return id }
        return nil
    }

    /// The reports of a calendar's period (every period when `period` is nil, of one party when
    /// `partyCode` is set), by party code and period.
    static func reports(
        year: Int32, party: Xcert_Filing_V1_ReportingParty, period: Int32?, partyCode: String? = nil, ids: [Int64]? = nil,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Filing_V1_PeriodicReport] {
        let rows = try await connection.query(
            """
            SELECT id, party_code, period, figures::text, text, attachments::text, submitted_at, submitted_by, on_time, complete,
                   coalesce(recorded_reason, '')
            FROM filing.periodic_reports
            WHERE year = \(year) AND party = \(Self.stored(party) ?? "")
              AND (\(period)::integer IS NULL OR period = \(period))
              AND (\(partyCode)::text IS NULL OR party_code = \(partyCode))
              AND (\(ids)::bigint[] IS NULL OR id = ANY(\(ids)))
            ORDER BY party_code, period
            """,
            logger: logger
        )
        var reports: [Xcert_Filing_V1_PeriodicReport] = []
        for try await row in rows.decode((Int64, String, Int32, String, String, String, Date, String, Bool, Bool, String).self) {
            var report = Xcert_Filing_V1_PeriodicReport()
            report.id = row.0
            report.year = year
            report.party = party
            report.partyCode = row.1
            report.period = row.2
            report.figures = try Xcert_Filing_V1_FigureValue.array(fromJSONString: row.3)
            report.text = row.4
            report.attachments = try Xcert_Filing_V1_Attachment.array(fromJSONString: row.5)
            report.submittedAt = .init(row.6)
            report.submittedBy = row.7
            report.onTime = row.8
            report.complete = row.9
            report.recordedReason = row.10
            reports.append(report)
        }
        return reports
    }

    /// Per school, its reports of the schools' calendar of `year` among `periods`, and how
    /// many of them came on time and complete.
    static func onTimeAndComplete(
        year: Int32, periods: Int32, school: String?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [(school: String, count: Int32)] {
        let rows = try await connection.query(
            """
            SELECT party_code, count(*) FILTER (WHERE on_time AND complete)::integer FROM filing.periodic_reports
            WHERE year = \(year) AND party = 'school' AND period <= \(periods) AND (\(school)::text IS NULL OR party_code = \(school))
            GROUP BY party_code ORDER BY party_code
            """,
            logger: logger
        )
        var counts: [(school: String, count: Int32)] = []
        for try await (code, count) in rows.decode((String, Int32).self) { counts.append((code, count)) }
        return counts
    }

    /// The organizations with a filing of `year` approved, as party codes (their ids).
    static func approvedOrganizations(year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String] {
        let rows = try await connection.query(
            "SELECT DISTINCT organization_id::text FROM filing.filings WHERE year = \(year) AND state = 'approved'", logger: logger)
        var codes: [String] = []
        for try await code in rows.decode(String.self) { codes.append(code) }
        return codes
    }
}
