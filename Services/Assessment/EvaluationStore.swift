import Foundation
import Logging
import PostgresNIO
import XCertDomain

/// The SQL of schools' yearly evaluations (`assessment.evaluations`) as their lifecycle
/// changes.
enum EvaluationStore {
    /// Writes what a transition of the evaluation of `school` in `year` changed: a
    /// submission (the first, on `schemeVersion`, or again), or the review that locks it.
    static func record(
        _ event: EvaluationLifecycle.Event, school: String, year: Int32, schemeVersion: Int32,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        switch event {
        case .selfSubmitted(let submitter, let at):
            try await connection.query(
                """
                INSERT INTO assessment.evaluations (school_code, year, scheme_version, state, submitted_at, submitted_by)
                VALUES (\(school), \(year), \(schemeVersion), \(EvaluationLifecycle.State.selfSubmitted.rawValue), \(at), \(submitter))
                ON CONFLICT (school_code, year) DO UPDATE SET submitted_at = excluded.submitted_at, submitted_by = excluded.submitted_by
                """,
                logger: logger
            )
        case .locked(let reviewer, let at):
            try await connection.query(
                """
                UPDATE assessment.evaluations SET state = \(EvaluationLifecycle.State.locked.rawValue), reviewer = \(reviewer), reviewed_at = \(at)
                WHERE school_code = \(school) AND year = \(year)
                """,
                logger: logger
            )
        }
    }
}
