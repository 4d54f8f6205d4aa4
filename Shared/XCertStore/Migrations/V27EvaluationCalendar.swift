import Foundation

extension Migration {
    /// The evaluation calendar (003: materials due 4/1): each year's due day for schools'
    /// self-evaluations, the schools' extensions, and the self-evaluation report (自评报告)
    /// with its attachments on the evaluation; for analysts each school's due day and when it
    /// submitted.
    static let v27EvaluationCalendar = Migration(
        version: 27,
        name: "evaluation calendar",
        statements: [
            """
            CREATE TABLE assessment.evaluation_calendars (
                year integer PRIMARY KEY CHECK (year BETWEEN 2019 AND 2100),
                due_on date NOT NULL CHECK (extract(year FROM due_on) IN (year, year + 1)),
                set_by text NOT NULL,
                set_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE assessment.evaluation_extensions (
                school_code text NOT NULL CHECK (school_code ~ '^[0-9]{10}$'),
                year integer NOT NULL REFERENCES assessment.evaluation_calendars (year),
                due_on date NOT NULL,
                reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
                granted_by text NOT NULL,
                granted_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (school_code, year)
            )
            """,
            "ALTER TABLE assessment.evaluations ADD COLUMN report text NOT NULL DEFAULT ''",
            "ALTER TABLE assessment.evaluations ADD COLUMN attachments jsonb NOT NULL DEFAULT '[]'",
        ] + AnalyticsViews.evaluationDueDays.statements + ["GRANT SELECT ON analytics.evaluation_due_days TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.evaluation_due_days` since V27.
    static let evaluationDueDays = AnalyticsView(
        name: "evaluation_due_days",
        comment:
            """
            考核材料报送: per evaluated year with a calendar, each school with an evaluation or an extension: its due day (the year's, or \
            its extension, with why), when it last submitted its self-evaluation, and whether it has sent its 自评报告.
            """,
        select: """
            SELECT k.year, k.school_code, s.name AS school_name, cal.due_on AS year_due_on,
                   coalesce(x.due_on, cal.due_on) AS due_on, x.school_code IS NOT NULL AS extended, x.reason AS extension_reason,
                   e.submitted_at, e.submitted_at IS NOT NULL AS submitted,
                   length(coalesce(e.report, '')) > 0 AS report_sent, coalesce(jsonb_array_length(e.attachments), 0) AS attachments
            FROM (
                SELECT school_code, year FROM assessment.evaluations
                UNION
                SELECT school_code, year FROM assessment.evaluation_extensions
            ) k
            JOIN assessment.evaluation_calendars cal ON cal.year = k.year
            LEFT JOIN assessment.evaluation_extensions x ON x.school_code = k.school_code AND x.year = k.year
            LEFT JOIN assessment.evaluations e ON e.school_code = k.school_code AND e.year = k.year
            LEFT JOIN registry.schools s ON s.code = k.school_code
            """,
        columns: [
            ("year", "the evaluated year"), ("school_code", "the school's national code"), ("school_name", "试点院校名称"),
            ("year_due_on", "the year's due day for self-evaluations (003: 4/1 of the next year), to 23:59:59 +08:00"),
            ("due_on", "the school's due day: its extension, or the year's"), ("extended", "true: the province extended it"),
            ("extension_reason", "why the province extended it"),
            ("submitted_at", "when the school last submitted its self-evaluation; NULL: not yet"),
            ("submitted", "true once it submitted"), ("report_sent", "true: the submission carries its 自评报告"),
            ("attachments", "the 自评报告's attachments"),
        ]
    )
}
