extension Migration {
    /// The assessment service's copy of what it follows: each sealed roster version's
    /// counts per school (a correction marks the version it replaces), the schools'
    /// qualified pilot scales, and the cursors of the feeds.
    static let v7AssessmentOutcomes = Migration(
        version: 7,
        name: "assessment outcomes",
        statements: [
            """
            CREATE TABLE assessment.feed_cursors (
                feed text PRIMARY KEY,
                cursor bigint NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE assessment.roster_counts (
                roster_id bigint NOT NULL,
                school_code text NOT NULL,
                organization_id bigint NOT NULL,
                certificate_code text NOT NULL,
                level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
                year integer NOT NULL,
                declared bigint NOT NULL CHECK (declared >= 0),
                approved bigint NOT NULL CHECK (approved >= 0),
                completed bigint NOT NULL CHECK (completed >= 0),
                passed bigint NOT NULL CHECK (passed >= 0),
                -- The sealed correction that replaced this version's counts; NULL while in force.
                replaced_by bigint,
                PRIMARY KEY (roster_id, school_code)
            )
            """,
            """
            CREATE INDEX roster_counts_in_force ON assessment.roster_counts (year, certificate_code, level, school_code) WHERE \
            replaced_by IS NULL
            """,
            """
            CREATE TABLE assessment.qualified_scales (
                qualification_id bigint PRIMARY KEY,
                school_code text NOT NULL,
                certificate_code text NOT NULL,
                year integer NOT NULL,
                student_scale bigint NOT NULL CHECK (student_scale >= 0),
                revoked boolean NOT NULL
            )
            """,
            "CREATE INDEX qualified_scales_school ON assessment.qualified_scales (year, certificate_code, school_code)",
        ]
    )
}
