import Foundation

extension Migration {
    /// Monitoring that records something (004 第19条): the province's inspections at monitoring
    /// points, a finding per item of the organization's agreement, the follow-up demanded and
    /// the notes on it; for analysts each inspection and each organization's year.
    static let v22Inspections = Migration(
        version: 22,
        name: "inspections at monitoring points",
        statements: [
            """
            CREATE TABLE registry.inspections (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                certificate_code text NOT NULL REFERENCES registry.certificates (code),
                year integer NOT NULL CHECK (year BETWEEN 2019 AND 2100),
                school_code text NOT NULL REFERENCES registry.schools (code),
                -- The certificate's organization when inspected: the one whose agreement was inspected.
                organization_id bigint NOT NULL REFERENCES registry.organizations (id),
                inspected_on date NOT NULL CHECK (extract(year FROM inspected_on) = year),
                inspector text NOT NULL CHECK (length(inspector) BETWEEN 1 AND 100),
                follow_up text NOT NULL DEFAULT '' CHECK (length(follow_up) <= 1000),
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX inspections_by_year ON registry.inspections (year, organization_id)",
            """
            CREATE TABLE registry.inspection_findings (
                inspection_id bigint NOT NULL REFERENCES registry.inspections (id),
                position integer NOT NULL CHECK (position BETWEEN 0 AND 49),
                agreement_item text NOT NULL CHECK (length(agreement_item) BETWEEN 1 AND 200),
                compliant boolean NOT NULL,
                finding text NOT NULL CHECK (length(finding) BETWEEN 1 AND 1000),
                PRIMARY KEY (inspection_id, position),
                UNIQUE (inspection_id, agreement_item)
            )
            """,
            """
            CREATE TABLE registry.inspection_notes (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                inspection_id bigint NOT NULL REFERENCES registry.inspections (id),
                noted_on date NOT NULL,
                note text NOT NULL CHECK (length(note) BETWEEN 1 AND 1000),
                resolved boolean NOT NULL,
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX inspection_notes_by_inspection ON registry.inspection_notes (inspection_id, id)",
        ] + AnalyticsViews.inspections.statements + AnalyticsViews.inspectionSummary.statements + [
            "GRANT SELECT ON analytics.inspections, analytics.inspection_summary TO xcert_analyst"
        ]
    )
}

extension AnalyticsViews {
    /// `analytics.inspections` since V22: one row per inspection.
    static let inspections = AnalyticsView(
        name: "inspections",
        comment:
            """
            004 第19条 监测点: the province's inspections at monitoring points, whether the organization fulfils its agreement, with \
            the findings not fulfilled and whether the follow-up is resolved.
            """,
        select: """
            SELECT i.id AS inspection_id, i.year, i.certificate_code, c.name AS certificate_name, i.organization_id,
                   o.name AS organization_name, i.school_code, s.name AS school_name, i.inspected_on, i.inspector,
                   (SELECT count(*) FROM registry.inspection_findings f WHERE f.inspection_id = i.id) AS findings,
                   (SELECT count(*) FROM registry.inspection_findings f WHERE f.inspection_id = i.id AND NOT f.compliant) AS non_compliant,
                   i.follow_up,
                   NOT EXISTS (SELECT 1 FROM registry.inspection_findings f WHERE f.inspection_id = i.id AND NOT f.compliant)
                       OR coalesce((SELECT n.resolved FROM registry.inspection_notes n WHERE n.inspection_id = i.id
                                    ORDER BY n.id DESC LIMIT 1), false) AS resolved,
                   (SELECT max(n.noted_on) FROM registry.inspection_notes n WHERE n.inspection_id = i.id) AS last_note_on
            FROM registry.inspections i
            JOIN registry.certificates c ON c.code = i.certificate_code
            JOIN registry.organizations o ON o.id = i.organization_id
            JOIN registry.schools s ON s.code = i.school_code
            """,
        columns: [
            ("inspection_id", "the registry's id of the inspection"), ("year", "the year of the monitoring points"),
            ("certificate_code", "certificate code"), ("certificate_name", "证书名称"),
            ("organization_id", "the organization whose agreement was inspected"), ("organization_name", "培训评价组织名称"),
            ("school_code", "the monitoring point (a pilot school)"), ("school_name", "监测点院校名称"),
            ("inspected_on", "检查日期, Asia/Shanghai"), ("inspector", "检查人"), ("findings", "items of the agreement inspected"),
            ("non_compliant", "items not fulfilled"), ("follow_up", "整改要求: what the organization must do"),
            ("resolved", "every item fulfilled, or the latest follow-up note says resolved"),
            ("last_note_on", "the day of the latest follow-up note; null: none"),
        ]
    )

