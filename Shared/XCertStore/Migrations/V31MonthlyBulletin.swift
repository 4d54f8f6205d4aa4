import Foundation

extension Migration {
    /// The province's monthly bulletin (月度简报, 004 items 2 and 18) for analysts, and reports
    /// the province records on receipt (补录): the reason kept with the report and shown in
    /// `analytics.periodic_report_status`.
    static let v31MonthlyBulletin = Migration(
        version: 31,
        name: "monthly bulletin",
        statements: [
            """
            ALTER TABLE filing.periodic_reports
                ADD COLUMN recorded_reason text CHECK (recorded_reason IS NULL OR length(recorded_reason) BETWEEN 1 AND 500)
            """
        ] + AnalyticsViews.periodicReportStatusRecorded.replacingStatements + AnalyticsViews.monthlyBulletin.statements
            + ["GRANT SELECT ON analytics.monthly_bulletin TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.periodic_report_status` since V31: V30's, with the reason of a report the
    /// province recorded on receipt.
    static let periodicReportStatusRecorded = AnalyticsView(
        name: periodicReportStatus.name,
        comment: periodicReportStatus.comment,
        select: periodicReportStatus.select.replacingOccurrences(
            of: "coalesce(r.complete, false) AS complete", with: "coalesce(r.complete, false) AS complete, r.recorded_reason"),
        columns: periodicReportStatus.columns + [
            ("recorded_reason", "补录: why the province recorded the report as received outside the system; NULL: the party submitted it")
        ]
    )

    /// `analytics.monthly_bulletin` since V31.
    static let monthlyBulletin = AnalyticsView(
        name: "monthly_bulletin",
        comment:
            """
            月度简报: per calendar month (Asia/Shanghai) with anything recorded, what the services recorded in it: filings by when they \
            were submitted and approved, applications submitted and qualifications granted, exam sessions (sealed rosters in force) with \
            the candidates who sat and passed by exam date, and payments by their paid-on day (reversed payments not counted). \
            xctl report bulletin prints the same month with the year to its end.
            """,
        select: """
            WITH events (day, kind, n) AS (
                SELECT (submitted_at AT TIME ZONE 'Asia/Shanghai')::date, 'filings_submitted', 1::bigint FROM filing.filings
                UNION ALL
                SELECT (reviewed_at AT TIME ZONE 'Asia/Shanghai')::date, 'filings_approved', 1 FROM filing.filings WHERE review_approved
                UNION ALL
                SELECT (submitted_at AT TIME ZONE 'Asia/Shanghai')::date, 'applications_submitted', 1 FROM registry.pilot_applications
                UNION ALL
                SELECT (granted_at AT TIME ZONE 'Asia/Shanghai')::date, 'applications_approved', 1 FROM registry.qualifications
                UNION ALL
                SELECT exam_date, 'exam_sessions', 1 FROM filing.rosters WHERE state = 'sealed'
                UNION ALL
                SELECT r.exam_date, 'candidates_examined', t.completed
                FROM filing.rosters r JOIN filing.roster_tallies t ON t.roster_id = r.id WHERE r.state = 'sealed'
                UNION ALL
                SELECT r.exam_date, 'candidates_passed', t.passed
                FROM filing.rosters r JOIN filing.roster_tallies t ON t.roster_id = r.id WHERE r.state = 'sealed'
                UNION ALL
                SELECT p.paid_on, 'payments', 1 FROM settlement.payments p
                WHERE NOT EXISTS (SELECT 1 FROM settlement.reversals v WHERE v.payment_id = p.id)
                UNION ALL
                SELECT p.paid_on, 'fees_received_fen', p.amount_fen FROM settlement.payments p
                WHERE NOT EXISTS (SELECT 1 FROM settlement.reversals v WHERE v.payment_id = p.id)
            )
            SELECT extract(year FROM day)::integer AS year, extract(month FROM day)::integer AS month,
                   coalesce(sum(n) FILTER (WHERE kind = 'filings_submitted'), 0)::bigint AS filings_submitted,
                   coalesce(sum(n) FILTER (WHERE kind = 'filings_approved'), 0)::bigint AS filings_approved,
                   coalesce(sum(n) FILTER (WHERE kind = 'applications_submitted'), 0)::bigint AS applications_submitted,
                   coalesce(sum(n) FILTER (WHERE kind = 'applications_approved'), 0)::bigint AS applications_approved,
                   coalesce(sum(n) FILTER (WHERE kind = 'exam_sessions'), 0)::bigint AS exam_sessions,
                   coalesce(sum(n) FILTER (WHERE kind = 'candidates_examined'), 0)::bigint AS candidates_examined,
                   coalesce(sum(n) FILTER (WHERE kind = 'candidates_passed'), 0)::bigint AS candidates_passed,
                   coalesce(sum(n) FILTER (WHERE kind = 'payments'), 0)::bigint AS payments,
                   coalesce(sum(n) FILTER (WHERE kind = 'fees_received_fen'), 0)::bigint AS fees_received_fen
            FROM events
            GROUP BY 1, 2
            """,
        columns: [
            ("year", "the calendar year"), ("month", "the month, 1 to 12"), ("filings_submitted", "提交备案: filing versions submitted"),
            ("filings_approved", "备案通过: filings approved"), ("applications_submitted", "院校申报: pilot applications submitted"),
            ("applications_approved", "获批试点: qualifications granted"),
            ("exam_sessions", "考核场次: exam sessions held (sealed rosters in force, by exam date)"),
            ("candidates_examined", "参加考核人数: candidates who sat"), ("candidates_passed", "通过人数: candidates who passed"),
            ("payments", "收费笔数: payments by their paid-on day, reversed ones not counted"),
            ("fees_received_fen", "收费到账金额 in fen (1/100 yuan)"),
        ]
    )
}
