import Logging
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The feeds settlement follows: filing's approved filings (the fee standards),
/// assessment's counted roster versions (the receivables) and the registry's standing of
/// organizations (an exit cancels receivables). Applying a change twice changes nothing.
enum SettlementFollowers {
    static let approvalFeed = "filing.approvals"
    static let outcomeFeed = "assessment.outcomes"
    static let standingFeed = "registry.standings"

    static func all(_ context: ServiceContext) -> [FeedFollower] {
        [self.standards(context), self.receivables(context), self.exits(context)]
    }

    /// Each organization's exit (004 第22条) cancels its receivables of exams held after the
    /// exit took effect: a cancellation entry takes each to 0, and what a school had paid on
    /// one becomes its credit, which the province refunds. Receivables of exams held before
    /// stay: those candidates were examined and their certificates stand.
    static func exits(_ context: ServiceContext) -> FeedFollower {
        FeedFollower(feed: self.standingFeed, context: context) { after, call in
            var request = Xcert_Registry_V1_ListStandingChangesRequest()
            request.after = after
            request.limit = 100
            let page = try await context.peers.call(
                "registry", Xcert_Registry_V1_OversightService.Method.listStandingChanges, request, context: call
            )
            return FeedFollower.Page(nextCursor: page.nextCursor, isEmpty: page.changes.isEmpty) { connection, logger in
                for change in page.changes where change.standing == .exited {
                    try await self.applyExit(change, connection, logger)
                }
            }
        }
    }

    static func applyExit(_ change: Xcert_Registry_V1_StandingChange, _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard let effectiveOn = LocalDate(wire: change.effectiveOn) else {
            throw RPCError(.internal, "standing change \(change.cursor) has no effective day")
        }
        let exit = OrganizationExitStore.Exit(effectiveOn: effectiveOn, reason: change.reason)
        try await OrganizationExitStore.lock(change.organizationID, connection, logger)
        guard try await OrganizationExitStore.record(organization: change.organizationID, exit, cursor: change.cursor, connection, logger)
        else { return }  // applied before
        let receivables = try await OrganizationExitStore.receivables(
            of: change.organizationID, examinedAfter: effectiveOn, connection, logger)
        // Each school's account once, in the order of codes (as charging locks them).
        for (school, ofSchool) in Dictionary(grouping: receivables, by: \.school).sorted(by: { $0.key < $1.key }) {
            try await LedgerStore.lockAccount(school, connection, logger)
            var ledger = try await LedgerStore.ledger(school, connection, logger)
            for receivable in ofSchool {
                let completed = try await OrganizationExitStore.completed(receivable: receivable.id, connection, logger)
                try await self.cancel(
                    receivable.id, completed: completed, in: &ledger, school: school, organization: change.organizationID, exit, connection,
                    logger)
            }
        }
        logger.notice(
            "organization exit applied",
            metadata: ["organization": "\(change.organizationID)", "cancelled": "\(receivables.count)", "effective": "\(effectiveOn)"])
    }

    /// Takes receivable `id` back to 0 in `ledger` (of `school`, whose account the caller has
    /// locked) by a cancellation entry, releasing what was paid on it to the school's credit;
    /// the entry keeps the `completed` candidates the receivable counts. A receivable at 0 is
    /// left alone.
    static func cancel(
        _ id: Int64, completed: Int64, in ledger: inout SchoolLedger, school: String, organization: Int64,
        _ exit: OrganizationExitStore.Exit, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let current = ledger.receivables.first { $0.id == id }?.amount ?? 0
        guard current != 0 else { return }
        let allocations = try ledger.correct(id, by: -current)
        try await RosterSessionStore.insertEntry(
            .cancellation, receivable: id, roster: nil, completed: completed, amount: -current,
            reason: "organization \(organization) exited the pilot on \(exit.effectiveOn), before this exam: \(exit.reason)",
            connection, logger
        )
        try await LedgerStore.append(allocations, school: school, connection, logger)
    }

