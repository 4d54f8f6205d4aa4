import Foundation
import Logging
import NIOCore
import PostgresNIO
import SwiftProtobuf
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The SQL of exam outcomes as the followed feeds add them up: the per-school counts of
/// roster versions (`assessment.roster_counts`), the qualified pilot scales
/// (`assessment.qualified_scales`) and the feed of counted versions
/// (`assessment.outcome_changes`).
enum OutcomeStore {
    /// The feed of counted roster versions this service writes, for settlement.
    static let feed = ChangeFeed(table: "assessment.outcome_changes")

    // MARK: - Following

    /// Adds the per-school counts of `roster`, once: a version counted already keeps its
    /// counts. A correction marks the counts of the version it supersedes as replaced.
    static func recordCounts(_ roster: Xcert_Filing_V1_Roster, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let tallies = roster.tallies
        try await connection.query(
            """
            INSERT INTO assessment.roster_counts (roster_id, school_code, organization_id, certificate_code, level, year,
                declared, approved, completed, passed)
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
                """
                UPDATE assessment.roster_counts SET replaced_by = \(roster.id)
                WHERE roster_id = \(roster.supersedesRosterID) AND replaced_by IS NULL
                """,
                logger: logger
            )
        }
    }

    /// Appends `change` to the feed, in commit order (see ``ChangeFeed``), unless its roster
    /// version is announced already.
    static func announce(_ change: Xcert_Assessment_V1_OutcomeChange, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await self.feed.lockForAppend(connection, logger: logger)
        try await connection.query(
            """
            INSERT INTO assessment.outcome_changes (roster_id, change)
            VALUES (\(change.rosterID), \(ByteBuffer(bytes: try change.serializedBytes() as [UInt8])))
            ON CONFLICT (roster_id) DO NOTHING
            """,
            logger: logger
        )
    }

    /// The counted roster versions after `cursor`, oldest first.
    static func changes(
        after cursor: Int64, limit: Int, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Assessment_V1_OutcomeChange] {
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

    /// Keeps the latest state of each of `qualifications` (a later one in the list wins):
    /// its school's pilot scale for the certificate and year, and whether it is revoked.
    static func recordQualifications(
        _ qualifications: [Xcert_Registry_V1_PilotQualification], _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO assessment.qualified_scales (qualification_id, school_code, certificate_code, year, student_scale, revoked)
            SELECT DISTINCT ON (q) q, s, c, y, n, r
            FROM unnest(\(qualifications.map(\.id))::bigint[], \(qualifications.map(\.schoolCode))::text[],
                        \(qualifications.map(\.certificateCode))::text[],
                        \(qualifications.map(\.year))::integer[], \(qualifications.map { Int64($0.studentScale) })::bigint[],
                        \(qualifications.map(\.hasRevokedAt))::boolean[]) WITH ORDINALITY AS x(q, s, c, y, n, r, position)
            ORDER BY q, position DESC
            ON CONFLICT (qualification_id) DO UPDATE SET student_scale = excluded.student_scale, revoked = excluded.revoked
            """,
            logger: logger
        )
    }

