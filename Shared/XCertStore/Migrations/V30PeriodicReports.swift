import Foundation

extension Migration {
    /// Periodic reports (000 §八, 004 items 2 and 18, 003 indicator 6-3): the province's
    /// calendars per year and kind of party, the reports received; for analysts, per period
    /// due, every party expected to report and where its report stands.
    static let v30PeriodicReports = Migration(
        version: 30,
        name: "periodic reports",
        statements: [
            """
            CREATE TABLE filing.reporting_calendars (
                year integer NOT NULL CHECK (year BETWEEN 2019 AND 2100),
                party text NOT NULL CHECK (party IN ('school', 'lead_school', 'organization')),
                first_period_starts date NOT NULL CHECK (extract(year FROM first_period_starts) = year),
                period_days integer NOT NULL CHECK (period_days BETWEEN 1 AND 92),
                due_days_after integer NOT NULL CHECK (due_days_after BETWEEN 0 AND 30),
                due_minute integer NOT NULL CHECK (due_minute BETWEEN 0 AND 1439),
                figures jsonb NOT NULL,
                set_by text NOT NULL,
                set_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (year, party)
            )
            """,
            """
            CREATE TABLE filing.periodic_reports (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                year integer NOT NULL,
                party text NOT NULL,
                party_code text NOT NULL,
                period integer NOT NULL CHECK (period >= 1),
                figures jsonb NOT NULL,
                text text NOT NULL,
                attachments jsonb NOT NULL,
                submitted_at timestamptz NOT NULL DEFAULT now(),
                submitted_by text NOT NULL,
                on_time boolean NOT NULL,
                complete boolean NOT NULL,
                FOREIGN KEY (year, party) REFERENCES filing.reporting_calendars (year, party),
                UNIQUE (year, party, party_code, period)
            )
            """,
        ] + AnalyticsViews.periodicReportStatus.statements + ["GRANT SELECT ON analytics.periodic_report_status TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.periodic_report_status` since V30.
    static let periodicReportStatus = AnalyticsView(
        name: "periodic_report_status",
        comment:
            """
            周报/双周报报送情况: per calendar and period whose report is due (or in), every party expected to report (schools with a \
            qualification of the year, the year's final lead schools, organizations with a filing of the year approved) and where \
            its report stands: on_time, late or missing (not_due while neither in nor due).
            """,
        select: """
            WITH periods AS (
                SELECT c.year, c.party, n AS period, c.first_period_starts + (n - 1) * c.period_days AS period_starts,
                       c.first_period_starts + n * c.period_days - 1 AS period_ends,
                       ((c.first_period_starts + n * c.period_days - 1 + c.due_days_after)::timestamp
                           + c.due_minute * interval '1 minute') AT TIME ZONE 'Asia/Shanghai' AS due_at
                FROM filing.reporting_calendars c
                CROSS JOIN LATERAL generate_series(1, (make_date(c.year, 12, 31) - c.first_period_starts) / c.period_days + 1) AS n
            ),
            expected AS (
                SELECT DISTINCT q.year, 'school' AS party, q.school_code AS party_code
                FROM registry.qualifications q WHERE q.revoked_at IS NULL
                UNION
                SELECT DISTINCT l.year, 'lead_school', l.school_code
                FROM registry.lead_schools l
                JOIN registry.lead_selections sel ON sel.certificate_code = l.certificate_code AND sel.year = l.year AND sel.phase = 'final'
                UNION
                SELECT DISTINCT f.year, 'organization', f.organization_id::text FROM filing.filings f WHERE f.state = 'approved'
            )
            SELECT p.year, p.party, e.party_code, p.period, p.period_starts, p.period_ends, p.due_at, r.submitted_at,
                   CASE WHEN r.id IS NOT NULL AND r.on_time THEN 'on_time' WHEN r.id IS NOT NULL THEN 'late'
                        WHEN p.due_at <= now() THEN 'missing' ELSE 'not_due' END AS status,
                   coalesce(r.complete, false) AS complete
            FROM periods p
            JOIN expected e ON e.year = p.year AND e.party = p.party
            LEFT JOIN filing.periodic_reports r
                   ON r.year = p.year AND r.party = p.party AND r.party_code = e.party_code AND r.period = p.period
            """,
        columns: [
            ("year", "the calendar's year"), ("party", "school (试点院校), lead_school (牵头院校) or organization (培训评价组织)"),
            ("party_code", "the school's code, or the organization's id"), ("period", "the period, from 1"),
            ("period_starts", "its first day"), ("period_ends", "its last day"), ("due_at", "when its report is due (Asia/Shanghai)"),
            ("submitted_at", "when the report came in; NULL: not in"),
            ("status", "on_time, late (in at or after due_at), missing (due, not in) or not_due"),
            ("complete", "true: the report gives every figure of the calendar, and text"),
        ]
    )
}