    /// `analytics.inspection_summary` since V22: the lines of `OversightService/GetInspectionTable`.
    static let inspectionSummary = AnalyticsView(
        name: "inspection_summary",
        comment:
            """
            004 第19条: per year and organization, its monitoring points, how many were inspected, the inspections, findings, items \
            not fulfilled and inspections not resolved yet.
            """,
        select: """
            WITH points AS (
                SELECT m.year, c.organization_id, m.certificate_code, m.school_code
                FROM registry.monitoring_points m JOIN registry.certificates c ON c.code = m.certificate_code
                WHERE c.organization_id IS NOT NULL
            ), inspected AS (
                SELECT i.year, i.organization_id, i.certificate_code, i.school_code, i.id,
                       (SELECT count(*) FROM registry.inspection_findings f WHERE f.inspection_id = i.id) AS findings,
                       (SELECT count(*) FROM registry.inspection_findings f
                        WHERE f.inspection_id = i.id AND NOT f.compliant) AS non_compliant,
                       coalesce((SELECT n.resolved FROM registry.inspection_notes n WHERE n.inspection_id = i.id
                                 ORDER BY n.id DESC LIMIT 1), false) AS noted_resolved
                FROM registry.inspections i
            ), keys AS (
                SELECT year, organization_id FROM points UNION SELECT year, organization_id FROM inspected
            )
            SELECT k.year, k.organization_id, o.name AS organization_name,
                   (SELECT count(*) FROM points p WHERE p.year = k.year AND p.organization_id = k.organization_id) AS monitoring_points,
                   (SELECT count(*) FROM points p WHERE p.year = k.year AND p.organization_id = k.organization_id
                       AND EXISTS (SELECT 1 FROM inspected x WHERE x.year = p.year AND x.certificate_code = p.certificate_code
                                   AND x.school_code = p.school_code)) AS points_inspected,
                   (SELECT count(*) FROM inspected x WHERE x.year = k.year AND x.organization_id = k.organization_id) AS inspections,
                   (SELECT coalesce(sum(x.findings), 0) FROM inspected x
                    WHERE x.year = k.year AND x.organization_id = k.organization_id)::bigint AS findings,
                   (SELECT coalesce(sum(x.non_compliant), 0) FROM inspected x
                    WHERE x.year = k.year AND x.organization_id = k.organization_id)::bigint AS non_compliant,
                   (SELECT count(*) FROM inspected x WHERE x.year = k.year AND x.organization_id = k.organization_id
                       AND x.non_compliant > 0 AND NOT x.noted_resolved) AS unresolved
            FROM keys k JOIN registry.organizations o ON o.id = k.organization_id
            """,
        columns: [
            ("year", "the year of the monitoring points"), ("organization_id", "the registry's id of the organization"),
            ("organization_name", "培训评价组织名称"), ("monitoring_points", "监测点: of its certificates in the year"),
            ("points_inspected", "of them, inspected at least once"), ("inspections", "检查次数"),
            ("findings", "items of agreements inspected"), ("non_compliant", "items not fulfilled (问题数)"),
            ("unresolved", "inspections whose findings are not resolved yet"),
        ]
    )
}
