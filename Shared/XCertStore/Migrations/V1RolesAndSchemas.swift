extension Migration {
    /// One schema per service and one role per service with rights on its own schema
    /// only; `analytics` for the analysts' views, read by `xcert_analyst` (no rights yet).
    /// Roles are cluster-wide, so they are created only where missing.
    static let v1RolesAndSchemas = Migration(
        version: 1,
        name: "roles and schemas",
        statements: [
            // Roles are cluster-wide: migrations of two databases in one cluster (tests do
            // that) may create them at once, so a role or membership that appears meanwhile
            // is taken as it is. The migrating user (the owner) becomes a member of each
            // service role: services log in as the owner and run every request under
            // SET LOCAL ROLE of their own role.
            """
            DO $$
            DECLARE
                role_name text;
            BEGIN
                FOREACH role_name IN ARRAY ARRAY['xcert_registry', 'xcert_filing', 'xcert_assessment', 'xcert_settlement', \
            'xcert_analyst'] LOOP
                    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
                        BEGIN
                            EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
                        EXCEPTION WHEN duplicate_object OR unique_violation THEN
                            NULL;
                        END;
                    END IF;
                    IF NOT pg_has_role(current_user, role_name, 'MEMBER') THEN
                        BEGIN
                            EXECUTE format('GRANT %I TO %I', role_name, current_user);
                        EXCEPTION WHEN duplicate_object OR unique_violation THEN
                            NULL;
                        END;
                    END IF;
                END LOOP;
            END
            $$
            """,
            "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        ]
            + MigrationHistory.serviceSchemas.flatMap { schema in
                [
                    "CREATE SCHEMA IF NOT EXISTS \(schema)",
                    "REVOKE ALL ON SCHEMA \(schema) FROM PUBLIC",
                    "GRANT USAGE ON SCHEMA \(schema) TO xcert_\(schema)",
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA \(schema) GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO xcert_\(schema)",
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA \(schema) GRANT USAGE, SELECT ON SEQUENCES TO xcert_\(schema)",
                ]
            } + [
                "CREATE SCHEMA IF NOT EXISTS analytics",
                "REVOKE ALL ON SCHEMA analytics FROM PUBLIC",
                "REVOKE ALL ON SCHEMA xcert_meta FROM PUBLIC",
            ]
    )
}
