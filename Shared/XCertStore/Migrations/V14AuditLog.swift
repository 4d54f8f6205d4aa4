import Foundation

extension Migration {
    /// Each service's audit log of its changes (issue 9): who, what, when, the request id
    /// and the outcome, written by ``IdempotencyStore/perform`` in the transaction of the
    /// change (a refusal in one of its own). Append-only by grant: the service's role may
    /// insert and read, not update, delete or truncate. Analysts read the four through
    /// `analytics.audit_log`, which holds no token, password or national ID number.
    static let v14AuditLog = Migration(
        version: 14,
        name: "audit log",
        statements: MigrationHistory.serviceSchemas.flatMap { schema in
            [
                """
                CREATE TABLE \(schema).audit_log (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    at timestamptz NOT NULL DEFAULT now(),
                    principal_id bigint,
                    principal_name text NOT NULL,
                    principal_role text NOT NULL,
                    method text NOT NULL,
                    targets text NOT NULL,
                    request_id text NOT NULL,
                    outcome text NOT NULL
                )
                """,
                "CREATE INDEX audit_log_at ON \(schema).audit_log (at)",
                "REVOKE UPDATE, DELETE, TRUNCATE ON \(schema).audit_log FROM xcert_\(schema)",
            ]
        } + AuditLogView.view.statements + ["GRANT SELECT ON analytics.audit_log TO xcert_analyst"]
    )
}

enum AuditLogView {
    static let view = AnalyticsView(
        name: "audit_log",
        comment:
            """
            Every change made through the services, and every change refused inside its transaction: who, what, when, the request id \
            and the outcome. No token, password or national ID number is kept.
            """,
        select: MigrationHistory.serviceSchemas.map { schema in
            """
            SELECT '\(schema)'::text AS service, id, at, principal_id, principal_name, principal_role, method, targets, request_id, \
            outcome FROM \(schema).audit_log
            """
        }.joined(separator: " UNION ALL "),
        columns: [
            ("service", "the service that made the change: registry, filing, assessment or settlement"),
            ("id", "the entry's number within its service's log"), ("at", "when (the transaction's time)"),
            ("principal_id", "who: the principal's id (registry.principals); NULL when unknown"),
            ("principal_name", "who: the principal's name"),
            ("principal_role", "province_admin, city_reviewer, school, organization or service"),
            ("method", "what: the method called, /package.Service/Method"),
            ("targets", "what: the ids and codes the request named (e.g. school_code=4136010001 year=2025) and the id of what it made"),
            ("request_id", "the request id (metadata request-id), also in the services' logs"),
            ("outcome", "OK, or the status the change was refused with (e.g. FAILED_PRECONDITION)"),
        ]
    )
}
