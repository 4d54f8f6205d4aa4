import Foundation

extension Migration {
    /// 003 appendix table 2's 考核人数 counts the candidates examined at the site (those who
    /// sat), as table 1's 完成考核人数 does; V13 counted every roster row, declared-only and
    /// absent candidates too.
    static let v16SitesCountTheExamined = Migration(
        version: 16,
        name: "sites count the examined",
        statements: AnalyticsViews.assessmentSites.replacingStatements
    )
}

extension AnalyticsViews {
    /// `analytics.assessment_sites` since V16.
    static let assessmentSites = AnalyticsView(
        name: "assessment_sites",
        comment:
            """
            003 附表2 江西省考核站点设置明细表: per year, certificate level and site school, the exam sessions held there (sealed rosters in force) \
            and the candidates examined there.
            """,
        select: """
            SELECT extract(year FROM r.exam_date)::integer AS year, r.certificate_code, c.name AS certificate_name, r.level, \
            \(levelName("r.level")) AS level_name,
                   r.site_school_code, s.name AS site_school_name, s.city_code,
                   count(*)::bigint AS sessions,
                   string_agg(to_char(r.exam_date, 'YYYY-MM-DD'), ', ' ORDER BY r.exam_date) AS exam_dates,
                   sum(sat.completed)::bigint AS candidates
            FROM filing.rosters r
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(t.completed), 0) AS completed FROM filing.roster_tallies t WHERE t.roster_id = r.id
            ) sat
            JOIN registry.certificates c ON c.code = r.certificate_code
            JOIN registry.schools s ON s.code = r.site_school_code
            WHERE r.state = 'sealed'
            GROUP BY extract(year FROM r.exam_date), r.certificate_code, c.name, r.level, r.site_school_code, s.name, s.city_code
            """,
        columns: [
            ("year", "exam year"), ("certificate_code", "certificate code"), ("certificate_name", "证书名称"),
            ("level", "level: 1 初级, 2 中级, 3 高级"), ("level_name", "级别"), ("site_school_code", "the site school's national code"),
            ("site_school_name", "考核站点院校名称"), ("city_code", "the site's city (设区市) code"),
            ("sessions", "开展考核次数: exam sessions held"), ("exam_dates", "考核时间: the sessions' dates, YYYY-MM-DD, comma-separated"),
            ("candidates", "考核人数: candidates examined at the site (who sat; not those only declared, nor the absent)"),
        ]
    )
}
