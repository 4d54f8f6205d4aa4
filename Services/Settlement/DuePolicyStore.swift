import Logging
import PostgresNIO
import XCertProto

/// The SQL of the province's due policies, one per exam year.
enum DuePolicyStore {
    /// Sets the policy of its year, replacing the year's earlier one.
    static func set(
        _ policy: Xcert_Settlement_V1_DuePolicy, setBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO settlement.due_policies (year, basis, days, set_by)
            VALUES (\(policy.year), \(policy.basis == .beforeExam ? "before_exam" : "after_exam"), \(policy.days), \(setBy))
            ON CONFLICT (year) DO UPDATE SET basis = excluded.basis, days = excluded.days, set_by = excluded.set_by, set_at = now()
            """,
            logger: logger
        )
    }

    /// The policy the province set for `year`, if it set one.
    static func policy(year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Settlement_V1_DuePolicy? {
        var policy: Xcert_Settlement_V1_DuePolicy?
        let rows = try await connection.query("SELECT basis, days FROM settlement.due_policies WHERE year = \(year)", logger: logger)
        for try await (basis, days) in rows.decode((String, Int32).self) {
            var stored = Xcert_Settlement_V1_DuePolicy()
            stored.year = year
            stored.basis = basis == "before_exam" ? .beforeExam : .afterExam
            stored.days = days
            policy = stored
        }
        return policy
    }
}
