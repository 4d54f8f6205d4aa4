import Foundation

extension Migration {
    /// Lead schools after selection (000 第三条 动态调整, 第五条, 第四条, 第十七条): leads the
    /// province assigns to a small certificate, its replacements and removals of final leads
    /// with their reasons, and with each lead application the organization's opinion and the
    /// education bureaus' recommendations.
    static let v23LeadAdjustments = Migration(
        version: 23,
        name: "lead assignments, adjustments, opinions and recommendations",
        statements: [
            "ALTER TABLE registry.lead_selections ADD COLUMN assigned boolean NOT NULL DEFAULT false",
            """
            CREATE TABLE registry.lead_changes (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                certificate_code text NOT NULL,
                year integer NOT NULL,
                kind text NOT NULL CHECK (kind IN ('assigned', 'replaced', 'removed', 'added')),
                removed_school_code text REFERENCES registry.schools (code),
                added_school_code text REFERENCES registry.schools (code),
                added_primary boolean NOT NULL DEFAULT false,
                reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
                changed_by text NOT NULL,
                changed_at timestamptz NOT NULL DEFAULT now(),
                FOREIGN KEY (certificate_code, year) REFERENCES registry.lead_selections (certificate_code, year)
            )
            """,
            """
            CREATE TABLE registry.lead_opinions (
                application_id bigint PRIMARY KEY REFERENCES registry.lead_applications (id),
                opinion text NOT NULL CHECK (opinion IN ('supports', 'no_objection', 'opposes')),
                text text NOT NULL CHECK (length(text) BETWEEN 1 AND 1000),
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE registry.lead_recommendations (
                application_id bigint NOT NULL REFERENCES registry.lead_applications (id),
                reviewing_unit_code text NOT NULL,
                text text NOT NULL CHECK (length(text) BETWEEN 1 AND 1000),
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (application_id, reviewing_unit_code)
            )
            """,
        ] + AnalyticsViews.leadSchools.statements + AnalyticsViews.leadChanges.statements + [
            "GRANT SELECT ON analytics.lead_schools, analytics.lead_changes TO xcert_analyst"
        ]
    )
}

extension AnalyticsViews {
    /// `analytics.lead_schools` since V23: the leads of each certificate and year in force.
    static let leadSchools = AnalyticsView(
        name: "lead_schools",
        comment:
            """
            证书联盟牵头院校: each certificate's lead schools in force per year, once final: selected (000 第十九条) or assigned by the \
            province to a certificate with fewer than 10 applying schools (000 第五条), as adjusted since (动态调整, 第三条).
            """,
        select: """
            SELECT l.year, l.certificate_code, c.name AS certificate_name, l.school_code, s.name AS school_name,
                   l.is_primary AS primary_lead, CASE WHEN sel.assigned THEN 'assigned' ELSE 'selected' END AS named_by,
                   (SELECT count(*) FROM registry.lead_changes h
                    WHERE h.certificate_code = l.certificate_code AND h.year = l.year AND h.kind <> 'assigned') AS adjustments
            FROM registry.lead_schools l
            JOIN registry.lead_selections sel ON sel.certificate_code = l.certificate_code AND sel.year = l.year
            JOIN registry.certificates c ON c.code = l.certificate_code
            JOIN registry.schools s ON s.code = l.school_code
            WHERE sel.phase = 'final'
            """,
        columns: [
            ("year", "pilot year"), ("certificate_code", "certificate code"), ("certificate_name", "证书名称"),
            ("school_code", "the lead school's national code"), ("school_name", "牵头院校名称"),
            ("primary_lead", "主要牵头院校"), ("named_by", "selected (公开遴选) or assigned (省教育厅指定)"),
            ("adjustments", "the certificate's leads replaced, removed or added since (动态调整)"),
        ]
    )

    /// `analytics.lead_changes` since V23: the history of the province's changes of leads.
    static let leadChanges = AnalyticsView(
        name: "lead_changes",
        comment:
            """
            The province's changes of lead schools, oldest first: assigned to a small certificate (指定学校负责), replaced, removed \
            or added (动态调整), with the reason.
            """,
        select: """
            SELECT h.id AS change_id, h.year, h.certificate_code, c.name AS certificate_name, h.kind, h.removed_school_code,
                   h.added_school_code, h.added_primary, h.reason, h.changed_at, h.changed_by
            FROM registry.lead_changes h JOIN registry.certificates c ON c.code = h.certificate_code
            """,
        columns: [
            ("change_id", "in the order made"), ("year", "pilot year"), ("certificate_code", "certificate code"),
            ("certificate_name", "证书名称"), ("kind", "assigned, replaced, removed or added"),
            ("removed_school_code", "the lead removed; null: none"), ("added_school_code", "the school made a lead; null: none"),
            ("added_primary", "whether the school added is the primary lead"), ("reason", "the province's reason"),
            ("changed_at", "when"), ("changed_by", "who recorded it"),
        ]
    )
}
