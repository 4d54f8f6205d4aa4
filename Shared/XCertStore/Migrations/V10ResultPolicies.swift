extension Migration {
    /// The province's result policy per year: tiers and the thresholds of exit warnings.
    static let v10ResultPolicies = Migration(
        version: 10,
        name: "result policies",
        statements: [
            """
            CREATE TABLE assessment.result_policies (
                year integer PRIMARY KEY CHECK (year BETWEEN 2019 AND 2100),
                -- xcert.assessment.v1.ResultPolicy as protobuf JSON.
                policy jsonb NOT NULL,
                set_by text NOT NULL,
                set_at timestamptz NOT NULL DEFAULT now()
            )
            """
        ]
    )
}
