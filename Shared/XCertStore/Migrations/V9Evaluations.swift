extension Migration {
    /// Schools' yearly evaluations: their self-scores with evidence, the province's review,
    /// and the computed items' points as the review froze them.
    static let v9Evaluations = Migration(
        version: 9,
        name: "evaluations",
        statements: [
            """
            CREATE TABLE assessment.evaluations (
                school_code text NOT NULL,
                year integer NOT NULL,
                scheme_version integer NOT NULL,
                state text NOT NULL CHECK (state IN ('self_submitted', 'locked')),
                submitted_at timestamptz NOT NULL DEFAULT now(),
                submitted_by text NOT NULL,
                reviewer text,
                reviewed_at timestamptz,
                PRIMARY KEY (school_code, year),
                FOREIGN KEY (year, scheme_version) REFERENCES assessment.schemes (year, version),
                CHECK ((state = 'locked') = (reviewed_at IS NOT NULL))
            )
            """,
            """
            CREATE TABLE assessment.evaluation_items (
                school_code text NOT NULL,
                year integer NOT NULL,
                code text NOT NULL,
                self_points_tenths integer NOT NULL CHECK (self_points_tenths >= 0),
                evidence jsonb NOT NULL,
                reviewed_points_tenths integer CHECK (reviewed_points_tenths >= 0),
                review_comment text,
                -- A computed item's measure, frozen by the review (NULL: no data).
                measure_numerator bigint,
                measure_denominator bigint,
                PRIMARY KEY (school_code, year, code),
                FOREIGN KEY (school_code, year) REFERENCES assessment.evaluations (school_code, year)
            )
            """,
        ]
    )
}
