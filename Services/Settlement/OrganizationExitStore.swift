import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The SQL of organizations' exits as settlement applies them (004 第22条): the exit of each
/// organization that left the province's pilot, and the receivables of its exams held after
/// the exit took effect, which the exit cancels.
enum OrganizationExitStore {
    /// An exit as settlement recorded it.
    struct Exit {
        var effectiveOn: LocalDate
        var reason: String

        /// Whether an exam on `examDate` was held after the exit took effect.
        func cancels(examOn examDate: LocalDate) -> Bool { examDate > self.effectiveOn }
    }

    /// Takes the organization's exit lock until the end of the transaction: charging a session
    /// and applying an exit of the same organization happen one after the other, so that
    /// neither misses what the other wrote.
    static func lock(_ organization: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(Self.lockSpace), \(Int32(truncatingIfNeeded: organization)))", logger: logger)
    }

    /// The first key of the exit lock: the organization's id is the second.
    private static let lockSpace: Int32 = 21_0001

    /// The organization's exit, if it exited.
    static func exit(of organization: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> Exit? {
        let rows = try await connection.query(
            "SELECT to_char(effective_on, 'YYYY-MM-DD'), reason FROM settlement.organization_exits WHERE organization_id = \(organization)",
            logger: logger
        )
        for try await (day, reason) in rows.decode((String, String).self) {
            guard let effectiveOn = LocalDate(iso: day) else { throw RPCError(.internal, "the exit of \(organization) has no day") }
            return Exit(effectiveOn: effectiveOn, reason: reason)
        }
        return nil
    }

    /// Records the exit of the standing feed's change `cursor`; false when it was recorded before.
    static func record(
        organization: Int64, _ exit: Exit, cursor: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO settlement.organization_exits (organization_id, effective_on, reason, standing_cursor)
            VALUES (\(organization), \(exit.effectiveOn.description)::date, \(exit.reason), \(cursor))
            ON CONFLICT DO NOTHING RETURNING organization_id
            """,
            logger: logger
        )
        var isNew = false
        for try await _ in rows.decode(Int64.self) { isNew = true }
        return isNew
    }

    /// The organization's receivables of exams held after `day`, as (id, school), by school.
    static func receivables(
        of organization: Int64, examinedAfter day: LocalDate, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [(id: Int64, school: String)] {
        let rows = try await connection.query(
            """
            SELECT id, school_code FROM settlement.receivables
            WHERE organization_id = \(organization) AND exam_date > \(day.description)::date ORDER BY school_code, id
            """,
            logger: logger
        )
        var receivables: [(id: Int64, school: String)] = []
        for try await (id, school) in rows.decode((Int64, String).self) { receivables.append((id, school)) }
        return receivables
    }

    /// The candidates receivable `id` holds by its latest entry.
    static func completed(receivable id: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        let rows = try await connection.query(
            "SELECT completed FROM settlement.receivable_entries WHERE receivable_id = \(id) ORDER BY id DESC LIMIT 1", logger: logger)
        for try await completed in rows.decode(Int64.self) { return completed }
        return 0
    }
}
