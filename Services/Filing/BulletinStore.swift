import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService

/// The filing service's part of the province's monthly bulletin, as one statement: filings
/// submitted and approved on the days asked (Asia/Shanghai), and the exam sessions held on
/// them (sealed rosters in force) with the candidates who sat and passed.
enum BulletinStore {
    static func figures(
        _ days: ClosedRange<LocalDate>, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Filing_V1_BulletinFigures {
        let first = days.lowerBound.description
        let last = days.upperBound.description
        let rows = try await connection.query(
            """
            SELECT (SELECT count(*)::integer FROM filing.filings
                    WHERE (submitted_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN \(first)::date AND \(last)::date),
                   (SELECT count(*)::integer FROM filing.filings
                    WHERE review_approved AND (reviewed_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN \(first)::date AND \(last)::date),
                   sessions.count, sessions.examined, sessions.passed
            FROM (
                SELECT count(*)::integer AS count, coalesce(sum(t.completed), 0)::bigint AS examined,
                       coalesce(sum(t.passed), 0)::bigint AS passed
                FROM filing.rosters r
                CROSS JOIN LATERAL (
                    SELECT sum(completed) AS completed, sum(passed) AS passed FROM filing.roster_tallies WHERE roster_id = r.id
                ) t
                WHERE r.state = \(RosterStates.sealed) AND r.exam_date BETWEEN \(first)::date AND \(last)::date
            ) sessions
            """,
            logger: logger
        )
        var figures = Xcert_Filing_V1_BulletinFigures()
        for try await (submitted, approved, sessions, examined, passed) in rows.decode((Int32, Int32, Int32, Int64, Int64).self) {
            figures.filingsSubmitted = submitted
            figures.filingsApproved = approved
            figures.examSessions = sessions
            figures.candidatesExamined = examined
            figures.candidatesPassed = passed
        }
        return figures
    }
}
