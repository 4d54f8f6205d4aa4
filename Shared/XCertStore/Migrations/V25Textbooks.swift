import Foundation

extension Migration {
    /// 003 appendix table 4 (试点证书教材公开出版统计表) for analysts: the textbooks of each
    /// organization's live yearly report.
    static let v25Textbooks = Migration(
        version: 25,
        name: "textbooks of the yearly reports",
        statements: AnalyticsViews.textbooks.statements + ["GRANT SELECT ON analytics.textbooks TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.textbooks` since V25: the lines of `ReportService/GetTextbookTable`.
    static let textbooks = AnalyticsView(
        name: "textbooks",
        comment:
            """
            003 附表4 试点证书教材公开出版统计表: per year, the published textbooks of each organization's live yearly report (submitted \
            or accepted), in the report's order.
            """,
        select: """
            SELECT r.year, r.organization_id, o.name AS organization_name, r.id AS report_id, r.state AS report_state,
                   t.position::integer AS position, t.book->>'title' AS title,
                   (SELECT string_agg(a.name, '、' ORDER BY a.n)
                    FROM jsonb_array_elements_text(t.book->'authors') WITH ORDINALITY AS a (name, n) WHERE a.n <= 5) AS authors,
                   t.book->>'publisher' AS publisher,
                   make_date((t.book->'published_on'->>'year')::integer, (t.book->'published_on'->>'month')::integer,
                             (t.book->'published_on'->>'day')::integer) AS published_on,
                   coalesce((t.book->>'national_planning')::boolean, false) AS national_planning,
                   t.book->>'certificate_code' AS certificate_code, c.name AS certificate_name,
                   CASE t.book->>'level' WHEN 'CERTIFICATE_LEVEL_ELEMENTARY' THEN '初级' WHEN 'CERTIFICATE_LEVEL_INTERMEDIATE' THEN '中级'
                        WHEN 'CERTIFICATE_LEVEL_ADVANCED' THEN '高级' END AS level
            FROM filing.reports r
            CROSS JOIN LATERAL jsonb_array_elements(r.content->'textbooks') WITH ORDINALITY AS t (book, position)
            JOIN registry.organizations o ON o.id = r.organization_id
            LEFT JOIN registry.certificates c ON c.code = t.book->>'certificate_code'
            WHERE r.state IN ('submitted', 'accepted')
            """,
        columns: [
            ("year", "the report's pilot year"), ("organization_id", "the registry's id of the organization"),
            ("organization_name", "培训评价组织名称"), ("report_id", "the yearly report"),
            ("report_state", "submitted (awaiting review) or accepted"), ("position", "the textbook's place in the report, from 1"),
            ("title", "教材名称"), ("authors", "参编人员(前五), joined by 、"), ("publisher", "出版社名称"), ("published_on", "出版时间"),
            ("national_planning", "是否是国家规划教材"), ("certificate_code", "certificate code"),
            ("certificate_name", "对应证书名称"), ("level", "级别: 初级, 中级 or 高级"),
        ]
    )
}
