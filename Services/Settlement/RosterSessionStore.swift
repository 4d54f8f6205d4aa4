import Logging
import PostgresNIO
import XCertDomain
import XCertProto

/// The SQL of the charges of exam sessions: the session each counted roster version belongs
/// to (the first version's id), and each session's receivable per school with its entries
/// (the charge and the corrections).
enum RosterSessionStore {
    /// The session of roster version `roster`, if it was counted.
    static func session(ofRoster roster: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int64? {
        let rows = try await connection.query(
            "SELECT session_roster_id FROM settlement.roster_sessions WHERE roster_id = \(roster)",
            logger: logger
        )
        var session: Int64?
        for try await found in rows.decode(Int64.self) { session = found }
        return session
    }

    /// Records that roster version `roster` belongs to `session`; false when it was recorded
    /// before.
    static func record(roster: Int64, session: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO settlement.roster_sessions (roster_id, session_roster_id) VALUES (\(roster), \(session))
            ON CONFLICT DO NOTHING RETURNING roster_id
            """,
            logger: logger
        )
        var isNew = false
        for try await _ in inserted.decode(Int64.self) { isNew = true }
        return isNew
    }

    /// The schools the session charged so far, by code.
    static func schools(session: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String] {
        let previous = try await connection.query(
            "SELECT school_code FROM settlement.receivables WHERE session_roster_id = \(session) ORDER BY school_code",
            logger: logger
        )
        var schools: [String] = []
        for try await school in previous.decode(String.self) { schools.append(school) }
        return schools
    }

    /// The session's receivable of `school` and the fee it was charged at, if there is one.
    static func receivable(
        session: Int64, school: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> (id: Int64, fee: Int64)? {
        let existing = try await connection.query(
            "SELECT id, fee_fen FROM settlement.receivables WHERE session_roster_id = \(session) AND school_code = \(school)",
            logger: logger
        )
        var receivable: (id: Int64, fee: Int64)?
        for try await (id, sessionFee) in existing.decode((Int64, Int64).self) { receivable = (id, sessionFee) }
        return receivable
    }

    /// Opens the session's receivable of `school`, at `fee` a candidate; returns its id.
    static func insertReceivable(
        school: String, organization: Int64, certificateCode: String, level: Int16, year: Int32, session: Int64,
        examDate: LocalDate, dueDate: LocalDate, fee: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64 {
        let created = try await connection.query(
            """
            INSERT INTO settlement.receivables (school_code, organization_id, certificate_code, level, year, session_roster_id, exam_date,
                due_date, fee_fen)
            VALUES (\(school), \(organization), \(certificateCode), \(level), \(year), \(session),
                    \(examDate.description)::date, \(dueDate.description)::date, \(fee))
            RETURNING id
            """,
            logger: logger
        )
        var id: Int64 = 0
        for try await value in created.decode(Int64.self) { id = value }
        return id
    }

    /// What a receivable entry is.
    enum EntryKind: String {
        /// The first charge of a session's receivable, for a roster version.
        case charge
        /// A later roster version's difference to what the receivable holds.
        case correction
        /// The organization exited before the exam: what the receivable holds, taken back to 0.
        case cancellation

        var wire: Xcert_Settlement_V1_EntryKind {
            switch self {
            case .charge: .charge
            case .correction: .correction
            case .cancellation: .cancellation
            }
        }
    }

    /// Adds an entry to receivable `receivable`: of roster version `roster` (nil for a
    /// cancellation, which says its `reason` instead), now `completed` candidates, `amount`
    /// fen (a correction's difference, a cancellation, may be below 0).
    static func insertEntry(
        _ kind: EntryKind, receivable: Int64, roster: Int64?, completed: Int64, amount: Int64, reason: String? = nil,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO settlement.receivable_entries (receivable_id, kind, roster_id, completed, amount_fen, reason)
            VALUES (\(receivable), \(kind.rawValue), \(roster), \(completed), \(amount), \(reason))
            """,
            logger: logger
        )
    }
}
