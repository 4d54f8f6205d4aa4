extension Migration {
    /// The assessment service's evaluation schemes, one row per year and version.
    static let v8EvaluationSchemes = Migration(
        version: 8,
        name: "evaluation schemes",
        statements: [
            """
            CREATE TABLE assessment.schemes (
                year integer NOT NULL CHECK (year BETWEEN 2019 AND 2100),
                version integer NOT NULL CHECK (version >= 1),
                state text NOT NULL CHECK (state IN ('draft', 'published')),
                -- The indicators as protobuf JSON (xcert.assessment.v1.Scheme), for analysts too.
                content jsonb NOT NULL,
                note text NOT NULL DEFAULT '',
                created_by text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                published_at timestamptz,
                PRIMARY KEY (year, version),
                CHECK ((state = 'published') = (published_at IS NOT NULL))
            )
            """
        ]
    )
}
