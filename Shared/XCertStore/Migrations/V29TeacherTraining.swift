import Foundation

extension Migration {
    /// Teacher training (师资培训, 004 item 9): each teacher trained for a certificate level,
    /// with the certificate of completion by hash and the 种子师资 title; for analysts the
    /// records, and the yearly reports' table 一.2 reconciled against them.
    static let v29TeacherTraining = Migration(
        version: 29,
        name: "teacher training",
        statements: [
            """
            CREATE TABLE registry.teacher_trainings (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                school_code text NOT NULL REFERENCES registry.schools (code),
                teacher_name text NOT NULL CHECK (length(teacher_name) BETWEEN 1 AND 50),
                certificate_code text NOT NULL REFERENCES registry.certificates (code),
                level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
                -- The certificate's organization when recorded: the one that gave the training.
                organization_id bigint REFERENCES registry.organizations (id),
                training_name text NOT NULL CHECK (length(training_name) BETWEEN 1 AND 100),
                start_on date NOT NULL,
                end_on date NOT NULL CHECK (end_on >= start_on AND end_on - start_on < 365),
                hours integer NOT NULL CHECK (hours BETWEEN 1 AND 2000),
                completion_name text,
                completion_size_bytes bigint,
                completion_sha256 text CHECK (completion_sha256 ~ '^[0-9a-f]{64}$'),
                seed_teacher boolean NOT NULL,
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                CHECK ((completion_name IS NULL) = (completion_sha256 IS NULL)),
                UNIQUE (school_code, teacher_name, certificate_code, level, training_name, start_on)
            )
            """,
            "CREATE INDEX teacher_trainings_organization ON registry.teacher_trainings (organization_id, start_on)",
            "CREATE INDEX teacher_trainings_school ON registry.teacher_trainings (school_code, start_on)",
        ] + AnalyticsViews.teacherTrainings.statements + AnalyticsViews.reportDifferencesWithTrainings.replacingStatements + [
            "GRANT SELECT ON analytics.teacher_trainings TO xcert_analyst"
        ]
    )
}

extension AnalyticsViews {
    /// `analytics.teacher_trainings` since V29: one row per teacher trained.
    static let teacherTrainings = AnalyticsView(
        name: "teacher_trainings",
        comment:
            """
            师资培训 (004 第9条; 003 指标 4-1、4-2): each teacher of a pilot school trained for a certificate level, by whom, when, \
            for how long, whether certified (取证) and whether given the 种子师资 title.
            """,
        select: """
            SELECT t.id AS training_id, extract(year FROM t.start_on)::integer AS year, t.school_code, s.name AS school_name,
                   t.teacher_name, t.certificate_code, c.name AS certificate_name, t.level, \(levelName("t.level")) AS level_name,
                   t.organization_id, o.name AS organization_name, t.training_name, t.start_on, t.end_on,
                   (t.end_on - t.start_on + 1) AS days, t.hours, t.completion_sha256 IS NOT NULL AS certified, t.completion_name,
                   t.completion_sha256, t.seed_teacher, t.recorded_by, t.recorded_at
            FROM registry.teacher_trainings t
            JOIN registry.schools s ON s.code = t.school_code
            JOIN registry.certificates c ON c.code = t.certificate_code
            LEFT JOIN registry.organizations o ON o.id = t.organization_id
            """,
        columns: [
            ("training_id", "the record's id"), ("year", "the year the training started"), ("school_code", "the teacher's school"),
            ("school_name", "试点院校名称"), ("teacher_name", "教师姓名"), ("certificate_code", "certificate code"),
            ("certificate_name", "证书名称"), ("level", "level: 1 初级, 2 中级, 3 高级"), ("level_name", "级别"),
            ("organization_id", "the certificate's organization, which gave the training"), ("organization_name", "培训评价组织名称"),
            ("training_name", "培训名称"), ("start_on", "培训开始日期"), ("end_on", "培训结束日期"), ("days", "培训天数, inclusive"),
            ("hours", "学时"), ("certified", "true: a certificate of completion (取证) is recorded"),
            ("completion_name", "the certificate of completion's file name"), ("completion_sha256", "its SHA-256"),
            ("seed_teacher", "true: the training gave the 1+X 种子师资 title"), ("recorded_by", "who recorded it"),
            ("recorded_at", "when"),
        ]
    )