    /// Each approved filing sets the fee standard of its certificate's levels for its
    /// year; a later approval (a new version) replaces it.
    static func standards(_ context: ServiceContext) -> FeedFollower {
        FeedFollower(feed: self.approvalFeed, context: context) { after, call in
            var request = Xcert_Filing_V1_ListApprovalChangesRequest()
            request.after = after
            request.limit = 500
            let page = try await context.peers.call(
                "filing", Xcert_Filing_V1_ApprovalService.Method.listApprovalChanges, request, context: call
            )
            return FeedFollower.Page(nextCursor: page.nextCursor, isEmpty: page.changes.isEmpty) { connection, logger in
                for approval in page.changes.map(\.approval) {
                    try await FeeStandardStore.set(approval, connection, logger)
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
            let page = try await context.peers.call(
                "assessment", Xcert_Assessment_V1_OutcomeService.Method.listOutcomeChanges, request, context: call
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
            let found = try await RosterSessionStore.session(ofRoster: change.supersedesRosterID, connection, logger)
            session = found ?? change.supersedesRosterID
        }
        let isNew = try await RosterSessionStore.record(roster: change.rosterID, session: session, connection, logger)
        guard isNew else { return }  // applied before

        guard let examDate = LocalDate(wire: change.examDate) else {
            throw RPCError(.internal, "roster \(change.rosterID) has no exam date")
        }
        let year = Int32(examDate.year)
        let level = Int16(change.level.rawValue)
        let fee = try await FeeStandardStore.fee(certificateCode: change.certificateCode, level: level, year: year, connection, logger)
        guard let fee else {
            // The approvals feed has not brought the standard yet: try the page again later.
            throw RPCError(
                .unavailable, "no fee standard of \(change.certificateCode) level \(change.level) for \(year) yet; waiting for the approval"
            )
        }
        let due = try await DuePolicies.dueDate(examDate: examDate, year: year, connection, logger)

        // An exit of the organization before the exam cancels what this version charges.
        try await OrganizationExitStore.lock(change.organizationID, connection, logger)
        let exit = try await OrganizationExitStore.exit(of: change.organizationID, connection, logger).flatMap {
            $0.cancels(examOn: examDate) ? $0 : nil
        }

        // Every school of this version, and those of the session no longer listed (to 0).
        var completed = Dictionary(change.schools.map { ($0.schoolCode, $0.completed) }, uniquingKeysWith: +)
        let previous = try await RosterSessionStore.schools(session: session, connection, logger)
        for school in previous where completed[school] == nil { completed[school] = 0 }

        for (school, count) in completed.sorted(by: { $0.key < $1.key }) {
            try await LedgerStore.lockAccount(school, connection, logger)
            var ledger = try await LedgerStore.ledger(school, connection, logger)
            let existing = try await RosterSessionStore.receivable(session: session, school: school, connection, logger)
            // A correction keeps the fee the session was charged at.
            let charged = existing?.fee ?? fee
            guard let amount = Money(fen: charged).multiplied(by: count)?.fen else {
                throw RPCError(.internal, "\(count) candidates × \(charged) fen overflows")
            }
            let allocations: [SchoolLedger.Allocation]
            let id: Int64
            if let existing {
                id = existing.id
                let current = ledger.receivables.first { $0.id == id }?.amount ?? 0
                allocations = try ledger.correct(id, by: amount - current)
                try await RosterSessionStore.insertEntry(
                    .correction, receivable: id, roster: change.rosterID, completed: count, amount: amount - current, connection, logger
                )
            } else {
                id = try await RosterSessionStore.insertReceivable(
                    school: school, organization: change.organizationID, certificateCode: change.certificateCode, level: level, year: year,
                    session: session, examDate: examDate, dueDate: due, fee: fee, connection, logger
                )
                try await RosterSessionStore.insertEntry(
                    .charge, receivable: id, roster: change.rosterID, completed: count, amount: amount, connection, logger
                )
                allocations = try ledger.charge(id, amount: amount)
            }
            try await LedgerStore.append(allocations, school: school, connection, logger)
            if let exit {
                try await self.cancel(
                    id, completed: count, in: &ledger, school: school, organization: change.organizationID, exit, connection, logger)
            }
        }
    }
}

/// When receivables fall due (province configuration per exam year).
enum DuePolicies {
    /// Without a policy of the province's own: 30 days after the exam.
    static func policy(year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Settlement_V1_DuePolicy {
        if let policy = try await DuePolicyStore.policy(year: year, connection, logger) { return policy }
        var policy = Xcert_Settlement_V1_DuePolicy()
        policy.year = year
        policy.basis = .afterExam
        policy.days = 30
        return policy
    }

    static func dueDate(examDate: LocalDate, year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> LocalDate {
        let policy = try await self.policy(year: year, connection, logger)
        let offset = policy.basis == .beforeExam ? -Int(policy.days) : Int(policy.days)
        return examDate.adding(days: offset)
    }
}
