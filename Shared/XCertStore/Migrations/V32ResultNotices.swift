import Foundation

extension Migration {
    /// Results on public notice (成绩公示): the province's window per exam year, each exam
    /// session's notice (named by its first roster version) and the schools' objections
    /// with the organizations' answers; for analysts, every sealed session's result state
    /// and the objections.
    static let v32ResultNotices = Migration(
        version: 32,
        name: "result notices",
        statements: [
            """
            CREATE TABLE filing.notice_policies (
                year integer PRIMARY KEY CHECK (year BETWEEN 2019 AND 2100),
                days integer NOT NULL CHECK (days BETWEEN 1 AND 30),
                set_by text NOT NULL,
                set_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE filing.result_notices (
                session_roster_id bigint PRIMARY KEY REFERENCES filing.rosters (id),
                starts_on date NOT NULL,
                ends_on date NOT NULL CHECK (ends_on >= starts_on),
                working_days boolean NOT NULL,
                days integer NOT NULL CHECK (days BETWEEN 1 AND 30),
                started_by text NOT NULL,
                start_reason text CHECK (start_reason IS NULL OR length(start_reason) BETWEEN 1 AND 500),
                started_at timestamptz NOT NULL DEFAULT now(),
                closed_at timestamptz,
                closed_by text,
                CHECK ((closed_at IS NULL) = (closed_by IS NULL))
            )
            """,
            """
            CREATE TABLE filing.objections (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                session_roster_id bigint NOT NULL REFERENCES filing.result_notices (session_roster_id),
                roster_id bigint NOT NULL REFERENCES filing.rosters (id),
                candidate_number text NOT NULL,
                candidate_name text NOT NULL,
                school_code text NOT NULL,
                reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
                evidence jsonb NOT NULL,
                state text NOT NULL CHECK (state IN ('open', 'corrected', 'rejected')),
                answer text,
                corrected_by_roster_id bigint REFERENCES filing.rosters (id),
                lodged_by text NOT NULL,
                lodged_at timestamptz NOT NULL DEFAULT now(),
                answered_by text,
                answered_at timestamptz,
                CHECK ((state = 'open') = (answered_at IS NULL)),
                CHECK ((state = 'corrected') = (corrected_by_roster_id IS NOT NULL))
            )
            """,
            "CREATE INDEX objections_session ON filing.objections (session_roster_id, id)",
            "CREATE INDEX objections_school ON filing.objections (school_code, id)",
        ] + AnalyticsViews.resultNotices.statements + AnalyticsViews.resultObjections.statements
            + ["GRANT SELECT ON analytics.result_notices, analytics.result_objections TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.result_notices` since V32.
    static let resultNotices = AnalyticsView(
        name: "result_notices",
        comment:
            """
            成绩公示: every exam session with a sealed roster in force, its results' state (registered: sealed, not on notice; on_notice; \
            final: the notice closed), the notice's window and its objections.
            """,
        select: """
            SELECT extract(year FROM r.exam_date)::integer AS year, root.id AS session_roster_id, r.id AS roster_id, r.organization_id,
                   r.certificate_code, r.level, \(levelName("r.level")) AS level_name, r.site_school_code, r.exam_date,
                   CASE WHEN n.session_roster_id IS NULL THEN 'registered' WHEN n.closed_at IS NULL THEN 'on_notice' ELSE 'final' END
                       AS state,
                   n.starts_on, n.ends_on, n.working_days, n.days, n.start_reason, n.closed_at,
                   (SELECT count(*) FROM filing.objections o WHERE o.session_roster_id = root.id) AS objections,
                   (SELECT count(*) FROM filing.objections o WHERE o.session_roster_id = root.id AND o.state = 'open') AS open_objections
            FROM filing.rosters r
            JOIN filing.rosters root ON root.certificate_code = r.certificate_code AND root.level = r.level
                 AND root.site_school_code = r.site_school_code AND root.exam_date = r.exam_date AND root.version = 1
            LEFT JOIN filing.result_notices n ON n.session_roster_id = root.id
            WHERE r.state = 'sealed'
            """,
        columns: [
            ("year", "the exam year"), ("session_roster_id", "the session's first roster version, which names the session"),
            ("roster_id", "the sealed version in force"), ("organization_id", "the organization (培训评价组织)"),
            ("certificate_code", "certificate code"), ("level", "level: 1 初级, 2 中级, 3 高级"), ("level_name", "级别"),
            ("site_school_code", "the site school (考核站点)"), ("exam_date", "the exam's date"),
            ("state", "registered (成绩登记), on_notice (成绩公示中) or final (考试已结束)"),
            ("starts_on", "the notice's first day; NULL while registered"),
            ("ends_on", "its last day: objections are taken until 23:59:59 Asia/Shanghai of it"),
            ("working_days", "true: the window was counted in working days (the province's working-day calendar)"),
            ("days", "the window's length"), ("start_reason", "why the province recorded a start before the day it was entered"),
            ("closed_at", "when the notice closed and the results became final"), ("objections", "objections lodged"),
            ("open_objections", "objections not yet answered"),
        ]
    )

    /// `analytics.result_objections` since V32.
    static let resultObjections = AnalyticsView(
        name: "result_objections",
        comment: "成绩公示异议: each school's objection for its candidate during a notice, and the organization's answer.",
        select: """
            SELECT extract(year FROM r.exam_date)::integer AS year, o.id AS objection_id, o.session_roster_id, o.roster_id,
                   r.organization_id, r.certificate_code, r.level, o.school_code, o.candidate_number, o.candidate_name, o.reason,
                   jsonb_array_length(o.evidence) AS evidence_files, o.state, o.answer, o.corrected_by_roster_id, o.lodged_at,
                   o.answered_at
            FROM filing.objections o JOIN filing.rosters r ON r.id = o.roster_id
            """,
        columns: [
            ("year", "the exam year"), ("objection_id", "the objection"), ("session_roster_id", "the session (its first roster version)"),
            ("roster_id", "the version objected to"), ("organization_id", "the session's organization"),
            ("certificate_code", "certificate code"), ("level", "level: 1 初级, 2 中级, 3 高级"),
            ("school_code", "the school that objected, the candidate's"), ("candidate_number", "准考证号"),
            ("candidate_name", "the candidate's name"), ("reason", "the school's reason"),
            ("evidence_files", "evidence attached (by name, size and SHA-256)"),
            ("state", "open, corrected (upheld by a correcting roster) or rejected (answered with a reason)"),
            ("answer", "the organization's answer"), ("corrected_by_roster_id", "the correcting roster, when upheld"),
            ("lodged_at", "when the school objected"), ("answered_at", "when the organization answered"),
        ]
    )
}