    /// How many roster versions count now (not replaced by a correction), with the cursors of
    /// the roster and qualification feeds, read in one statement so that they agree: a
    /// follower writes its counts and its cursor in one transaction.
    static func following(
        rosterFeed: String, qualificationFeed: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> (rostersCounted: Int64, rosterCursor: Int64, qualificationCursor: Int64) {
        let rows = try await connection.query(
            """
            SELECT (SELECT count(DISTINCT roster_id) FROM assessment.roster_counts WHERE replaced_by IS NULL),
                   coalesce((SELECT cursor FROM assessment.feed_cursors WHERE feed = \(rosterFeed)), 0),
                   coalesce((SELECT cursor FROM assessment.feed_cursors WHERE feed = \(qualificationFeed)), 0)
            """,
            logger: logger
        )
        for try await row in rows.decode((Int64, Int64, Int64).self) { return row }
        return (0, 0, 0)
    }

    /// Forgets every count and qualified scale and sets the cursors of `feeds` back to their
    /// start. The cursors' rows are locked first, so that a follower cannot store a page it
    /// read before the reset.
    static func forget(following feeds: [String], _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query("SELECT feed FROM assessment.feed_cursors WHERE feed = ANY(\(feeds)) FOR UPDATE", logger: logger)
        try await connection.query("DELETE FROM assessment.roster_counts", logger: logger)
        try await connection.query("DELETE FROM assessment.qualified_scales", logger: logger)
        try await connection.query(
            "UPDATE assessment.feed_cursors SET cursor = 0, updated_at = now() WHERE feed = ANY(\(feeds))", logger: logger
        )
    }

    // MARK: - Reading

    /// Outcomes in force (counts of versions not replaced), summed by school, certificate,
    /// level, year and organization, without rates; each filter nil (or `year` 0) for any.
    static func outcomes(
        school: String?, organization: Int64?, certificate: String?, level: Int32?, year: Int32,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Assessment_V1_Outcome] {
        let rows = try await connection.query(
            """
            SELECT school_code, certificate_code, level, year, organization_id,
                   sum(declared)::bigint, sum(approved)::bigint, sum(completed)::bigint, sum(passed)::bigint
            FROM assessment.roster_counts
            WHERE replaced_by IS NULL
              AND (\(school)::text IS NULL OR school_code = \(school))
              AND (\(organization)::bigint IS NULL OR organization_id = \(organization))
              AND (\(certificate)::text IS NULL OR certificate_code = \(certificate))
              AND (\(level)::integer IS NULL OR level = \(level))
              AND (\(year == 0 ? nil : year)::integer IS NULL OR year = \(year))
            GROUP BY school_code, certificate_code, level, year, organization_id
            ORDER BY year, certificate_code, level, school_code
            """,
            logger: logger
        )
        var outcomes: [Xcert_Assessment_V1_Outcome] = []
        for try await row in rows.decode((String, String, Int32, Int32, Int64, Int64, Int64, Int64, Int64).self) {
            var outcome = Xcert_Assessment_V1_Outcome()
            outcome.schoolCode = row.0
            outcome.certificateCode = row.1
            outcome.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(row.2)) ?? .unspecified
            outcome.year = row.3
            outcome.organizationID = row.4
            (outcome.declared, outcome.approved, outcome.completed, outcome.passed) = (row.5, row.6, row.7, row.8)
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// The outcomes of `year` by school and certificate, for every school with a
    /// qualification in force or with counted candidates: the qualified pilot scale and the
    /// counts, without rates. Filtered by `school`, `certificate` and `certificates` (nil:
    /// any).
    static func certificateOutcomes(
        year: Int32, school: String?, certificate: String?, certificates: [String]?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Assessment_V1_CertificateOutcome] {
        let rows = try await connection.query(
            """
            WITH scales AS (
                SELECT school_code, certificate_code, sum(student_scale)::bigint AS scale FROM assessment.qualified_scales
                WHERE year = \(year) AND NOT revoked GROUP BY school_code, certificate_code
            ), counts AS (
                SELECT school_code, certificate_code, sum(declared)::bigint AS declared, sum(approved)::bigint AS approved,
                       sum(completed)::bigint AS completed, sum(passed)::bigint AS passed
                FROM assessment.roster_counts WHERE year = \(year) AND replaced_by IS NULL GROUP BY school_code, certificate_code
            )
            SELECT school_code, certificate_code, coalesce(s.scale, 0),
                   coalesce(c.declared, 0), coalesce(c.approved, 0), coalesce(c.completed, 0), coalesce(c.passed, 0)
            FROM scales s FULL JOIN counts c USING (school_code, certificate_code)
            WHERE (\(school)::text IS NULL OR school_code = \(school))
              AND (\(certificate)::text IS NULL OR certificate_code = \(certificate))
              AND (\(certificates)::text[] IS NULL OR certificate_code = ANY(\(certificates)))
            ORDER BY certificate_code, school_code
            """,
            logger: logger
        )
        var outcomes: [Xcert_Assessment_V1_CertificateOutcome] = []
        for try await row in rows.decode((String, String, Int64, Int64, Int64, Int64, Int64).self) {
            var outcome = Xcert_Assessment_V1_CertificateOutcome()
            outcome.schoolCode = row.0
            outcome.certificateCode = row.1
            outcome.year = year
            outcome.qualifiedScale = row.2
            (outcome.declared, outcome.approved, outcome.completed, outcome.passed) = (row.3, row.4, row.5, row.6)
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// A school's outcomes in force in a year, all its certificates together.
    struct SchoolTotals: Sendable {
        /// The pilot scale of its qualifications not revoked.
        var qualifiedScale: Int64
        var declared: Int64
        var approved: Int64
        var completed: Int64
        var passed: Int64
    }

    /// The outcomes in force of `school` in `year`, zeros when it has none (nil only if the
    /// sums answer no row).
    static func schoolTotals(
        _ school: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> SchoolTotals? {
        let rows = try await connection.query(
            """
            SELECT coalesce((SELECT sum(student_scale) FROM assessment.qualified_scales
                             WHERE school_code = \(school) AND year = \(year) AND NOT revoked), 0)::bigint,
                   coalesce(sum(declared), 0)::bigint, coalesce(sum(approved), 0)::bigint,
                   coalesce(sum(completed), 0)::bigint, coalesce(sum(passed), 0)::bigint
            FROM assessment.roster_counts WHERE school_code = \(school) AND year = \(year) AND replaced_by IS NULL
            """,
            logger: logger
        )
        for try await (scale, declared, approved, completed, passed) in rows.decode((Int64, Int64, Int64, Int64, Int64).self) {
            return SchoolTotals(qualifiedScale: scale, declared: declared, approved: approved, completed: completed, passed: passed)
        }
        return nil
    }

    /// Completed and passed candidates of one certificate level in a year.
    struct LevelCount: Sendable {
        var certificateCode: String
        var level: Int32
        var completed: Int64
        var passed: Int64
    }

    /// The completed and passed candidates in force of `year` by certificate and level,
    /// only `organization`'s when given.
    static func levelCounts(
        year: Int32, organization: Int64?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [LevelCount] {
        let rows = try await connection.query(
            """
            SELECT certificate_code, level, sum(completed)::bigint, sum(passed)::bigint FROM assessment.roster_counts
            WHERE year = \(year) AND replaced_by IS NULL AND (\(organization)::bigint IS NULL OR organization_id = \(organization))
            GROUP BY certificate_code, level
            """,
            logger: logger
        )
        var counts: [LevelCount] = []
        for try await (certificate, level, completed, passed) in rows.decode((String, Int32, Int64, Int64).self) {
            counts.append(LevelCount(certificateCode: certificate, level: level, completed: completed, passed: passed))
        }
        return counts
    }
}
