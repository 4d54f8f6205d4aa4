import Logging
import PostgresNIO
import XCertDomain
import XCertAPI
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The feeds settlement follows: filing's approved filings (the fee standards) and
/// assessment's counted roster versions (the receivables). Applying a change twice
/// changes nothing.
enum SettlementFollowers {
    static let approvalFeed = "filing.approvals"
    static let outcomeFeed = "assessment.outcomes"

    static func all(_ context: ServiceContext) -> [FeedFollower] {
        [self.standards(context), self.receivables(context)]
    }

    /// Each approved filing sets the fee standard of its certificate's levels for its
    /// year; a later approval (a new version) replaces it.
    static func standards(_ context: ServiceContext) -> FeedFollower {
        FeedFollower(feed: self.approvalFeed, context: context) { after, call in
            var request = Xcert_Filing_V1_ListApprovalChangesRequest()
            request.after = after
            request.limit = 500
            let page = try await context.peers.call("filing", Xcert_Filing_V1_ApprovalService.Method.listApprovalChanges, request, context: call
            )
            return FeedFollower.Page(nextCursor: page.nextCursor, isEmpty: page.changes.isEmpty) { connection, logger in
                for approval in page.changes.map(\.approval) {
                    try await connection.query(
                        """
                        INSERT INTO settlement.fee_standards (certificate_code, level, year, fee_fen, organization_id, filing_id, filing_version, approved_at)
                        SELECT \(approval.certificateCode), l, \(approval.year), f, \(approval.organizationID), \(approval.filingID), \(approval.filingVersion),
                               to_timestamp(\(Double(approval.approvedAt.seconds)))
                        FROM unnest(\(approval.fees.map { Int32($0.level.rawValue) })::smallint[], \(approval.fees.map(\.fee.fen))::bigint[]) AS x(l, f)
                        ON CONFLICT (certificate_code, level, year) DO UPDATE SET
                            fee_fen = excluded.fee_fen, organization_id = excluded.organization_id, filing_id = excluded.filing_id,
                            filing_version = excluded.filing_version, approved_at = excluded.approved_at
                        """,
                        logger: logger
                    )
                }
            }
        }
    }

    /// Each counted roster version charges its schools: completed candidates × the fee
    /// standard, one receivable per exam session and school. A correction (a version
    /// superseding another) adjusts each school's receivable by a correcting entry of the
    /// difference, down to 0 for a school it no longer lists.
    static func receivables(_ context: ServiceContext) -> FeedFollower {
        FeedFollower(feed: self.outcomeFeed, context: context) { after, call in
            var request = Xcert_Assessment_V1_ListOutcomeChangesRequest()
            request.after = after
            request.limit = 100
            let page = try await context.peers.call("assessment", Xcert_Assessment_V1_OutcomeService.Method.listOutcomeChanges, request, context: call
            )
            return FeedFollower.Page(nextCursor: page.nextCursor, isEmpty: page.changes.isEmpty) { connection, logger in
                for change in page.changes {
                    try await self.charge(change, connection, logger)
                }
            }
        }
    }

