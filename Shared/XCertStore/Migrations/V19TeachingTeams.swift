import Foundation

extension Migration {
    /// Eligibility to pilot (001 §二.3, 002 §二.1 and §二.3): each specialty's teaching team and
    /// years of continuous enrolment, as its school records them; and the school's own pilot
    /// work plan (实施方案) attached to its application by name, size and SHA-256.
    static let v19TeachingTeams = Migration(
        version: 19,
        name: "teaching teams and the schools' work plans",
        statements: [
            """
            CREATE TABLE registry.teaching_teams (
                school_code text NOT NULL REFERENCES registry.schools (code),
                specialty_code text NOT NULL,
                teachers integer NOT NULL CHECK (teachers BETWEEN 1 AND 10000),
                dual_qualified_teachers integer NOT NULL CHECK (dual_qualified_teachers BETWEEN 0 AND teachers),
                industry_experts integer NOT NULL CHECK (industry_experts BETWEEN 0 AND teachers),
                continuous_enrolment_years integer NOT NULL CHECK (continuous_enrolment_years BETWEEN 0 AND 100),
                -- The domain's verdict when recorded (SpecialtyEligibility), for readers of the table.
                eligible boolean NOT NULL,
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (school_code, specialty_code)
            )
            """,
            """
            ALTER TABLE registry.pilot_applications
                ADD COLUMN work_plan_name text,
                ADD COLUMN work_plan_size bigint CHECK (work_plan_size >= 0),
                ADD COLUMN work_plan_sha256 text CHECK (work_plan_sha256 ~ '^[0-9a-f]{64}$')
            """,
        ] + AnalyticsViews.teachingTeams.statements + ["GRANT SELECT ON analytics.teaching_teams TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.teaching_teams` since V19.
    static let teachingTeams = AnalyticsView(
        name: "teaching_teams",
        comment:
            """
            Schools' specialty teaching teams (专兼职师资) and continuous enrolment, as the schools record them, with the shares the pilot \
            asks for (001 §二.3: at least 50 % 双师型 teachers, 20 % industry experts; 002 §二.1: enrolled 3 years in a row).
            """,
        select: """
            SELECT t.school_code, s.name AS school_name, s.type AS school_type, t.specialty_code, sp.name AS specialty_name,
                   t.teachers, t.dual_qualified_teachers, t.industry_experts, t.continuous_enrolment_years,
                   round(t.dual_qualified_teachers::numeric / t.teachers, 4) AS dual_qualified_share,
                   round(t.industry_experts::numeric / t.teachers, 4) AS industry_expert_share,
                   t.eligible, t.recorded_at
            FROM registry.teaching_teams t
            JOIN registry.schools s ON s.code = t.school_code
            LEFT JOIN registry.school_specialties sp ON sp.school_code = t.school_code AND sp.code = t.specialty_code
            """,
        columns: [
            ("school_code", "the school's national code"), ("school_name", "院校名称"), ("school_type", "secondary_vocational, …"),
            ("specialty_code", "the specialty's catalogue code"), ("specialty_name", "专业名称"),
            ("teachers", "专兼职师资: the specialty's full- and part-time teachers"), ("dual_qualified_teachers", "双师型教师"),
            ("industry_experts", "行业企业专家"), ("continuous_enrolment_years", "years enrolled in a row (连续招生)"),
            ("dual_qualified_share", "双师型 ÷ teachers, 4 decimals (at least 0.5 to pilot)"),
            ("industry_expert_share", "industry experts ÷ teachers, 4 decimals (at least 0.2 to pilot)"),
            ("eligible", "true when all three thresholds are met: the specialty may pilot"),
            ("recorded_at", "when the school recorded it last"),
        ]
    )
}
