import Foundation

extension Migration {
    /// The analysts' read-only views in schema `analytics`: 003's appendix tables 1–3, the
    /// organizations' fee summary, the schools' evaluations, the pilot qualifications and
    /// the latest filings. `xcert_analyst` may read these views and nothing else; every
    /// column says what it is (`\d+ analytics.<view>` in psql shows it).
    static let v13AnalyticsViews = Migration(
        version: 13,
        name: "analytics views",
        statements: AnalyticsViews.all.flatMap(\.statements) + [
            "GRANT USAGE ON SCHEMA analytics TO xcert_analyst",
            "GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO xcert_analyst",
            // Analysts create nothing: not in analytics (no CREATE granted), not in public
            // (PostgreSQL 15 grants PUBLIC no CREATE there), and no temporary tables.
            """
            DO $$
            BEGIN
                EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
            END
            $$
            """,
        ]
    )
}

/// One analysts' view: its SQL and a comment for the view and each column.
struct AnalyticsView {
    var name: String
    var comment: String
    var select: String
    var columns: [(String, String)]

    var statements: [String] {
        ["CREATE VIEW analytics.\(self.name) AS \(self.select)"] + self.comments
    }

    /// The statements of a later migration that redefines the view in place: the same columns
    /// in the same order (PostgreSQL's `CREATE OR REPLACE VIEW` allows no other change), the
    /// analysts' grant kept, the comments renewed.
    var replacingStatements: [String] {
        ["CREATE OR REPLACE VIEW analytics.\(self.name) AS \(self.select)"] + self.comments
    }

    private var comments: [String] {
        ["COMMENT ON VIEW analytics.\(self.name) IS \(Self.literal(self.comment))"]
            + self.columns.map { column, comment in "COMMENT ON COLUMN analytics.\(self.name).\(column) IS \(Self.literal(comment))" }
    }

    /// A SQL string literal (the comments are ours, but quote them properly anyway).
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

enum AnalyticsViews {
    static let levelName = "CASE %@ WHEN 1 THEN '初级' WHEN 2 THEN '中级' WHEN 3 THEN '高级' END"

    static func levelName(_ column: String) -> String {
        self.levelName.replacingOccurrences(of: "%@", with: column)
    }

