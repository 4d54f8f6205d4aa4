import Foundation

extension Migration {
    /// The province's oversight of organizations (001 §四.1, 004 第22条): irregularities recorded
    /// against them, their standing (active, suspended, exited) with every change as a feed
    /// that settlement follows, and in settlement the exits it applied and the cancellation
    /// entries an exit writes on the receivables of exams held after it.
    static let v21OrganizationStanding = Migration(
        version: 21,
        name: "organizations' irregularities, suspension and exit",
        statements: [
            """
            ALTER TABLE registry.organizations
                ADD COLUMN standing text NOT NULL DEFAULT 'active' CHECK (standing IN ('active', 'suspended', 'exited'))
            """,
            """
            CREATE TABLE registry.organization_irregularities (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id bigint NOT NULL REFERENCES registry.organizations (id),
                kind text NOT NULL CHECK (kind IN ('agents', 'forced_purchase', 'fees', 'agreement', 'other')),
                description text NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
                year integer NOT NULL CHECK (year BETWEEN 2019 AND 2100),
                recorded_at timestamptz NOT NULL DEFAULT now(),
                recorded_by text NOT NULL
            )
            """,
            "CREATE INDEX organization_irregularities_by_organization ON registry.organization_irregularities (organization_id, id)",
            """
            CREATE TABLE registry.standing_changes (
                cursor bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id bigint NOT NULL REFERENCES registry.organizations (id),
                standing text NOT NULL CHECK (standing IN ('active', 'suspended', 'exited')),
                previous text NOT NULL CHECK (previous IN ('active', 'suspended', 'exited') AND previous <> standing),
                reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
                effective_on date NOT NULL,
                changed_at timestamptz NOT NULL DEFAULT now(),
                changed_by text NOT NULL
            )
            """,
            "CREATE INDEX standing_changes_by_organization ON registry.standing_changes (organization_id, cursor)",
            """
            CREATE TABLE settlement.organization_exits (
                organization_id bigint PRIMARY KEY,
                effective_on date NOT NULL,
                reason text NOT NULL,
                standing_cursor bigint NOT NULL UNIQUE
            )
            """,
            "ALTER TABLE settlement.receivable_entries DROP CONSTRAINT receivable_entries_kind_check",
            "ALTER TABLE settlement.receivable_entries ALTER COLUMN roster_id DROP NOT NULL",
            """
            ALTER TABLE settlement.receivable_entries
                ADD COLUMN reason text,
                ADD CONSTRAINT receivable_entries_kind_check CHECK (
                    (kind IN ('charge', 'correction') AND roster_id IS NOT NULL AND reason IS NULL)
                    OR (kind = 'cancellation' AND roster_id IS NULL AND reason IS NOT NULL))
            """,
        ] + AnalyticsViews.organizationStandings.statements + AnalyticsViews.standingChanges.statements
            + AnalyticsViews.organizationIrregularities.statements + [
                """
                GRANT SELECT ON analytics.organization_standings, analytics.standing_changes, analytics.organization_irregularities \
                TO xcert_analyst
                """
            ]
    )
}

extension AnalyticsViews {
    /// `analytics.organization_standings` since V21: each organization's standing now.
    static let organizationStandings = AnalyticsView(
        name: "organization_standings",
        comment:
            """
            004 第22条 退出机制: every training & evaluation organization with its standing (active 正常, suspended 暂停, exited 退出), \
            the latest decision and the irregularities recorded against it (001 §四.1).
            """,
        select: """
            SELECT o.id AS organization_id, o.name AS organization_name, o.standing,
                   c.effective_on AS standing_since, c.reason AS standing_reason, c.changed_by AS decided_by,
                   (SELECT count(*) FROM registry.organization_irregularities i WHERE i.organization_id = o.id) AS irregularities
            FROM registry.organizations o
            LEFT JOIN LATERAL (
                SELECT effective_on, reason, changed_by FROM registry.standing_changes s
                WHERE s.organization_id = o.id ORDER BY s.cursor DESC LIMIT 1
            ) c ON true
            """,
        columns: [
            ("organization_id", "the registry's id of the organization"), ("organization_name", "培训评价组织名称"),
            ("standing", "active, suspended or exited"), ("standing_since", "the day the latest decision took effect; null: never changed"),
            ("standing_reason", "the province's reason for the latest decision"), ("decided_by", "who recorded it"),
            ("irregularities", "违规行为: how many are recorded against it"),
        ]
    )

    /// `analytics.standing_changes` since V21: the history of every organization's standing.
    static let standingChanges = AnalyticsView(
        name: "standing_changes",
        comment: "Every change of an organization's standing, oldest first: suspensions, reinstatements and exits with their reasons.",
        select: """
            SELECT s.cursor AS change_id, s.organization_id, o.name AS organization_name, s.previous, s.standing, s.reason,
                   s.effective_on, s.changed_at, s.changed_by
            FROM registry.standing_changes s
            JOIN registry.organizations o ON o.id = s.organization_id
            """,
        columns: [
            ("change_id", "in the order the changes were made"), ("organization_id", "the registry's id of the organization"),
            ("organization_name", "培训评价组织名称"), ("previous", "the standing before"), ("standing", "the standing after"),
            ("reason", "the province's reason"), ("effective_on", "the day it took effect, Asia/Shanghai"),
            ("changed_at", "when it was recorded"), ("changed_by", "who recorded it"),
        ]
    )

    /// `analytics.organization_irregularities` since V21.
    static let organizationIrregularities = AnalyticsView(
        name: "organization_irregularities",
        comment:
            """
            001 §四.1: irregularities recorded against organizations (agents 委托代理机构, forced_purchase 强制购置, fees 超标准收费, \
            agreement 未履行协议, other).
            """,
        select: """
            SELECT i.id AS irregularity_id, i.organization_id, o.name AS organization_name, i.year, i.kind, i.description,
                   i.recorded_at, i.recorded_by
            FROM registry.organization_irregularities i
            JOIN registry.organizations o ON o.id = i.organization_id
            """,
        columns: [
            ("irregularity_id", "in the order recorded"), ("organization_id", "the registry's id of the organization"),
            ("organization_name", "培训评价组织名称"), ("year", "the pilot year it happened in"),
            ("kind", "agents, forced_purchase, fees, agreement or other"), ("description", "what happened"),
            ("recorded_at", "when it was recorded"), ("recorded_by", "who recorded it"),
        ]
    )
}
