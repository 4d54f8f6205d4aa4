import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The filing service's SQL for rounds, filings and approvals.
enum FilingStore {
    /// The feed of approvals that settlement follows.
    static let approvalFeed = ChangeFeed(table: "filing.approval_changes")

    // MARK: - Rounds

    static func rounds(year: Int32?, number: Int32? = nil, _ connection: PostgresConnection, _ logger: Logger) async throws -> [FilingRound]
    {
        let rows = try await connection.query(
            """
            SELECT year, number, extract(year FROM closes)::integer, extract(month FROM closes)::integer, extract(day FROM closes)::integer,
                   closed_at
            FROM filing.rounds
            WHERE (\(year)::integer IS NULL OR year = \(year)) AND (\(number)::integer IS NULL OR number = \(number))
            ORDER BY year, number
            """,
            logger: logger
        )
        var rounds: [FilingRound] = []
        for try await row in rows.decode((Int32, Int32, Int32, Int32, Int32, Date?).self) {
            guard let closes = LocalDate(year: Int(row.2), month: Int(row.3), day: Int(row.4)) else {
                throw RPCError(.internal, "round \(row.1) of \(row.0) has no closing day")
            }
            rounds.append(FilingRound(year: row.0, number: row.1, closes: closes, closedEarlyAt: row.5))
        }
        return rounds
    }