    static let all: [AnalyticsView] = [
        AnalyticsView(
            name: "school_assessment_detail",
            comment:
                """
                003 附表1 江西省各试点院校申报考核明细汇总表: per year, certificate level and school, the candidates of the sealed exam rosters in force \
                (a correction replaces the version it supersedes).
                """,
            select: """
                SELECT rc.year, rc.certificate_code, c.name AS certificate_name, rc.level, \(levelName("rc.level")) AS level_name,
                       rc.school_code, s.name AS school_name,
                       sum(rc.declared)::bigint AS declared, sum(rc.approved)::bigint AS approved,
                       sum(rc.completed)::bigint AS completed, sum(rc.passed)::bigint AS passed,
                       CASE WHEN sum(rc.completed) > 0 THEN round(sum(rc.passed)::numeric / sum(rc.completed), 4) END AS pass_rate
                FROM assessment.roster_counts rc
                JOIN registry.certificates c ON c.code = rc.certificate_code
                JOIN registry.schools s ON s.code = rc.school_code
                WHERE rc.replaced_by IS NULL
                GROUP BY rc.year, rc.certificate_code, c.name, rc.level, rc.school_code, s.name
                """,
            columns: [
                ("year", "exam year"), ("certificate_code", "certificate code, e.g. AUTO"), ("certificate_name", "证书名称"),
                ("level", "level: 1 初级, 2 中级, 3 高级"), ("level_name", "级别"), ("school_code", "the school's 10-digit national code"),
                ("school_name", "试点院校名称"), ("declared", "申报人数: candidates registered"), ("approved", "获批人数: candidates approved to sit"),
                ("completed", "完成考核人数: candidates who sat the exam"), ("passed", "通过人数: candidates who passed"),
                ("pass_rate", "通过率: passed ÷ completed, 4 decimals; NULL when nobody completed (no data, not 0 %)"),
            ]
        ),
        AnalyticsView(
            name: "assessment_sites",
            comment:
                """
                003 附表2 江西省考核站点设置明细表: per year, certificate level and site school, the exam sessions held there (sealed rosters in force).
                """,
            select: """
                SELECT extract(year FROM r.exam_date)::integer AS year, r.certificate_code, c.name AS certificate_name, r.level, \
                \(levelName("r.level")) AS level_name,
                       r.site_school_code, s.name AS site_school_name, s.city_code,
                       count(*)::bigint AS sessions,
                       string_agg(to_char(r.exam_date, 'YYYY-MM-DD'), ', ' ORDER BY r.exam_date) AS exam_dates,
                       sum(r.row_count)::bigint AS candidates
                FROM filing.rosters r
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
                ("candidates", "考核人数: candidates on the sessions' rosters"),
            ]
        ),
        AnalyticsView(
            name: "outstanding_fees",
            comment:
                "003 附表3 江西省试点院校未结清明细统计表: per year, certificate level and school, the assessment fees still owed (only where some are).",
            select: """
                SELECT b.year, b.certificate_code, c.name AS certificate_name, b.level, \(levelName("b.level")) AS level_name,
                       b.school_code, s.name AS school_name, sum(b.completed)::bigint AS completed,
                       sum(b.amount_fen - b.settled_fen)::bigint AS outstanding_fen
                FROM settlement.receivable_balances b
                JOIN registry.certificates c ON c.code = b.certificate_code
                JOIN registry.schools s ON s.code = b.school_code
                GROUP BY b.year, b.certificate_code, c.name, b.level, b.school_code, s.name
                HAVING sum(b.amount_fen - b.settled_fen) > 0
                """,
            columns: [
                ("year", "exam year"), ("certificate_code", "certificate code"), ("certificate_name", "证书名称"),
                ("level", "level: 1 初级, 2 中级, 3 高级"), ("level_name", "级别"), ("school_code", "the school's national code"),
                ("school_name", "试点院校名称"), ("completed", "完成考核人数: candidates charged for"),
                ("outstanding_fen", "未结金额 in fen (分): receivable less what payments settled"),
            ]
        ),
        AnalyticsView(
            name: "org_fee_summary",
            comment:
                """
                The organization report's 考核费用结算情况: per year, organization and certificate level, what schools owe, have paid and still owe.
                """,
            select: """
                SELECT b.year, b.organization_id, o.name AS organization_name, b.certificate_code, c.name AS certificate_name,
                       b.level, \(levelName("b.level")) AS level_name, sum(b.completed)::bigint AS completed,
                       sum(b.amount_fen)::bigint AS receivable_fen, sum(b.settled_fen)::bigint AS received_fen,
                       sum(b.amount_fen - b.settled_fen)::bigint AS outstanding_fen
                FROM settlement.receivable_balances b
                JOIN registry.certificates c ON c.code = b.certificate_code
                LEFT JOIN registry.organizations o ON o.id = b.organization_id
                GROUP BY b.year, b.organization_id, o.name, b.certificate_code, c.name, b.level
                """,
            columns: [
                ("year", "exam year"), ("organization_id", "the organization (评价组织) id"), ("organization_name", "评价组织名称"),
                ("certificate_code", "certificate code"), ("certificate_name", "证书名称"), ("level", "level: 1 初级, 2 中级, 3 高级"),
                ("level_name", "级别"), ("completed", "完成考核人数"),
                ("receivable_fen", "应收金额 in fen: completed × fee standard, corrections included"),
                ("received_fen", "实收金额 in fen: settled by payments"), ("outstanding_fen", "未结金额 in fen: receivable − received"),
            ]
        ),
        AnalyticsView(
            name: "school_evaluation",
            comment:
                """
                Each school's yearly evaluation (003 indicator table) item by item, with the school's totals on every row. Computed \
                items show their points once the review froze them.
                """,
            select: """
                SELECT e.year, e.school_code, s.name AS school_name, e.scheme_version, e.state,
                       i.value->>'code' AS indicator_code, i.value->>'first_level' AS first_level, i.value->>'name' AS indicator_name,
                       coalesce(i.value->>'kind', '') = 'INDICATOR_KIND_COMPUTED' AS computed,
                       coalesce((i.value->>'bonus')::boolean, false) AS bonus,
                       coalesce((i.value->>'max_points_tenths')::integer, 0) / 10.0 AS max_points,
                       CASE WHEN coalesce(i.value->>'kind', '') = 'INDICATOR_KIND_COMPUTED' THEN NULL ELSE \
                coalesce(it.self_points_tenths, 0) / 10.0 END AS self_points,
                       it.reviewed_points_tenths / 10.0 AS reviewed_points,
                       sum(CASE WHEN coalesce(i.value->>'kind', '') = 'INDICATOR_KIND_COMPUTED' THEN 0 ELSE \
                coalesce(it.self_points_tenths, 0) END)
                           OVER (PARTITION BY e.school_code, e.year) / 10.0 AS school_self_total,
                       sum(coalesce(it.reviewed_points_tenths, 0)) OVER (PARTITION BY e.school_code, e.year) / 10.0 AS school_reviewed_total
                FROM assessment.evaluations e
                JOIN assessment.schemes sc ON sc.year = e.year AND sc.version = e.scheme_version
                CROSS JOIN LATERAL jsonb_array_elements(sc.content->'indicators') AS i(value)
                LEFT JOIN assessment.evaluation_items it ON it.school_code = e.school_code AND it.year = e.year AND it.code = \
                i.value->>'code'
                LEFT JOIN registry.schools s ON s.code = e.school_code
                """,
            columns: [
                ("year", "evaluated year"), ("school_code", "the school's national code"), ("school_name", "试点院校名称"),
                ("scheme_version", "the version of the year's scheme the school was scored against"),
                ("state", "self_submitted, or locked once the province reviewed it"), ("indicator_code", "二级指标 code, e.g. 1-4-1"),
                ("first_level", "一级指标"), ("indicator_name", "二级指标"), ("computed", "true: scored from the system's data, not by hand"),
                ("bonus", "true: 特色加分项目, on top of the 100 points"), ("max_points", "the item's maximum points"),
                ("self_points", "the school's self-score (manual items)"),
                ("reviewed_points", "the province's score: the final one; NULL until reviewed"),
                ("school_self_total", "the school's self-scored total"),
                ("school_reviewed_total", "the school's final total once reviewed (0 before)"),
            ]
        ),
        AnalyticsView(
            name: "pilot_qualifications",
            comment: "Schools' pilot qualifications (试点资格) per certificate and year, revoked ones included.",
            select: """
                SELECT q.id AS qualification_id, q.year, q.school_code, s.name AS school_name, s.type AS school_type, s.city_code,
                       q.certificate_code, c.name AS certificate_name,
                       (SELECT string_agg(\(levelName("l")), '、' ORDER BY l) FROM unnest(q.levels) AS l) AS levels,
                       array_to_string(q.specialty_codes, ', ') AS specialty_codes, q.student_scale, q.granted_at,
                       q.revoked_at, q.revocation_reason, q.revoked_at IS NULL AS in_force
                FROM registry.qualifications q
                JOIN registry.schools s ON s.code = q.school_code
                JOIN registry.certificates c ON c.code = q.certificate_code
                """,
            columns: [
                ("qualification_id", "the qualification's id"), ("year", "pilot year"), ("school_code", "the school's national code"),
                ("school_name", "试点院校名称"), ("school_type", "secondary_vocational, higher_vocational, …"), ("city_code", "设区市 code"),
                ("certificate_code", "certificate code"), ("certificate_name", "证书名称"), ("levels", "the levels granted, e.g. 初级、中级"),
                ("specialty_codes", "the specialties (专业) it covers"), ("student_scale", "试点规模: students in the pilot"),
                ("granted_at", "when granted"), ("revoked_at", "when revoked; NULL while in force"), ("revocation_reason", "why revoked"),
                ("in_force", "true while not revoked"),
            ]
        ),
        AnalyticsView(
            name: "filings",
            comment:
                """
                Organizations' filings (备案) of their pilot work plans: the latest version per organization, certificate and year, with \
                its state.
                """,
            select: """
                SELECT DISTINCT ON (f.organization_id, f.certificate_code, f.year)
                       f.id AS filing_id, f.year, f.round_number, f.organization_id, o.name AS organization_name,
                       f.certificate_code, c.name AS certificate_name, f.version, f.state,
                       (SELECT string_agg(\(levelName("fee.level")) || ' ' || to_char(fee.fee_fen / 100.0, 'FM999999990.00'), '; ' \
                ORDER BY fee.level)
                        FROM filing.filing_fees fee WHERE fee.filing_id = f.id) AS fees,
                       f.submitted_at, f.reviewed_at, f.review_reason
                FROM filing.filings f
                LEFT JOIN registry.organizations o ON o.id = f.organization_id
                LEFT JOIN registry.certificates c ON c.code = f.certificate_code
                ORDER BY f.organization_id, f.certificate_code, f.year, f.version DESC
                """,
            columns: [
                ("filing_id", "the filing's id"), ("year", "pilot year"), ("round_number", "the filing round (备案批次)"),
                ("organization_id", "the organization's id"), ("organization_name", "评价组织名称"), ("certificate_code", "certificate code"),
                ("certificate_name", "证书名称"), ("version", "the latest version (1, then n+1 after a rejection or withdrawal)"),
                ("state", "submitted, approved, rejected or withdrawn"), ("fees", "the fee per level in yuan, e.g. 初级 380.00; 中级 480.00"),
                ("submitted_at", "when this version was submitted"), ("reviewed_at", "when the province reviewed it; NULL before"),
                ("review_reason", "the province's reason, when rejected"),
            ]
        ),
    ]
}
