import Foundation

extension Migration {
    /// Reconciliation of organizations' yearly reports (003's footnotes *1–*4): the
    /// differences the province returned a report with, and for analysts every figure of a
    /// live report that the system's own records (rosters, the registry's sites, the ledger,
    /// the report's textbook list) do not back.
    static let v28ReportReconciliation = Migration(
        version: 28,
        name: "report reconciliation",
        statements: [
            "ALTER TABLE filing.reports ADD COLUMN returned_with jsonb NOT NULL DEFAULT '[]'"
        ] + AnalyticsViews.reportDifferences.statements + ["GRANT SELECT ON analytics.report_differences TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.report_differences` since V28: the differences `ReportService/
    /// GetReportReconciliation` lists, for every live report.
    static let reportDifferences = AnalyticsView(
        name: "report_differences",
        comment:
            """
            年度试点工作汇报材料核对: per live yearly report (submitted or accepted), each figure of its tables 一.1 (province counts), 一.3 \
            (province sites), 一.4 and 一.5 that differs from the system's own records, with both numbers; a line the system has and \
            the report lacks is listed as missing.
            """,
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
            lines AS (
                SELECT report_id, table_no, certificate_code, level, bool_or(in_report) AS in_report
                FROM (SELECT report_id, table_no, certificate_code, level, true AS in_report FROM reported
                      UNION ALL
                      SELECT report_id, table_no, certificate_code, level, false FROM recorded) x
                GROUP BY report_id, table_no, certificate_code, level
            ),
            figures (table_no, position, figure, label, source) AS (VALUES
                (1, 1, 'province.declared', '申报人数', 'rosters'), (1, 2, 'province.approved', '获批人数', 'rosters'),
                (1, 3, 'province.completed', '完成考核人数', 'rosters'), (1, 4, 'province.passed', '通过人数', 'rosters'),
                (3, 5, 'sites_province', '考核站点数', 'registry sites'), (3, 6, 'candidates_assessed', '开展考核人数', 'rosters'),
                (3, 7, 'exam_sessions', '开展考核次数', 'rosters'), (4, 8, 'completed', '完成考核人数', 'ledger'),
                (4, 9, 'receivable', '应收金额(分)', 'ledger'), (4, 10, 'received', '实收金额(分)', 'ledger'),
                (4, 11, 'outstanding', '未结金额(分)', 'ledger'), (5, 12, 'published_textbooks', '公开出版教材(部)', 'textbook list')
            )
            SELECT rep.id AS report_id, rep.organization_id, o.name AS organization_name, rep.year, l.table_no,
                   l.certificate_code, c.name AS certificate_name, l.level, \(levelName("l.level")) AS level_name,
                   f.figure, f.label, coalesce(mine.value, 0)::bigint AS reported, coalesce(system.value, 0)::bigint AS recorded,
                   f.source, NOT l.in_report AS line_missing, f.position
            FROM lines l
            JOIN live rep ON rep.id = l.report_id
            JOIN figures f ON f.table_no = l.table_no
            LEFT JOIN (SELECT report_id, table_no, certificate_code, level, figure, sum(value) AS value FROM reported
                       GROUP BY report_id, table_no, certificate_code, level, figure) mine
                   ON (mine.report_id, mine.table_no, mine.certificate_code, mine.level, mine.figure)
                      = (l.report_id, l.table_no, l.certificate_code, l.level, f.figure)
            LEFT JOIN (SELECT report_id, table_no, certificate_code, level, figure, sum(value) AS value FROM recorded
                       GROUP BY report_id, table_no, certificate_code, level, figure) system
                   ON (system.report_id, system.table_no, system.certificate_code, system.level, system.figure)
                      = (l.report_id, l.table_no, l.certificate_code, l.level, f.figure)
            LEFT JOIN registry.organizations o ON o.id = rep.organization_id
            LEFT JOIN registry.certificates c ON c.code = l.certificate_code
            WHERE coalesce(mine.value, 0) <> coalesce(system.value, 0)
            """,
        columns: [
            ("report_id", "the yearly report (its live version)"), ("organization_id", "the organization's id"),
            ("organization_name", "培训评价组织名称"), ("year", "the report's pilot year"),
            ("table_no", "the report's table of 一: 1 证书申报与考核情况, 3 考核站点设置情况, 4 考核费用结算情况, 5 证书资源开发情况"),
            ("certificate_code", "certificate code"), ("certificate_name", "证书名称"), ("level", "level: 1 初级, 2 中级, 3 高级"),
            ("level_name", "级别"), ("figure", "the report's field, e.g. province.completed, receivable"),
            ("label", "its heading, e.g. 完成考核人数; money in fen (分)"), ("reported", "as the report says; 0 where the line is missing"),
            ("recorded", "as the system holds it"),
            ("source", "rosters (sealed rosters in force), registry sites, ledger (settlement) or textbook list (the report's 附表4)"),
            ("line_missing", "true: the system has figures for a certificate level the report has no line for"),
            ("position", "the figure's place in the report, to sort by"),
        ]
    )

    /// A certificate level as protobuf JSON names it, as its number.
    static func wireLevel(_ expression: String) -> String {
        """
        CASE \(expression) WHEN 'CERTIFICATE_LEVEL_ELEMENTARY' THEN 1 WHEN 'CERTIFICATE_LEVEL_INTERMEDIATE' THEN 2 \
        WHEN 'CERTIFICATE_LEVEL_ADVANCED' THEN 3 END
        """
    }
}
