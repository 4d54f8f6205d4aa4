extension Migration {
    /// Principals (who calls) and their bearer tokens, kept by the registry. Only the
    /// SHA-256 of a token is stored. Every service reads both tables for its token check.
    static let v2PrincipalsAndTokens = Migration(
        version: 2,
        name: "principals and tokens",
        statements: [
            """
            CREATE TABLE registry.principals (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
                role text NOT NULL CHECK (role IN ('province_admin', 'city_reviewer', 'school', 'organization', 'service')),
                party text,
                created_at timestamptz NOT NULL DEFAULT now(),
                CONSTRAINT principals_party_matches_role CHECK ((role = 'province_admin') = (party IS NULL))
            )
            """,
            """
            COMMENT ON COLUMN registry.principals.party IS 'what the principal acts for: city code (city_reviewer), school code \
            (school), organization id (organization), service name (service); NULL for province_admin'
            """,
            """
            CREATE TABLE registry.tokens (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                principal_id bigint NOT NULL REFERENCES registry.principals (id),
                token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
                label text NOT NULL DEFAULT '',
                created_at timestamptz NOT NULL DEFAULT now(),
                expires_at timestamptz,
                revoked_at timestamptz
            )
            """,
            "CREATE INDEX tokens_principal ON registry.tokens (principal_id)",
            "GRANT USAGE ON SCHEMA registry TO xcert_filing, xcert_assessment, xcert_settlement",
            "GRANT SELECT ON registry.principals, registry.tokens TO xcert_filing, xcert_assessment, xcert_settlement",
        ]
    )
}
