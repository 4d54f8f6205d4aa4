import Logging
import PostgresNIO
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
            let page = try await context.peers.call(
                "filing", Xcert_Filing_V1_RosterService.Method.listRosterChanges, request, context: call
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
        try await OutcomeStore.recordCounts(roster, connection, logger)
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
        try await OutcomeStore.announce(change, connection, logger)
    }

    /// The latest state of each qualification: its school's pilot scale for the
    /// certificate and year, unless revoked.
    static func qualifications(_ context: ServiceContext) -> FeedFollower {
        FeedFollower(feed: self.qualificationFeed, context: context) { after, call in
            var request = Xcert_Registry_V1_ListQualificationChangesRequest()
            request.after = after
            request.limit = 500
            let page = try await context.peers.call(
                "registry", Xcert_Registry_V1_PilotService.Method.listQualificationChanges, request, context: call
            )
            return FeedFollower.Page(nextCursor: page.nextCursor, isEmpty: page.changes.isEmpty) { connection, logger in
                try await OutcomeStore.recordQualifications(page.changes.map(\.qualification), connection, logger)
            }
        }
    }
}