    static func charge(_ change: Xcert_Assessment_V1_OutcomeChange, _ connection: PostgresConnection, _ logger: Logger) async throws {
        // The session: the first version's id, carried along the corrections.
        var session = change.rosterID
        if change.supersedesRosterID != 0 {
            let rows = try await connection.query("SELECT session_roster_id FROM settlement.roster_sessions WHERE roster_id = \(change.supersedesRosterID)", logger: logger)
            session = change.supersedesRosterID
            for try await found in rows.decode(Int64.self) { session = found }
        }
        let inserted = try await connection.query(
            "INSERT INTO settlement.roster_sessions (roster_id, session_roster_id) VALUES (\(change.rosterID), \(session)) ON CONFLICT DO NOTHING RETURNING roster_id",
            logger: logger
        )
        var isNew = false
        for try await _ in inserted.decode(Int64.self) { isNew = true }
        guard isNew else { return }  // applied before

        guard let examDate = LocalDate(wire: change.examDate) else {
            throw RPCError(.internal, "roster \(change.rosterID) has no exam date")
        }
        let year = Int32(examDate.year)
        let level = Int16(change.level.rawValue)
        let standard = try await connection.query(
            "SELECT fee_fen FROM settlement.fee_standards WHERE certificate_code = \(change.certificateCode) AND level = \(level) AND year = \(year)",
            logger: logger
        )
        var fee: Int64?
        for try await value in standard.decode(Int64.self) { fee = value }
        guard let fee else {
            // The approvals feed has not brought the standard yet: try the page again later.
            throw RPCError(.unavailable, "no fee standard of \(change.certificateCode) level \(change.level) for \(year) yet; waiting for the approval")
        }
        let due = try await DuePolicies.dueDate(examDate: examDate, year: year, connection, logger)

        // Every school of this version, and those of the session no longer listed (to 0).
        var completed = Dictionary(change.schools.map { ($0.schoolCode, $0.completed) }, uniquingKeysWith: +)
        let previous = try await connection.query(
            "SELECT school_code FROM settlement.receivables WHERE session_roster_id = \(session) ORDER BY school_code",
            logger: logger
        )
        for try await school in previous.decode(String.self) where completed[school] == nil { completed[school] = 0 }

        for (school, count) in completed.sorted(by: { $0.key < $1.key }) {
            try await LedgerStore.lockAccount(school, connection, logger)
            var ledger = try await LedgerStore.ledger(school, connection, logger)
            let existing = try await connection.query(
                "SELECT id, fee_fen FROM settlement.receivables WHERE session_roster_id = \(session) AND school_code = \(school)",
                logger: logger
            )
            var receivableID: Int64?
            // A correction keeps the fee the session was charged at.
            var charged = fee
            for try await (id, sessionFee) in existing.decode((Int64, Int64).self) {
                receivableID = id
                charged = sessionFee
            }
            guard let amount = Money(fen: charged).multiplied(by: count)?.fen else {
                throw RPCError(.internal, "\(count) candidates × \(charged) fen overflows")
            }
            let allocations: [SchoolLedger.Allocation]
            if let receivableID {
                let current = ledger.receivables.first { $0.id == receivableID }?.amount ?? 0
                allocations = try ledger.correct(receivableID, by: amount - current)
                try await connection.query(
                    """
                    INSERT INTO settlement.receivable_entries (receivable_id, kind, roster_id, completed, amount_fen)
                    VALUES (\(receivableID), 'correction', \(change.rosterID), \(count), \(amount - current))
                    """,
                    logger: logger
                )
            } else {
                let created = try await connection.query(
                    """
                    INSERT INTO settlement.receivables (school_code, organization_id, certificate_code, level, year, session_roster_id, exam_date, due_date, fee_fen)
                    VALUES (\(school), \(change.organizationID), \(change.certificateCode), \(level), \(year), \(session),
                            \(examDate.description)::date, \(due.description)::date, \(fee))
                    RETURNING id
                    """,
                    logger: logger
                )
                var id: Int64 = 0
                for try await value in created.decode(Int64.self) { id = value }
                try await connection.query(
                    "INSERT INTO settlement.receivable_entries (receivable_id, kind, roster_id, completed, amount_fen) VALUES (\(id), 'charge', \(change.rosterID), \(count), \(amount))",
                    logger: logger
                )
                allocations = try ledger.charge(id, amount: amount)
            }
            try await LedgerStore.append(allocations, school: school, connection, logger)
        }
    }
}

/// When receivables fall due (province configuration per exam year).
enum DuePolicies {
    /// Without a policy of the province's own: 30 days after the exam.
    static func policy(year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Settlement_V1_DuePolicy {
        var policy = Xcert_Settlement_V1_DuePolicy()
        policy.year = year
        policy.basis = .afterExam
        policy.days = 30
        let rows = try await connection.query("SELECT basis, days FROM settlement.due_policies WHERE year = \(year)", logger: logger)
        for try await (basis, days) in rows.decode((String, Int32).self) {
            policy.basis = basis == "before_exam" ? .beforeExam : .afterExam
            policy.days = days
        }
        return policy
    }

    static func dueDate(examDate: LocalDate, year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> LocalDate {
        let policy = try await self.policy(year: year, connection, logger)
        let offset = policy.basis == .beforeExam ? -Int(policy.days) : Int(policy.days)
        return examDate.adding(days: offset)
    }
}
