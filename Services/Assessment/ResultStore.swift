import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The SQL of the province's result policies (`assessment.result_policies`), one a year,
/// kept as JSON.
enum ResultStore {
    /// Sets the policy of `year` to `json` (the policy as JSON), by `setBy`, replacing one
    /// set before.
    static func setPolicy(year: Int32, json: String, setBy: String, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO assessment.result_policies (year, policy, set_by) VALUES (\(year), \(json)::jsonb, \(setBy))
            ON CONFLICT (year) DO UPDATE SET policy = excluded.policy, set_by = excluded.set_by, set_at = now()
            """,
            logger: logger
        )
    }

    /// The policy the province set for `year`; nil when it set none.
    static func policy(
        _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Assessment_V1_ResultPolicy? {
        let rows = try await connection.query("SELECT policy::text FROM assessment.result_policies WHERE year = \(year)", logger: logger)
        for try await json in rows.decode(String.self) {
            return try Xcert_Assessment_V1_ResultPolicy(jsonString: json)
        }
        return nil
    }
}
