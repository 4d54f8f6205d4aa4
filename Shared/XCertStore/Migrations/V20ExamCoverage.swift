import Foundation

extension Migration {
    /// 004 item 14, every pilot student sits an exam: each school's qualified scale per
    /// certificate against the candidates it had examined, for analysts.
    static let v20ExamCoverage = Migration(
        version: 20,
        name: "exam coverage",
        statements: AnalyticsViews.examCoverage.statements + ["GRANT SELECT ON analytics.exam_coverage TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.exam_coverage` since V20: the lines of `OutcomeService/GetExamCoverageTable`.
    static let examCoverage = AnalyticsView(
        name: "exam_coverage",
        comment:
            """
            004 第14条 每个试点学生都参加考核: per year, certificate and school with a qualification in force, the qualified pilot scale \
            against the candidates examined (sealed rosters in force), and the shortfall.
            """,
        select: """
            WITH scales AS (
                SELECT year, school_code, certificate_code, sum(student_scale)::bigint AS scale FROM assessment.qualified_scales
                WHERE NOT revoked GROUP BY year, school_code, certificate_code
            ), examined AS (
                SELECT year, school_code, certificate_code, sum(completed)::bigint AS completed FROM assessment.roster_counts
                WHERE replaced_by IS NULL GROUP BY year, school_code, certificate_code
            )
            SELECT s.year, s.certificate_code, c.name AS certificate_name, s.school_code, sc.name AS school_name,
                   s.scale AS qualified_scale, coalesce(e.completed, 0) AS examined,
                   greatest(s.scale - coalesce(e.completed, 0), 0) AS shortfall,
                   CASE WHEN s.scale > 0 THEN round(coalesce(e.completed, 0)::numeric / s.scale, 4) END AS exam_rate
            FROM scales s
            LEFT JOIN examined e USING (year, school_code, certificate_code)
            JOIN registry.certificates c ON c.code = s.certificate_code
            JOIN registry.schools sc ON sc.code = s.school_code
            WHERE s.scale > 0
            """,
        columns: [
            ("year", "pilot year"), ("certificate_code", "certificate code"), ("certificate_name", "证书名称"),
            ("school_code", "the school's national code"), ("school_name", "试点院校名称"),
            ("qualified_scale", "试点规模: the students its qualifications in force allow"),
            ("examined", "完成考核人数: candidates who sat the exam"),
            ("shortfall", "未考核人数: qualified_scale − examined, 0 when as many or more sat"),
            ("exam_rate", "examined ÷ qualified_scale, 4 decimals"),
        ]
    )
}
