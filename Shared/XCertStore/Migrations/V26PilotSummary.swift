import Foundation

extension Migration {
    /// 002 appendix 2 (试点院校情况汇总表) for analysts: one row per school and year with the
    /// qualifications in force, as `PilotService/GetPilotSummaryTable` answers.
    static let v26PilotSummary = Migration(
        version: 26,
        name: "pilot summary table",
        statements: AnalyticsViews.pilotSummary.statements + ["GRANT SELECT ON analytics.pilot_summary TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.pilot_summary` since V26.
    static let pilotSummary = AnalyticsView(
        name: "pilot_summary",
        comment:
            """
            002 附件2 试点院校情况汇总表: per year, one row per school with a pilot qualification in force, numbered by school type \
            (中职 first) and code, with its certificates and levels, specialties, planned students and remarks.
            """,
        select: """
            WITH q AS (
                SELECT q.year, q.school_code, q.certificate_code, c.name AS certificate_name, q.levels, q.specialty_codes, q.student_scale
                FROM registry.qualifications q JOIN registry.certificates c ON c.code = q.certificate_code
                WHERE q.revoked_at IS NULL
            ),
            schools AS (SELECT DISTINCT year, school_code FROM q)
            SELECT y.year,
                   row_number() OVER (PARTITION BY y.year ORDER BY \(typeOrder("s.type")), s.code)::integer AS number,
                   s.code AS school_code, s.name AS school_name, s.type AS school_type, \(typeName("s.type")) AS school_type_name,
                   (SELECT string_agg(q.certificate_name || '（' ||
                                      (SELECT string_agg(\(levelName("l")), '、' ORDER BY l) FROM unnest(q.levels) AS l) || '）',
                                      '；' ORDER BY q.certificate_code)
                    FROM q WHERE q.year = y.year AND q.school_code = s.code) AS certificates,
                   sp.count AS specialty_count, sp.names AS specialty_names,
                   (SELECT sum(q.student_scale) FROM q WHERE q.year = y.year AND q.school_code = s.code)::bigint AS student_scale,
                   concat_ws('；',
                       (SELECT '牵头院校：' || string_agg(DISTINCT c.name, '、' ORDER BY c.name)
                        FROM registry.lead_schools l
                        JOIN registry.lead_selections sel ON sel.certificate_code = l.certificate_code AND sel.year = l.year
                        LEFT JOIN LATERAL (
                            SELECT l.certificate_code AS code
                            UNION ALL
                            SELECT g.certificate_code FROM registry.merged_selections g
                            WHERE g.into_certificate_code = l.certificate_code AND g.year = l.year
                        ) led ON true
                        JOIN registry.certificates c ON c.code = led.code
                        WHERE l.school_code = s.code AND l.year = y.year AND sel.phase = 'final'),
                       (SELECT '已撤销：' || string_agg(c.name || '（' || r.revocation_reason || '）', '、' ORDER BY r.certificate_code)
                        FROM registry.qualifications r JOIN registry.certificates c ON c.code = r.certificate_code
                        WHERE r.school_code = s.code AND r.year = y.year AND r.revoked_at IS NOT NULL)
                   ) AS remarks,
                   coalesce(s.reviewing_bureau_code, s.city_code) AS reviewing_unit_code
            FROM schools y
            JOIN registry.schools s ON s.code = y.school_code
            CROSS JOIN LATERAL (
                SELECT count(*)::integer AS count, coalesce(string_agg(p.name, '、' ORDER BY p.position), '') AS names
                FROM registry.school_specialties p
                WHERE p.school_code = s.code
                  AND p.code IN (SELECT unnest(q.specialty_codes) FROM q WHERE q.year = y.year AND q.school_code = s.code)
            ) sp
            """,
        columns: [
            ("year", "pilot year"), ("number", "序号: from 1 per year, by school type (中职 first) then code"),
            ("school_code", "the school's national code"), ("school_name", "试点院校名称"),
            ("school_type", "secondary_vocational, higher_vocational, …"), ("school_type_name", "学校类型: 中职, 高职, …"),
            ("certificates", "参与试点证书及等级, e.g. 汽车运用与维修（初级、中级）；Web前端开发（初级）, by certificate code"),
            ("specialty_count", "参与试点专业数量: distinct specialties over the school's qualifications"),
            ("specialty_names", "参与试点专业名称, joined by 、 in the school's order"),
            ("student_scale", "参与试点学生规模: the qualifications' planned students, added up"),
            ("remarks", "备注: 牵头院校 (certificates whose alliance it leads) and 已撤销 (qualifications of the year revoked, with why)"),
            ("reviewing_unit_code", "审核单位 code: the school's city, or the bureau the province designated for it"),
        ]
    )

    /// A school type's place in the table: 中职 first (the order of `SchoolType` in XCertDomain,
    /// written out so that the migration never changes).
    static func typeOrder(_ column: String) -> String {
        """
        array_position(ARRAY['secondary_vocational', 'higher_vocational', 'vocational_undergraduate', 'applied_undergraduate', \
        'open_university', 'technical_school'], \(column))
        """
    }

    /// A school type's Chinese name (`SchoolType.chineseName`, written out).
    static func typeName(_ column: String) -> String {
        """
        CASE \(column) WHEN 'secondary_vocational' THEN '中职' WHEN 'higher_vocational' THEN '高职' \
        WHEN 'vocational_undergraduate' THEN '本科层次职业教育试点' WHEN 'applied_undergraduate' THEN '应用型本科' \
        WHEN 'open_university' THEN '国家开放大学' WHEN 'technical_school' THEN '技工学校' END
        """
    }
}
