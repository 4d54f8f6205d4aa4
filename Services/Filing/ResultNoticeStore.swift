import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The SQL of results on public notice: the window per exam year
/// (`filing.notice_policies`), each session's notice (`filing.result_notices`, keyed by the
/// session's first roster version) and the objections (`filing.objections`).
enum ResultNoticeStore {
    // MARK: - Policies

    static func policy(year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Filing_V1_NoticePolicy? {
        let rows = try await connection.query(
            "SELECT days, set_by FROM filing.notice_policies WHERE year = \(year)", logger: logger)
        for try await (days, setBy) in rows.decode((Int32, String).self) {
            var policy = Xcert_Filing_V1_NoticePolicy()
            policy.year = year
            policy.days = days
            policy.setBy = setBy
            return policy
        }
        return nil
    }

    static func save(
        _ policy: Xcert_Filing_V1_NoticePolicy, setBy: String, _ connection: PostgresConnection, _ logger: Logger
    )
        async throws
    {
        try await connection.query(
            """
            INSERT INTO filing.notice_policies (year, days, set_by) VALUES (\(policy.year), \(policy.days), \(setBy))
            ON CONFLICT (year) DO UPDATE SET days = excluded.days, set_by = excluded.set_by, set_at = now()
            """,
            logger: logger)
    }

    // MARK: - Sessions and their notices

    /// The session (its first roster version) of roster `id`, of `organization` when given;
    /// nil when there is no such roster.
    static func session(
        ofRoster id: Int64, organization: Int64?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws
        -> Int64?
    {
        let rows = try await connection.query(
            """
            SELECT root.id FROM filing.rosters r
            JOIN filing.rosters root ON root.certificate_code = r.certificate_code AND root.level = r.level
                 AND root.site_school_code = r.site_school_code AND root.exam_date = r.exam_date AND root.version = 1
            WHERE r.id = \(id) AND (\(organization)::bigint IS NULL OR r.organization_id = \(organization))
            """,
            logger: logger)
        for try await root in rows.decode(Int64.self) { return root }
        return nil
    }

    /// Which sessions' notices to read; nil means any.
    struct Filter {
        var sessions: [Int64]?
        var year: Int32?
        var organization: Int64?
        var certificate: String?
        var state: String?
        var after: Int64 = 0
        var limit = 1000
    }

    /// Sessions with a sealed roster in force and their notices (registered when none), by
    /// session.
    static func notices(
        _ filter: Filter, _ connection: PostgresConnection, _ logger: Logger
    ) async throws
        -> [Xcert_Filing_V1_ResultNotice]
    {
        let rows = try await connection.query(
            """
            SELECT * FROM (
                SELECT root.id AS session, r.id, r.organization_id, r.certificate_code, r.level, r.site_school_code,
                       to_char(r.exam_date, 'YYYY-MM-DD'),
                       CASE WHEN n.session_roster_id IS NULL THEN 'registered' WHEN n.closed_at IS NULL THEN 'on_notice' ELSE 'final' END
                           AS state,
                       coalesce(to_char(n.starts_on, 'YYYY-MM-DD'), ''), coalesce(to_char(n.ends_on, 'YYYY-MM-DD'), ''),
                       coalesce(n.working_days, false), coalesce(n.days, 0), coalesce(n.started_by, ''), coalesce(n.start_reason, ''),
                       n.closed_at, coalesce(n.closed_by, ''),
                       (SELECT count(*)::integer FROM filing.objections o WHERE o.session_roster_id = root.id),
                       (SELECT count(*)::integer FROM filing.objections o WHERE o.session_roster_id = root.id AND o.state = 'open'),
                       (SELECT count(*)::integer FROM filing.certificates c WHERE c.session_roster_id = root.id)
                FROM filing.rosters r
                JOIN filing.rosters root ON root.certificate_code = r.certificate_code AND root.level = r.level
                     AND root.site_school_code = r.site_school_code AND root.exam_date = r.exam_date AND root.version = 1
                LEFT JOIN filing.result_notices n ON n.session_roster_id = root.id
                WHERE r.state = 'sealed'
                  AND (\(filter.sessions)::bigint[] IS NULL OR root.id = ANY(\(filter.sessions)))
                  AND (\(filter.year)::integer IS NULL OR extract(year FROM r.exam_date) = \(filter.year))
                  AND (\(filter.organization)::bigint IS NULL OR r.organization_id = \(filter.organization))
                  AND (\(filter.certificate)::text IS NULL OR r.certificate_code = \(filter.certificate))
                  AND root.id > \(filter.after)
            ) sessions
            WHERE \(filter.state)::text IS NULL OR state = \(filter.state)
            ORDER BY session LIMIT \(filter.limit)
            """,
            logger: logger)
        var notices: [Xcert_Filing_V1_ResultNotice] = []
        for try await row in rows.decode(
            (
                Int64, Int64, Int64, String, Int32, String, String, String, String, String, Bool, Int32, String, String, Date?,
                String, Int32, Int32, Int32
            ).self)
        {
            var notice = Xcert_Filing_V1_ResultNotice()
            notice.sessionRosterID = row.0
            notice.rosterID = row.1
            notice.organizationID = row.2
            notice.certificateCode = row.3
            notice.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(row.4)) ?? .unspecified
            notice.siteSchoolCode = row.5
            if let exam = LocalDate(iso: row.6) { notice.examDate = exam.wire }
            notice.state = Self.wire(row.7)
            if let starts = LocalDate(iso: row.8) { notice.startsOn = starts.wire }
            if let ends = LocalDate(iso: row.9) { notice.endsOn = ends.wire }
            notice.workingDays = row.10
            notice.days = row.11
            notice.startedBy = row.12
            notice.startReason = row.13
            if let closed = row.14 { notice.closedAt = .init(closed) }
            notice.closedBy = row.15
            notice.objections = row.16
            notice.openObjections = row.17
            notice.certificates = row.18
            notices.append(notice)
        }
        return notices
    }

    /// A result state as stored (the view's words).
    static func stored(_ state: Xcert_Filing_V1_ResultState) -> String? {
        switch state {
        case .registered: ResultNotice.State.registered.rawValue
        case .onNotice: ResultNotice.State.onNotice.rawValue
        case .final: ResultNotice.State.final.rawValue
        default: nil
        }
    }

    static func wire(_ stored: String) -> Xcert_Filing_V1_ResultState {
        switch ResultNotice.State(rawValue: stored) {
        case .registered: .registered
        case .onNotice: .onNotice
        case .final: .final
        case nil: .unspecified
        }
    }

    /// A session's notice under a row lock, for a change; nil when it has none.
    static func lockedNotice(session: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> ResultNotice? {
        let rows = try await connection.query(
            """
            SELECT to_char(starts_on, 'YYYY-MM-DD'), to_char(ends_on, 'YYYY-MM-DD'), closed_at IS NOT NULL
            FROM filing.result_notices WHERE session_roster_id = \(session) FOR UPDATE
            """,
            logger: logger)
        for try await (starts, ends, closed) in rows.decode((String, String, Bool).self) {
            guard let starts = LocalDate(iso: starts), let ends = LocalDate(iso: ends) else {
                throw RPCError(.internal, "notice \(session)'s window is no dates")
            }
            return ResultNotice(startsOn: starts, endsOn: ends, closed: closed)
        }
        return nil
    }

    /// Starts a session's notice; false when it has one already.
    static func start(
        session: Int64, startsOn: LocalDate, endsOn: LocalDate, workingDays: Bool, days: Int32, startedBy: String, reason: String?,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO filing.result_notices (session_roster_id, starts_on, ends_on, working_days, days, started_by, start_reason)
            VALUES (\(session), \(startsOn.description)::date, \(endsOn.description)::date, \(workingDays), \(days), \(startedBy),
                    \(reason))
            ON CONFLICT (session_roster_id) DO NOTHING
            RETURNING session_roster_id
            """,
            logger: logger)
        for try await _ in rows.decode(Int64.self) { return true }
        return false
    }

    static func close(session: Int64, closedBy: String, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE filing.result_notices SET closed_at = now(), closed_by = \(closedBy)
            WHERE session_roster_id = \(session) AND closed_at IS NULL
            """,
            logger: logger)
    }

    // MARK: - Objections

    /// The candidate numbered `number` in sealed roster `roster`: name and school.
    static func candidate(
        _ number: String, roster: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws
        -> (name: String, school: String)?
    {
        let rows = try await connection.query(
            "SELECT name, school_code FROM filing.roster_candidates WHERE roster_id = \(roster) AND candidate_number = \(number)",
            logger: logger)
        for try await (name, school) in rows.decode((String, String).self) { return (name, school) }
        return nil
    }

    static func insertObjection(
        session: Int64, roster: Int64, candidate: String, name: String, school: String, reason: String,
        evidence: [Xcert_Filing_V1_Attachment], lodgedBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64 {
        let attachments = try Xcert_Filing_V1_Attachment.jsonString(from: evidence, options: .stored)
        let rows = try await connection.query(
            """
            INSERT INTO filing.objections (session_roster_id, roster_id, candidate_number, candidate_name, school_code, reason, evidence,
                state, lodged_by)
            VALUES (\(session), \(roster), \(candidate), \(name), \(school), \(reason), \(attachments)::jsonb, 'open', \(lodgedBy))
            RETURNING id
            """,
            logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw RPCError(.internal, "an objection inserted without an id")
    }

    /// Which objections to read; nil means any.
    struct ObjectionFilter {
        var ids: [Int64]?
        var session: Int64?
        var year: Int32?
        var organization: Int64?
        var school: String?
        var openOnly = false
        var after: Int64 = 0
        var limit = 1000
        /// Lock the rows for an answer.
        var forUpdate = false
    }

    static func objections(
        _ filter: ObjectionFilter, _ connection: PostgresConnection, _ logger: Logger
    ) async throws
        -> [Xcert_Filing_V1_Objection]
    {
        var query: PostgresQuery = """
            SELECT o.id, o.session_roster_id, o.roster_id, o.candidate_number, o.candidate_name, o.school_code, o.reason,
                   o.evidence::text, o.state, coalesce(o.answer, ''), coalesce(o.corrected_by_roster_id, 0), o.lodged_at, o.lodged_by,
                   o.answered_at, coalesce(o.answered_by, '')
            FROM filing.objections o JOIN filing.rosters r ON r.id = o.roster_id
            WHERE (\(filter.ids)::bigint[] IS NULL OR o.id = ANY(\(filter.ids)))
              AND (\(filter.session)::bigint IS NULL OR o.session_roster_id = \(filter.session))
              AND (\(filter.year)::integer IS NULL OR extract(year FROM r.exam_date) = \(filter.year))
              AND (\(filter.organization)::bigint IS NULL OR r.organization_id = \(filter.organization))
              AND (\(filter.school)::text IS NULL OR o.school_code = \(filter.school))
              AND (NOT \(filter.openOnly) OR o.state = 'open')
              AND o.id > \(filter.after)
            ORDER BY o.id LIMIT \(filter.limit)
            """
        if filter.forUpdate { query.sql += " FOR UPDATE OF o" }
        let rows = try await connection.query(query, logger: logger)
        var objections: [Xcert_Filing_V1_Objection] = []
        for try await row in rows.decode(
            (Int64, Int64, Int64, String, String, String, String, String, String, String, Int64, Date, String, Date?, String).self)
        {
            var objection = Xcert_Filing_V1_Objection()
            objection.id = row.0
            objection.sessionRosterID = row.1
            objection.rosterID = row.2
            objection.candidateNumber = row.3
            objection.candidateName = row.4
            objection.schoolCode = row.5
            objection.reason = row.6
            objection.evidence = try Xcert_Filing_V1_Attachment.array(fromJSONString: row.7)
            objection.state = Self.objectionState(row.8)
            objection.answer = row.9
            objection.correctedByRosterID = row.10
            objection.lodgedAt = .init(row.11)
            objection.lodgedBy = row.12
            if let answered = row.13 { objection.answeredAt = .init(answered) }
            objection.answeredBy = row.14
            objections.append(objection)
        }
        return objections
    }

    private static func objectionState(_ stored: String) -> Xcert_Filing_V1_ObjectionState {
        switch stored {
        case "open": .open
        case "corrected": .corrected
        case "rejected": .rejected
        default: .unspecified
        }
    }

    /// Records the organization's answer: upheld by `correction`, or rejected with `answer`.
    static func answer(
        _ id: Int64, correction: Int64?, answer: String, answeredBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            UPDATE filing.objections
            SET state = CASE WHEN \(correction)::bigint IS NULL THEN 'rejected' ELSE 'corrected' END, answer = \(answer),
                corrected_by_roster_id = \(correction), answered_by = \(answeredBy), answered_at = now()
            WHERE id = \(id) AND state = 'open'
            """,
            logger: logger)
    }

    /// A sealed roster's session, organization and when it was sealed: what a correction's
    /// answer checks.
    static func sealedRoster(
        _ id: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws
        -> (organization: Int64, sealedAt: Date)?
    {
        let rows = try await connection.query(
            "SELECT organization_id, sealed_at FROM filing.rosters WHERE id = \(id) AND sealed_at IS NOT NULL", logger: logger)
        for try await (organization, sealed) in rows.decode((Int64, Date).self) { return (organization, sealed) }
        return nil
    }
}
