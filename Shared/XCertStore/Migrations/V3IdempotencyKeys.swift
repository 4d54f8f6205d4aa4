extension Migration {
    /// Each service's idempotency keys, in its own schema (see `IdempotencyStore`).
    static let v3IdempotencyKeys = Migration(
        version: 3,
        name: "idempotency keys",
        statements: MigrationHistory.serviceSchemas.flatMap { schema in
            [
                """
                CREATE TABLE \(schema).idempotency_keys (
                    principal text NOT NULL,
                    method text NOT NULL,
                    key text NOT NULL,
                    request_sha256 bytea NOT NULL,
                    response bytea NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (principal, method, key)
                )
                """,
                "CREATE INDEX idempotency_keys_created_at ON \(schema).idempotency_keys (created_at)",
            ]
        }
    )
}
