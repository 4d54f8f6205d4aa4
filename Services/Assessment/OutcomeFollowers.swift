import Logging
import NIOCore
import PostgresNIO
import SwiftProtobuf
import XCertAPI
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The feeds the assessment service follows to keep outcomes: filing's sealed rosters and
/// the registry's qualifications.
enum OutcomeFollowers {
    static let rosterFeed = "filing.rosters"
    static let qualificationFeed = "registry.qualifications"
    /// The feed of counted roster versions this service writes, for settlement.
    static let outcomeFeed = ChangeFeed(table: "assessment.outcome_changes")

    static func all(_ context: ServiceContext) -> [FeedFollower] {
        [self.rosters(context), self.qualifications(context)]
    }

    /// Each sealed roster version adds its per-school counts; a correction marks the
    /// counts of the version it supersedes as replaced, so they stop counting: replaced,
    /// never added to. Applying a change twice changes nothing.
    static func rosters(_ context: ServiceContext) -> FeedFollower {
        FeedFollower(feed: self.rosterFeed, context: context) { after, call in
            var request = Xcert_Filing_V1_ListRosterChangesRequest()
            request.after = after
            request.limit = 100
            let page = try await context.peers.call("filing", Xcert_Filing_V1_RosterService.Method.listRosterChanges, request, context: call
            )
            return FeedFollower.Page(nextCursor: page.nextCursor, isEmpty: page.changes.isEmpty) { connection, logger in
                for change in page.changes {
                    try await self.count(change.roster, connection, logger)
                }
            }
        }
    }

    static func count(_ roster: Xcert_Filing_V1_Roster, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let tallies = roster.tallies
        try await connection.query(
            """
            INSERT INTO assessment.roster_counts (roster_id, school_code, organization_id, certificate_code, level, year, declared, approved, completed, passed)
            SELECT \(roster.id), s, \(roster.organizationID), \(roster.session.certificateCode), \(Int32(roster.session.level.rawValue)),
                   \(roster.session.examDate.year), d, a, c, p
            FROM unnest(\(tallies.map(\.schoolCode))::text[], \(tallies.map(\.declared))::bigint[], \(tallies.map(\.approved))::bigint[],
                        \(tallies.map(\.completed))::bigint[], \(tallies.map(\.passed))::bigint[]) AS x(s, d, a, c, p)
            ON CONFLICT (roster_id, school_code) DO NOTHING
            """,
            logger: logger
        )
        if roster.supersedesRosterID != 0 {
            try await connection.query(
                "UPDATE assessment.roster_counts SET replaced_by = \(roster.id) WHERE roster_id = \(roster.supersedesRosterID) AND replaced_by IS NULL",
                logger: logger
            )
        }
        // Announce the version once: a rebuild counts it again but does not announce it again.
        var change = Xcert_Assessment_V1_OutcomeChange()
        change.rosterID = roster.id
        change.supersedesRosterID = roster.supersedesRosterID
        change.organizationID = roster.organizationID
        change.certificateCode = roster.session.certificateCode
        change.level = roster.session.level
        change.examDate = roster.session.examDate
        change.siteSchoolCode = roster.session.siteSchoolCode
        change.schools = tallies.map { tally in
            var school = Xcert_Assessment_V1_SchoolCompleted()
            school.schoolCode = tally.schoolCode
            school.completed = tally.completed
            return school
        }
        try await self.outcomeFeed.lockForAppend(connection, logger: logger)
        try await connection.query(
            "INSERT INTO assessment.outcome_changes (roster_id, change) VALUES (\(roster.id), \(ByteBuffer(bytes: try change.serializedBytes() as [UInt8]))) ON CONFLICT (roster_id) DO NOTHING",
            logger: logger
        )
    }

    /// The counted roster versions after `cursor`, oldest first.
    static func changes(after cursor: Int64, limit: Int, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Xcert_Assessment_V1_OutcomeChange] {
        let rows = try await connection.query(
            "SELECT cursor, change FROM assessment.outcome_changes WHERE cursor > \(cursor) ORDER BY cursor LIMIT \(limit)",
            logger: logger
        )
        var changes: [Xcert_Assessment_V1_OutcomeChange] = []
        for try await (cursor, bytes) in rows.decode((Int64, ByteBuffer).self) {
            var change = try Xcert_Assessment_V1_OutcomeChange(serializedBytes: Array(buffer: bytes))
            change.cursor = cursor
            changes.append(change)
        }
        return changes
    }

    /// The latest state of each qualification: its school's pilot scale for the
    /// certificate and year, unless revoked.
    static func qualifications(_ context: ServiceContext) -> FeedFollower {
        FeedFollower(feed: self.qualificationFeed, context: context) { after, call in
            var request = Xcert_Registry_V1_ListQualificationChangesRequest()
            request.after = after
            request.limit = 500
            let page = try await context.peers.call("registry", Xcert_Registry_V1_PilotService.Method.listQualificationChanges, request, context: call
            )
            return FeedFollower.Page(nextCursor: page.nextCursor, isEmpty: page.changes.isEmpty) { connection, logger in
                let qualifications = page.changes.map(\.qualification)
                try await connection.query(
                    """
                    INSERT INTO assessment.qualified_scales (qualification_id, school_code, certificate_code, year, student_scale, revoked)
                    SELECT DISTINCT ON (q) q, s, c, y, n, r
                    FROM unnest(\(qualifications.map(\.id))::bigint[], \(qualifications.map(\.schoolCode))::text[], \(qualifications.map(\.certificateCode))::text[],
                                \(qualifications.map(\.year))::integer[], \(qualifications.map { Int64($0.studentScale) })::bigint[],
                                \(qualifications.map(\.hasRevokedAt))::boolean[]) WITH ORDINALITY AS x(q, s, c, y, n, r, position)
                    ORDER BY q, position DESC
                    ON CONFLICT (qualification_id) DO UPDATE SET student_scale = excluded.student_scale, revoked = excluded.revoked
                    """,
                    logger: logger
                )
            }
        }
    }
}
