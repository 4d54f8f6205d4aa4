extension Migration {
    /// The assessment service's feed of counted roster versions, which settlement charges
    /// receivables from. One entry per roster version, kept across rebuilds.
    static let v11OutcomeChanges = Migration(
        version: 11,
        name: "outcome changes",
        statements: [
            """
            CREATE TABLE assessment.outcome_changes (
                cursor bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                roster_id bigint NOT NULL UNIQUE,
                -- xcert.assessment.v1.OutcomeChange, binary protobuf, cursor left 0.
                change bytea NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """
        ]
    )
}
