import Foundation

extension Migration {
    /// Application windows (申报时间) and the working-day calendar (001 §三.3: schools apply by
    /// each round's closing day, 12 and 19 June; the cities report their review within 5
    /// working days after it). Each window keeps the day its reviews are due, worked out by
    /// the domain from the calendar, and worked out again when the calendar changes.
    static let v18ApplicationWindows = Migration(
        version: 18,
        name: "application windows and working days",
        statements: [
            """
            CREATE TABLE registry.application_windows (
                year integer NOT NULL CHECK (year BETWEEN 2019 AND 2100),
                number integer NOT NULL CHECK (number BETWEEN 1 AND 20),
                opens date NOT NULL,
                closes date NOT NULL,
                review_due date NOT NULL,
                set_by text NOT NULL,
                set_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (year, number),
                CHECK (closes >= opens),
                CHECK (review_due > closes)
            )
            """,
            """
            CREATE TABLE registry.calendar_days (
                day date PRIMARY KEY,
                working boolean NOT NULL,
                note text NOT NULL DEFAULT '' CHECK (length(note) <= 100),
                set_by text NOT NULL,
                set_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "ALTER TABLE registry.pilot_applications ADD COLUMN window_number integer",
            """
            ALTER TABLE registry.pilot_applications ADD CONSTRAINT pilot_applications_window
                FOREIGN KEY (year, window_number) REFERENCES registry.application_windows (year, number)
            """,
            "CREATE INDEX pilot_applications_awaiting_unit ON registry.pilot_applications (year, window_number) "
                + "WHERE state = 'awaiting_city_review'",
        ] + AnalyticsViews.pendingUnitReviews.statements + ["GRANT SELECT ON analytics.pending_unit_reviews TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.pending_unit_reviews` since V18.
    static let pendingUnitReviews = AnalyticsView(
        name: "pending_unit_reviews",
        comment:
            """
            Secondary schools' applications awaiting their reviewing unit (审核单位: a city's bureau or a designated one), with the day \
            the review is due (5 working days after the window's closing day, 001 §三.3) and whether it is overdue today (Asia/Shanghai).
            """,
        select: """
            SELECT a.id AS application_id, a.year, a.window_number, a.school_code, s.name AS school_name,
                   coalesce(s.reviewing_bureau_code, s.city_code) AS reviewing_unit_code,
                   coalesce(b.name, city.name) AS reviewing_unit_name,
                   a.certificate_code, a.submitted_at, w.closes AS window_closes, w.review_due,
                   w.review_due < (now() AT TIME ZONE 'Asia/Shanghai')::date AS overdue
            FROM registry.pilot_applications a
            JOIN registry.application_windows w ON w.year = a.year AND w.number = a.window_number
            JOIN registry.schools s ON s.code = a.school_code
            JOIN registry.cities city ON city.code = s.city_code
            LEFT JOIN registry.reviewing_bureaus b ON b.code = s.reviewing_bureau_code
            WHERE a.state = 'awaiting_city_review'
            """,
        columns: [
            ("application_id", "the application's id"), ("year", "pilot year"), ("window_number", "the application window it came in"),
            ("school_code", "the school's national code"), ("school_name", "试点院校名称"),
            ("reviewing_unit_code", "审核单位 code: a city's, or a designated bureau's"), ("reviewing_unit_name", "审核单位"),
            ("certificate_code", "certificate code"), ("submitted_at", "when the school applied"),
            ("window_closes", "the window's closing day"),
            ("review_due", "the unit's review is due by the end of this day: 5 working days after the window closed"),
            ("overdue", "true when today (Asia/Shanghai) is past review_due and the review is still pending"),
        ]
    )
}