    /// Opens round `number` of `year`, closing on `closes`; false when it exists.
    static func openRound(
        year: Int32, number: Int32, closes: LocalDate?, openedBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO filing.rounds (year, number, closes, opened_by)
            VALUES (\(year), \(number), \(closes?.description)::date, \(openedBy))
            ON CONFLICT DO NOTHING RETURNING number
            """,
            logger: logger
        )
        for try await _ in inserted.decode(Int32.self) { return true }
        return false
    }

    /// Closes round `number` of `year` early, at `at`; a round closed already keeps its time.
    static func closeRound(year: Int32, number: Int32, at: Date, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            "UPDATE filing.rounds SET closed_at = coalesce(closed_at, \(at)) WHERE year = \(year) AND number = \(number)",
            logger: logger
        )
    }

    /// A round as the protocol shows it, open or not at `now`.
    static func message(_ round: FilingRound, now: Date) -> Xcert_Filing_V1_FilingRound {
        var message = Xcert_Filing_V1_FilingRound()
        message.year = round.year
        message.number = round.number
        message.closes.year = Int32(round.closes.year)
        message.closes.month = Int32(round.closes.month)
        message.closes.day = Int32(round.closes.day)
        message.closingInstant = round.closes.closingInstant
        message.open = round.isOpen(at: now)
        if let closed = round.closedEarlyAt { message.closedAt = .init(closed) }
        return message
    }

    // MARK: - Filings

    struct Filter: Sendable {
        var ids: [Int64]?
        var organizationID: Int64?
        var certificateCode: String?
        var year: Int32?
        var state: String?
        var latestOnly = false
        var after: Int64 = 0
        var limit = 10_000
    }

    static func filings(_ filter: Filter, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Xcert_Filing_V1_Filing] {
        let rows = try await connection.query(
            """
            SELECT f.id, f.organization_id, f.certificate_code, f.year, f.round_number, f.version, f.state, f.school_levels,
                   f.specialty_scope, f.site_arrangement, f.teacher_requirements, f.teaching_conditions, f.exam_arrangement,
                   f.submitted_at, f.submitted_by, f.review_approved, coalesce(f.review_reason, ''), coalesce(f.reviewer, ''),
                   f.reviewed_at, coalesce(f.withdrawal_reason, '')
            FROM filing.filings f
            WHERE f.id > \(filter.after)
              AND (\(filter.ids)::bigint[] IS NULL OR f.id = ANY(\(filter.ids)))
              AND (\(filter.organizationID)::bigint IS NULL OR f.organization_id = \(filter.organizationID))
              AND (\(filter.certificateCode)::text IS NULL OR f.certificate_code = \(filter.certificateCode))
              AND (\(filter.year)::integer IS NULL OR f.year = \(filter.year))
              AND (\(filter.state)::text IS NULL OR f.state = \(filter.state))
              AND (NOT \(filter.latestOnly) OR f.version = (
                  SELECT max(version) FROM filing.filings l
                  WHERE l.organization_id = f.organization_id AND l.certificate_code = f.certificate_code AND l.year = f.year))
            ORDER BY f.id LIMIT \(filter.limit)
            """,
            logger: logger
        )
        var filings: [Xcert_Filing_V1_Filing] = []
        for try await row in rows.decode(
            (
                Int64, Int64, String, Int32, Int32, Int32, String, [Int32], [String], String, String, String, String, Date, String, Bool?,
                String, String, Date?, String
            ).self)
        {
            var filing = Xcert_Filing_V1_Filing()
            filing.id = row.0
            filing.organizationID = row.1
            filing.certificateCode = row.2
            filing.year = row.3
            filing.roundNumber = row.4
            filing.version = row.5
            filing.state = FilingStates.wire(row.6)
            filing.plan.schoolLevels = row.7.map { Xcert_Filing_V1_SchoolLevel(rawValue: Int($0)) ?? .unspecified }
            filing.plan.specialtyScope = row.8
            filing.plan.siteArrangement = row.9
            filing.plan.teacherRequirements = row.10
            filing.plan.teachingConditions = row.11
            filing.plan.examArrangement = row.12
            filing.submittedAt = .init(row.13)
            filing.submittedBy = row.14
            if let approved = row.15 {
                filing.review.approved = approved
                filing.review.reason = row.16
                filing.review.reviewer = row.17
                if let at = row.18 { filing.review.reviewedAt = .init(at) }
            }
            filing.withdrawalReason = row.19
            filings.append(filing)
        }
        guard !filings.isEmpty else { return filings }
        let ids = filings.map(\.id)
        let fees = try await connection.query(
            "SELECT filing_id, level, fee_fen, cost_basis FROM filing.filing_fees WHERE filing_id = ANY(\(ids)) ORDER BY filing_id, level",
            logger: logger
        )
        var feesByFiling: [Int64: [Xcert_Filing_V1_LevelFee]] = [:]
        for try await (id, level, fen, basis) in fees.decode((Int64, Int32, Int64, String).self) {
            var fee = Xcert_Filing_V1_LevelFee()
            fee.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(level)) ?? .unspecified
            fee.fee.fen = fen
            fee.costBasis = basis
            feesByFiling[id, default: []].append(fee)
        }
        let attachments = try await connection.query(
            """
            SELECT filing_id, name, size_bytes, sha256 FROM filing.filing_attachments
            WHERE filing_id = ANY(\(ids)) ORDER BY filing_id, position
            """,
            logger: logger
        )
        var attachmentsByFiling: [Int64: [Xcert_Filing_V1_Attachment]] = [:]
        for try await (id, name, size, sha256) in attachments.decode((Int64, String, Int64, String).self) {
            var attachment = Xcert_Filing_V1_Attachment()
            attachment.name = name
            attachment.sizeBytes = size
            attachment.sha256 = sha256
            attachmentsByFiling[id, default: []].append(attachment)
        }
        for index in filings.indices {
            filings[index].plan.fees = feesByFiling[filings[index].id] ?? []
            filings[index].plan.attachments = attachmentsByFiling[filings[index].id] ?? []
        }
        return filings
    }

    /// One filing, if the caller may see it: an organization sees only its own.
    static func filing(
        _ id: Int64, organization: Int64?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Filing_V1_Filing {
        var filter = Filter(ids: [id])
        filter.organizationID = organization
        guard let filing = try await self.filings(filter, connection, logger).first else {
            throw RPCError(.notFound, "there is no filing \(id)")
        }
        return filing
    }

    // MARK: - Approvals

    static func approvals(
        certificateCode: String? = nil, year: Int32?, roundNumber: Int32? = nil, afterCursor: Int64? = nil, limit: Int = 10_000,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [(cursor: Int64, approval: Xcert_Filing_V1_ApprovedCertificate)] {
        let rows = try await connection.query(
            """
            SELECT c.cursor, f.id FROM filing.approval_changes c JOIN filing.filings f ON f.id = c.filing_id
            WHERE (\(afterCursor)::bigint IS NULL OR c.cursor > \(afterCursor))
              AND (\(certificateCode)::text IS NULL OR f.certificate_code = \(certificateCode))
              AND (\(year)::integer IS NULL OR f.year = \(year))
              AND (\(roundNumber)::integer IS NULL OR f.round_number = \(roundNumber))
            ORDER BY c.cursor LIMIT \(limit)
            """,
            logger: logger
        )
        var cursors: [(Int64, Int64)] = []
        for try await row in rows.decode((Int64, Int64).self) { cursors.append(row) }
        guard !cursors.isEmpty else { return [] }
        let filings = Dictionary(
            uniqueKeysWithValues: try await self.filings(Filter(ids: cursors.map(\.1)), connection, logger).map { ($0.id, $0) })
        return cursors.compactMap { cursor, id in
            guard let filing = filings[id] else { return nil }
            var approval = Xcert_Filing_V1_ApprovedCertificate()
            approval.certificateCode = filing.certificateCode
            approval.organizationID = filing.organizationID
            approval.year = filing.year
            approval.roundNumber = filing.roundNumber
            approval.filingID = filing.id
            approval.filingVersion = filing.version
            approval.fees = filing.plan.fees
            approval.approvedAt = filing.review.reviewedAt
            approval.schoolLevels = filing.plan.schoolLevels
            approval.specialtyScope = filing.plan.specialtyScope
            return (cursor, approval)
        }
    }
}

/// `FilingState` as the database keeps it.
extension FilingStore {
    /// The versions of an organization's filing of `certificate` for `year` that stand in
    /// the way of a new one.
    static func liveVersions(
        organization: Int64, certificate: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [(id: Int64, version: Int32, state: ReviewedSubmission.State)] {
        let rows = try await connection.query(
            """
            SELECT id, version, state FROM filing.filings
            WHERE organization_id = \(organization) AND certificate_code = \(certificate) AND year = \(year)
              AND state IN ('submitted', 'approved')
            """,
            logger: logger
        )
        var versions: [(id: Int64, version: Int32, state: ReviewedSubmission.State)] = []
        for try await (id, version, state) in rows.decode((Int64, Int32, String).self) {
            versions.append((id, version, ReviewedSubmission.Kind.filing.state(named: state) ?? .submitted))
        }
        return versions
    }

    /// A new submitted version of a filing, its fees and its attachments, in one statement
    /// (one round trip); returns its id.
    static func insert(
        _ plan: WorkPlanRecord, organization: Int64, certificate: String, year: Int32, round: Int32, submittedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64 {
        let inserted = try await connection.query(
            """
            WITH made AS (
                INSERT INTO filing.filings (organization_id, certificate_code, year, round_number, version, state, school_levels,
                    specialty_scope, site_arrangement, teacher_requirements, teaching_conditions, exam_arrangement, submitted_by)
                SELECT \(organization), \(certificate), \(year), \(round), coalesce(max(version), 0) + 1, 'submitted',
                    \(plan.schoolLevels), \(plan.specialtyScope), \(plan.siteArrangement), \(plan.teacherRequirements),
                    \(plan.teachingConditions), \(plan.examArrangement), \(submittedBy)
                FROM filing.filings WHERE organization_id = \(organization) AND certificate_code = \(certificate) AND year = \(year)
                RETURNING id
            ), fees AS (
                INSERT INTO filing.filing_fees (filing_id, level, fee_fen, cost_basis)
                SELECT made.id, l, f, b
                FROM made, unnest(\(plan.fees.map { Int32($0.level.rawValue) })::integer[], \(plan.fees.map(\.fen))::bigint[],
                                  \(plan.fees.map(\.costBasis))::text[]) AS x(l, f, b)
            ), attachments AS (
                INSERT INTO filing.filing_attachments (filing_id, position, name, size_bytes, sha256)
                SELECT made.id, p, n, s, h
                FROM made, unnest(\(plan.attachments.map(\.name))::text[], \(plan.attachments.map(\.size))::bigint[],
                                  \(plan.attachments.map(\.sha256))::text[]) WITH ORDINALITY AS x(n, s, h, p)
            )
            SELECT id FROM made
            """,
            logger: logger
        )
        for try await id in inserted.decode(Int64.self) { return id }
        throw RPCError(.internal, "the new filing's id was not returned")
    }

    /// Writes what a transition of filing `id` changed; an approval also joins the feed of
    /// approvals that settlement follows.
    static func record(_ event: ReviewedSubmission.Event, filing id: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws
    {
        try await ReviewStore.record(event, .filing, id, connection, logger)
        guard case .reviewed(let approved, _, _, _) = event else { return }
        try await connection.query("UPDATE filing.filings SET review_approved = \(approved) WHERE id = \(id)", logger: logger)
        if approved {
            try await Self.approvalFeed.lockForAppend(connection, logger: logger)
            try await connection.query("INSERT INTO filing.approval_changes (filing_id) VALUES (\(id))", logger: logger)
        }
    }
}

/// `FilingState` as the review lifecycle and the database know it: the stored names are the
/// lifecycle's (``ReviewedSubmission/Kind/name(of:)``).
enum FilingStates {
    static func lifecycle(_ state: Xcert_Filing_V1_FilingState) -> ReviewedSubmission.State? {
        switch state {
        case .submitted: .submitted
        case .approved: .approved
        case .rejected: .rejected
        case .withdrawn: .withdrawn
        default: nil
        }
    }

    static func stored(_ state: Xcert_Filing_V1_FilingState) -> String? {
        self.lifecycle(state).map(ReviewedSubmission.Kind.filing.name(of:))
    }

    static func wire(_ stored: String) -> Xcert_Filing_V1_FilingState {
        switch ReviewedSubmission.Kind.filing.state(named: stored) {
        case .submitted: .submitted
        case .approved: .approved
        case .rejected: .rejected
        case .withdrawn: .withdrawn
        case nil: .unspecified
        }
    }
}