    /// `analytics.report_differences` since V29: V28's, with table 一.2's lines (trainings,
    /// named in the new last column `training`) reconciled against the teacher trainings.
    static let reportDifferencesWithTrainings = AnalyticsView(
        name: "report_differences",
        comment: AnalyticsViews.reportDifferences.comment.replacingOccurrences(
            of: "tables 一.1 (province counts), 一.3",
            with: "tables 一.1 (province counts), 一.2 (the province's participants and the days of each training), 一.3"),
        select: """
            WITH live AS (
                SELECT id, organization_id, year, content FROM filing.reports WHERE state IN ('submitted', 'accepted')
            ),
            reported AS (
                SELECT r.id AS report_id, 1 AS table_no, e->>'certificate_code' AS certificate_code, \(wireLevel("e->>'level'")) AS level,
                       f.figure, f.value
                FROM live r CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.content->'exams', '[]')) e
                CROSS JOIN LATERAL (VALUES
                    ('province.declared', coalesce((e->'province'->>'declared')::bigint, 0)),
                    ('province.approved', coalesce((e->'province'->>'approved')::bigint, 0)),
                    ('province.completed', coalesce((e->'province'->>'completed')::bigint, 0)),
                    ('province.passed', coalesce((e->'province'->>'passed')::bigint, 0))) f (figure, value)
                UNION ALL
                SELECT r.id, 3, e->>'certificate_code', \(wireLevel("e->>'level'")), f.figure, f.value
                FROM live r CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.content->'sites', '[]')) e
                CROSS JOIN LATERAL (VALUES
                    ('sites_province', coalesce((e->>'sites_province')::bigint, 0)),
                    ('candidates_assessed', coalesce((e->>'candidates_assessed')::bigint, 0)),
                    ('exam_sessions', coalesce((e->>'exam_sessions')::bigint, 0))) f (figure, value)
                UNION ALL
                SELECT r.id, 4, e->>'certificate_code', \(wireLevel("e->>'level'")), f.figure, f.value
                FROM live r CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.content->'fees', '[]')) e
                CROSS JOIN LATERAL (VALUES
                    ('completed', coalesce((e->>'completed')::bigint, 0)),
                    ('receivable', coalesce((e->'receivable'->>'fen')::bigint, 0)),
                    ('received', coalesce((e->'received'->>'fen')::bigint, 0)),
                    ('outstanding', coalesce((e->'outstanding'->>'fen')::bigint, 0))) f (figure, value)
                UNION ALL
                SELECT r.id, 5, e->>'certificate_code', \(wireLevel("e->>'level'")), 'published_textbooks',
                       coalesce((e->>'published_textbooks')::bigint, 0)
                FROM live r CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.content->'resources', '[]')) e
            ),
            reported_trainings AS (
                SELECT r.id AS report_id, 2 AS table_no, NULL::text AS certificate_code, NULL::integer AS level,
                       (e->>'name') || ' ' || to_char(\(wireDate("e->'start_date'")), 'YYYY-MM-DD') AS training, f.figure, f.value
                FROM live r CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.content->'trainings', '[]')) e
                CROSS JOIN LATERAL (VALUES
                    ('days', coalesce((e->>'days')::bigint, 0)),
                    ('participants_province', coalesce((e->>'participants_province')::bigint, 0))) f (figure, value)
            ),
            recorded_trainings AS (
                SELECT r.id AS report_id, 2 AS table_no, NULL::text AS certificate_code, NULL::integer AS level,
                       t.training_name || ' ' || to_char(t.start_on, 'YYYY-MM-DD') AS training, f.figure, f.value
                FROM live r
                JOIN LATERAL (
                    SELECT g.training_name, g.start_on, max(g.end_on - g.start_on + 1)::bigint AS days,
                           count(DISTINCT (g.school_code, g.teacher_name))::bigint AS participants
                    FROM registry.teacher_trainings g
                    WHERE g.organization_id = r.organization_id AND extract(year FROM g.start_on) = r.year
                    GROUP BY g.training_name, g.start_on
                ) t ON true
                CROSS JOIN LATERAL (VALUES ('days', t.days), ('participants_province', t.participants)) f (figure, value)
            ),
            rosters AS (
                SELECT r.id AS report_id, ro.certificate_code, ro.level, count(DISTINCT ro.id)::bigint AS sessions,
                       coalesce(sum(t.declared), 0)::bigint AS declared, coalesce(sum(t.approved), 0)::bigint AS approved,
                       coalesce(sum(t.completed), 0)::bigint AS completed, coalesce(sum(t.passed), 0)::bigint AS passed
                FROM live r
                JOIN filing.rosters ro ON ro.organization_id = r.organization_id AND ro.state = 'sealed'
                                      AND extract(year FROM ro.exam_date) = r.year
                LEFT JOIN filing.roster_tallies t ON t.roster_id = ro.id
                GROUP BY r.id, ro.certificate_code, ro.level
            ),
            recorded AS (
                SELECT ro.report_id, 1 AS table_no, ro.certificate_code, ro.level, f.figure, f.value
                FROM rosters ro
                CROSS JOIN LATERAL (VALUES ('province.declared', ro.declared), ('province.approved', ro.approved),
                                           ('province.completed', ro.completed), ('province.passed', ro.passed)) f (figure, value)
                UNION ALL
                SELECT ro.report_id, 3, ro.certificate_code, ro.level, f.figure, f.value
                FROM rosters ro
                CROSS JOIN LATERAL (VALUES ('candidates_assessed', ro.completed), ('exam_sessions', ro.sessions)) f (figure, value)
                UNION ALL
                SELECT r.id, 3, s.certificate_code, l.level, 'sites_province', count(*)::bigint
                FROM live r
                JOIN registry.certificates c ON c.organization_id = r.organization_id
                JOIN registry.assessment_sites s ON s.certificate_code = c.code AND s.year_opened <= r.year
                CROSS JOIN LATERAL unnest(s.levels) AS l (level)
                GROUP BY r.id, s.certificate_code, l.level
                UNION ALL
                SELECT r.id, 4, b.certificate_code, b.level, f.figure, sum(f.value)::bigint
                FROM live r
                JOIN settlement.receivable_balances b ON b.organization_id = r.organization_id AND b.year = r.year
                CROSS JOIN LATERAL (VALUES ('completed', b.completed), ('receivable', b.amount_fen), ('received', b.settled_fen),
                                           ('outstanding', b.amount_fen - b.settled_fen)) f (figure, value)
                GROUP BY r.id, b.certificate_code, b.level, f.figure
                UNION ALL
                SELECT r.id, 5, t->>'certificate_code', \(wireLevel("t->>'level'")), 'published_textbooks', count(*)::bigint
                FROM live r CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.content->'textbooks', '[]')) t
                GROUP BY r.id, t->>'certificate_code', \(wireLevel("t->>'level'"))
            ),
            mine AS (
                SELECT report_id, table_no, certificate_code, level, NULL::text AS training, figure, value FROM reported
                UNION ALL
                SELECT report_id, table_no, certificate_code, level, training, figure, value FROM reported_trainings
            ),
            system AS (
                SELECT report_id, table_no, certificate_code, level, NULL::text AS training, figure, value FROM recorded
                UNION ALL
                SELECT report_id, table_no, certificate_code, level, training, figure, value FROM recorded_trainings
            ),
            lines AS (
                SELECT report_id, table_no, certificate_code, level, training, bool_or(in_report) AS in_report
                FROM (SELECT report_id, table_no, certificate_code, level, training, true AS in_report FROM mine
                      UNION ALL
                      SELECT report_id, table_no, certificate_code, level, training, false FROM system) x
                GROUP BY report_id, table_no, certificate_code, level, training
            ),
            figures (table_no, position, figure, label, source) AS (VALUES
                (1, 1, 'province.declared', '申报人数', 'rosters'), (1, 2, 'province.approved', '获批人数', 'rosters'),
                (1, 3, 'province.completed', '完成考核人数', 'rosters'), (1, 4, 'province.passed', '通过人数', 'rosters'),
                (2, 13, 'days', '培训天数', 'training records'),
                (2, 14, 'participants_province', '培训人数(江西省)', 'training records'),
                (3, 5, 'sites_province', '考核站点数', 'registry sites'), (3, 6, 'candidates_assessed', '开展考核人数', 'rosters'),
                (3, 7, 'exam_sessions', '开展考核次数', 'rosters'), (4, 8, 'completed', '完成考核人数', 'ledger'),
                (4, 9, 'receivable', '应收金额(分)', 'ledger'), (4, 10, 'received', '实收金额(分)', 'ledger'),
                (4, 11, 'outstanding', '未结金额(分)', 'ledger'), (5, 12, 'published_textbooks', '公开出版教材(部)', 'textbook list')
            )
            SELECT rep.id AS report_id, rep.organization_id, o.name AS organization_name, rep.year, l.table_no,
                   l.certificate_code, c.name AS certificate_name, l.level, \(levelName("l.level")) AS level_name,
                   f.figure, f.label, coalesce(mine.value, 0)::bigint AS reported, coalesce(system.value, 0)::bigint AS recorded,
                   f.source, NOT l.in_report AS line_missing, f.position, l.training
            FROM lines l
            JOIN live rep ON rep.id = l.report_id
            JOIN figures f ON f.table_no = l.table_no
            LEFT JOIN (SELECT report_id, table_no, certificate_code, level, training, figure, sum(value) AS value FROM mine
                       GROUP BY report_id, table_no, certificate_code, level, training, figure) mine
                   ON (mine.report_id, mine.table_no, mine.figure) = (l.report_id, l.table_no, f.figure)
                      AND mine.certificate_code IS NOT DISTINCT FROM l.certificate_code AND mine.level IS NOT DISTINCT FROM l.level
                      AND mine.training IS NOT DISTINCT FROM l.training
            LEFT JOIN (SELECT report_id, table_no, certificate_code, level, training, figure, sum(value) AS value FROM system
                       GROUP BY report_id, table_no, certificate_code, level, training, figure) system
                   ON (system.report_id, system.table_no, system.figure) = (l.report_id, l.table_no, f.figure)
                      AND system.certificate_code IS NOT DISTINCT FROM l.certificate_code AND system.level IS NOT DISTINCT FROM l.level
                      AND system.training IS NOT DISTINCT FROM l.training
            LEFT JOIN registry.organizations o ON o.id = rep.organization_id
            LEFT JOIN registry.certificates c ON c.code = l.certificate_code
            WHERE coalesce(mine.value, 0) <> coalesce(system.value, 0)
            """,
        columns: AnalyticsViews.reportDifferences.columns.map { column in
            column.0 == "table_no"
                ? ("table_no", "the report's table of 一: 1 证书申报与考核情况, 2 师资培训情况, 3 考核站点设置情况, 4 考核费用结算情况, 5 证书资源开发情况")
                : column.0 == "source"
                    ? ("source", "rosters, registry sites, training records, ledger (settlement) or textbook list (the report's 附表4)")
                    : column
        } + [
            ("training", "table 2's lines: the training's name and start day, e.g. 汽车运用与维修师资培训 2026-07-10 (certificate and level are NULL)")
        ]
    )

    /// A protobuf JSON `xcert.common.v1.Date` as a date (NULL when absent).
    static func wireDate(_ expression: String) -> String {
        "make_date((\(expression)->>'year')::integer, (\(expression)->>'month')::integer, (\(expression)->>'day')::integer)"
    }
}
