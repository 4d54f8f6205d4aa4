import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertWire

/// The SQL of the review lifecycle that filings and yearly reports share
/// (``ReviewedSubmission``): `filing.filings` and `filing.reports` keep it in the same columns.
enum ReviewStore {
    /// The table of a kind: a constant, never a caller's text.
    private static func table(_ kind: ReviewedSubmission.Kind) -> String {
        switch kind {
        case .filing: "filing.filings"
        case .report: "filing.reports"
        }
    }

    /// Version `id` of `kind` in its review lifecycle, its row locked until the transaction ends.
    ///
    /// - Throws: NOT_FOUND when there is none.
    static func lockForReview(
        _ kind: ReviewedSubmission.Kind, _ id: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> ReviewedSubmission {
        let rows = try await connection.query(
            "SELECT state FROM \(unescaped: Self.table(kind)) WHERE id = \(id) FOR UPDATE", logger: logger)
        for try await stored in rows.decode(String.self) {
            guard let state = kind.state(named: stored) else {
                throw RPCError(.internal, "\(kind.noun) \(id) has the unknown state \(stored)")
            }
            return ReviewedSubmission(kind: kind, id: id, state: state)
        }
        throw RPCError(.notFound, "there is no \(kind.noun) \(id)")
    }

    /// Writes what a transition of version `id` of `kind` changed.
    static func record(
        _ event: ReviewedSubmission.Event, _ kind: ReviewedSubmission.Kind, _ id: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let table = Self.table(kind)
        switch event {
        case .withdrawn(let reason):
            try await connection.query(
                """
                UPDATE \(unescaped: table) SET state = 'withdrawn', withdrawal_reason = \(reason)
                WHERE id = \(id) AND state = 'submitted'
                """,
                logger: logger
            )
        case .reviewed(_, let reason, let reviewer, let at):
            try await connection.query(
                """
                UPDATE \(unescaped: table)
                SET state = \(kind.name(of: event.state)), review_reason = \(reason), reviewer = \(reviewer), reviewed_at = \(at)
                WHERE id = \(id) AND state = 'submitted'
                """,
                logger: logger
            )
        }
    }
}
