import Foundation
import PostgresNIO
import Testing
import XCertStore
import XCertTestSupport

@Suite(
    "Analytics: the analysts' views and what xcert_analyst may do",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct AnalyticsTests {
    static let views = [
        "school_assessment_detail", "assessment_sites", "outstanding_fees", "org_fee_summary", "school_evaluation", "pilot_qualifications",
        "filings", "audit_log", "pending_unit_reviews", "teaching_teams", "exam_coverage", "organization_standings", "standing_changes",
        "organization_irregularities", "inspections", "inspection_summary", "lead_schools", "lead_changes", "textbooks", "pilot_summary",
        "evaluation_due_days", "report_differences", "teacher_trainings", "periodic_report_status", "monthly_bulletin", "result_notices",
        "result_objections", "certificates", "credit_mappings", "learning_outcomes",
    ]

    @Test("xcert_analyst reads every view and nothing else: no base table, no write, nothing created; every view and column is documented")
    func analystReadsOnlyTheViews() async throws {
        try await withTestDatabase { _, client in
            let logger = testLogger("analytics")
            for view in Self.views {
                _ = try await withRole("xcert_analyst", on: client) { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM analytics.\(view)"), logger: logger)
                }
            }
            let refused = [
                "SELECT count(*) FROM registry.schools", "SELECT count(*) FROM settlement.payments",
                "SELECT count(*) FROM assessment.roster_counts",
                "SELECT count(*) FROM filing.roster_candidates", "SELECT count(*) FROM registry.tokens",
                "DELETE FROM analytics.filings", "UPDATE analytics.outstanding_fees SET outstanding_fen = 0",
                "INSERT INTO analytics.pilot_qualifications (year) VALUES (2026)",
                "CREATE TABLE analytics.mine (x integer)", "CREATE VIEW analytics.mine AS SELECT 1", "CREATE TABLE public.mine (x integer)",
                "CREATE TEMPORARY TABLE mine (x integer)", "CREATE SCHEMA mine",
            ]
            for statement in refused {
                await #expect(throws: StoreError.self, "\(statement)") {
                    try await withRole("xcert_analyst", on: client) { connection in
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                }
            }
            // Documented: each view and each of its columns has a comment.
            let undocumented = try await client.scalar(
                """
                SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'analytics' AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL
                """,
                as: Int64.self
            )
            #expect(undocumented == 0)
            let views = try await client.scalar(
                """
                SELECT count(*)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'analytics' AND c.relkind = 'v' AND obj_description(c.oid) IS NOT NULL
                """,
                as: Int64.self
            )
            #expect(views == Int64(Self.views.count))
        }
    }

    @Test(
        """
        xctl admin analyst-login lets xcert_analyst log in with its own password (kept, mode 600): psql reads the views, not the base tables
        """
    )
    func analystLogin() async throws {
        try await AnalystRoleLock.shared.withLock { try await self.analystLoginHoldingTheRole() }
    }

    private func analystLoginHoldingTheRole() async throws {
        try await withTestDatabase { configuration, _ in
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("analyst-\(UUID().uuidString).password").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let first = try await runCommand(xctl, ["admin", "analyst-login", "--out", file], environment: configuration.libpqEnvironment)
            #expect(first.status == 0, "\(first.output)")
            let password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(password.count == 48)
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
            let again = try await runCommand(xctl, ["admin", "analyst-login", "--out", file], environment: configuration.libpqEnvironment)
            let kept = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(again.status == 0 && kept == password, "the password is kept")

            var analyst = configuration.libpqEnvironment
            analyst["PGUSER"] = "xcert_analyst"
            analyst["PGPASSWORD"] = password
            let view = try await runCommand(
                "/usr/bin/psql", ["-X", "-A", "-t", "-c", "SELECT count(*) FROM analytics.filings"], environment: analyst)
            #expect(view.status == 0 && view.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(view.output)")
            let base = try await runCommand(
                "/usr/bin/psql", ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", "SELECT count(*) FROM filing.filings"],
                environment: analyst)
            #expect(base.status != 0 && base.output.contains("permission denied"), "\(base.output)")
            analyst["PGPASSWORD"] = "wrong"
            let wrong = try await runCommand("/usr/bin/psql", ["-X", "-c", "SELECT 1"], environment: analyst)
            #expect(wrong.status != 0)
        }
    }
}
