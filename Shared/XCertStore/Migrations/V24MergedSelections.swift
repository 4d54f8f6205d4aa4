import Foundation

extension Migration {
    /// Small certificates merged by specialty category into one lead-school selection (000
    /// 第五条): the selection keeps the category; each merged certificate points at it, and its
    /// leads are the selection's. `analytics.lead_schools` lists them too.
    static let v24MergedSelections = Migration(
        version: 24,
        name: "lead selections merged by specialty category",
        statements: [
            "ALTER TABLE registry.lead_selections ADD COLUMN specialty_category text CHECK (length(specialty_category) BETWEEN 1 AND 50)",
            """
            CREATE TABLE registry.merged_selections (
                certificate_code text NOT NULL REFERENCES registry.certificates (code),
                year integer NOT NULL,
                into_certificate_code text NOT NULL,
                PRIMARY KEY (certificate_code, year),
                FOREIGN KEY (into_certificate_code, year) REFERENCES registry.lead_selections (certificate_code, year)
            )
            """,
        ] + AnalyticsViews.leadSchoolsMerged.replacingStatements
    )
}

extension AnalyticsViews {
    /// `analytics.lead_schools` since V24: as V23's, and the leads of certificates merged into
    /// another's selection (named_by `merged`).
    static let leadSchoolsMerged = AnalyticsView(
        name: "lead_schools",
        comment:
            """
            证书联盟牵头院校: each certificate's lead schools in force per year, once final: selected (000 第十九条), assigned by the \
            province to a certificate with fewer than 10 applying schools, or selected for a group of such certificates merged by \
            specialty category (000 第五条), as adjusted since (动态调整, 第三条).
            """,
        select: """
            SELECT l.year, coalesce(m.certificate_code, l.certificate_code) AS certificate_code, c.name AS certificate_name,
                   l.school_code, s.name AS school_name, l.is_primary AS primary_lead,
                   CASE WHEN m.certificate_code IS NOT NULL THEN 'merged' WHEN sel.assigned THEN 'assigned' ELSE 'selected' END AS named_by,
                   (SELECT count(*) FROM registry.lead_changes h
                    WHERE h.certificate_code = l.certificate_code AND h.year = l.year AND h.kind <> 'assigned') AS adjustments
            FROM registry.lead_schools l
            JOIN registry.lead_selections sel ON sel.certificate_code = l.certificate_code AND sel.year = l.year
            LEFT JOIN LATERAL (
                SELECT NULL::text AS certificate_code
                UNION ALL
                SELECT g.certificate_code FROM registry.merged_selections g
                WHERE g.into_certificate_code = l.certificate_code AND g.year = l.year
            ) m ON true
            JOIN registry.certificates c ON c.code = coalesce(m.certificate_code, l.certificate_code)
            JOIN registry.schools s ON s.code = l.school_code
            WHERE sel.phase = 'final'
            """,
        columns: [
            ("year", "pilot year"), ("certificate_code", "certificate code"), ("certificate_name", "证书名称"),
            ("school_code", "the lead school's national code"), ("school_name", "牵头院校名称"),
            ("primary_lead", "主要牵头院校"),
            ("named_by", "selected (公开遴选), assigned (省教育厅指定) or merged (按专业大类合并遴选)"),
            ("adjustments", "the certificate's leads replaced, removed or added since (动态调整)"),
        ]
    )
}
