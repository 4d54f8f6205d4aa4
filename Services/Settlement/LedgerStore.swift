import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The SQL of the school ledger: one school's entries as a ``SchoolLedger``, taken under
/// the school's account lock so that its changes happen one at a time, and the derived
/// receivables. Nothing here updates or deletes an entry (the role may not).
enum LedgerStore {
    /// Locks the school's account row until the end of the transaction, creating it first.
    static func lockAccount(_ school: String, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            "INSERT INTO settlement.accounts (school_code) VALUES (\(school)) ON CONFLICT DO NOTHING", logger: logger)
        try await connection.query("SELECT school_code FROM settlement.accounts WHERE school_code = \(school) FOR UPDATE", logger: logger)
    }

    /// The school's ledger as stored: receivables by exam date, payments by payment date,
    /// allocations in the order made. Call under ``lockAccount(_:_:_:)``.
    static func ledger(_ school: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> SchoolLedger {
        var receivables: [(id: Int64, amount: Int64)] = []
        let receivableRows = try await connection.query(
            """
            SELECT id, amount_fen FROM settlement.receivable_balances WHERE school_code = \(school) ORDER BY exam_date, id
            """,
            logger: logger
        )
        for try await row in receivableRows.decode((Int64, Int64).self) { receivables.append((row.0, row.1)) }
        var payments: [(id: Int64, amount: Int64, reversed: Bool)] = []
        let paymentRows = try await connection.query(
            """
            SELECT p.id, p.amount_fen, v.payment_id IS NOT NULL FROM settlement.payments p
            LEFT JOIN settlement.reversals v ON v.payment_id = p.id
            WHERE p.school_code = \(school) ORDER BY p.paid_on, p.id
            """,
            logger: logger
        )
        for try await row in paymentRows.decode((Int64, Int64, Bool).self) { payments.append((row.0, row.1, row.2)) }
        var refunds: [Int64] = []
        let refundRows = try await connection.query(
            "SELECT amount_fen FROM settlement.refunds WHERE school_code = \(school)", logger: logger)
        for try await amount in refundRows.decode(Int64.self) { refunds.append(amount) }
        var allocations: [SchoolLedger.Allocation] = []
        let allocationRows = try await connection.query(
            "SELECT payment_id, receivable_id, refund_id, amount_fen FROM settlement.allocations WHERE school_code = \(school) ORDER BY id",
            logger: logger
        )
        for try await (payment, receivable, refund, amount) in allocationRows.decode((Int64, Int64?, Int64?, Int64).self) {
            let target: SchoolLedger.Target = if let receivable { .receivable(receivable) } else { .refund(refund ?? 0) }
            allocations.append(.init(payment: payment, target: target, amount: amount))
        }
        return SchoolLedger(receivables: receivables, payments: payments, refunds: refunds, allocations: allocations)
    }

    /// Appends allocations of the school's ledger.
    static func append(
        _ allocations: [SchoolLedger.Allocation], school: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        guard !allocations.isEmpty else { return }
        // 0 for "none": ids start at 1.
        let receivables: [Int64] = allocations.map { if case .receivable(let id) = $0.target { id } else { 0 } }
        let refunds: [Int64] = allocations.map { if case .refund(let id) = $0.target { id } else { 0 } }
        try await connection.query(
            """
            INSERT INTO settlement.allocations (school_code, payment_id, receivable_id, refund_id, amount_fen)
            SELECT \(school), p, nullif(r, 0), nullif(f, 0), a
            FROM unnest(\(allocations.map(\.payment))::bigint[], \(receivables)::bigint[], \(refunds)::bigint[],
                        \(allocations.map(\.amount))::bigint[]) WITH ORDINALITY AS x(p, r, f, a, n)
            ORDER BY n
            """,
            logger: logger
        )
    }

    // MARK: - Payments, reversals, refunds

    /// Records a payment made on `paidOn`, naming receivable `named` if any; returns its id.
    static func insertPayment(
        school: String, amountFen: Int64, paidOn: LocalDate?, reference: String, named: Int64?, recordedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64 {
        let inserted = try await connection.query(
            """
            INSERT INTO settlement.payments (school_code, amount_fen, paid_on, reference, named_receivable_id, recorded_by)
            VALUES (\(school), \(amountFen), \(paidOn?.description ?? "")::date, \(reference), \(named), \(recordedBy))
            RETURNING id
            """,
            logger: logger
        )
        var id: Int64 = 0
        for try await value in inserted.decode(Int64.self) { id = value }
        return id
    }

    /// The school that made payment `id`, if there is one.
    static func school(ofPayment id: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> String? {
        let rows = try await connection.query("SELECT school_code FROM settlement.payments WHERE id = \(id)", logger: logger)
        var found: String?
        for try await school in rows.decode(String.self) { found = school }
        return found
    }

    /// Records the reversal of payment `payment`.
    static func insertReversal(
        payment: Int64, reason: String, recordedBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            "INSERT INTO settlement.reversals (payment_id, reason, recorded_by) VALUES (\(payment), \(reason), \(recordedBy))",
            logger: logger
        )
    }

    /// Records a refund made on `refundedOn`; returns its id.
    static func insertRefund(
        school: String, amountFen: Int64, refundedOn: LocalDate?, reference: String, recordedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64 {
        let inserted = try await connection.query(
            """
            INSERT INTO settlement.refunds (school_code, amount_fen, refunded_on, reference, recorded_by)
            VALUES (\(school), \(amountFen), \(refundedOn?.description ?? "")::date, \(reference), \(recordedBy))
            RETURNING id
            """,
            logger: logger
        )
        var id: Int64 = 0
        for try await value in inserted.decode(Int64.self) { id = value }
        return id
    }

    // MARK: - Receivables

    /// Which receivables to read.
    struct Filter {
        var ids: [Int64]?
        var year: Int32?
        var school: String?
        var organization: Int64?
        var certificate: String?
        var onlyOpen = false
        var after: Int64 = 0
        var limit = Int.max
        var withEntries = false
    }

    /// Receivables with their derived balances, by id.
    static func receivables(
        _ filter: Filter, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Settlement_V1_Receivable] {
        let rows = try await connection.query(
            """
            WITH r AS (
                SELECT * FROM settlement.receivable_balances r
                WHERE r.id > \(filter.after)
                  AND (\(filter.ids)::bigint[] IS NULL OR r.id = ANY(\(filter.ids)))
                  AND (\(filter.year)::integer IS NULL OR r.year = \(filter.year))
                  AND (\(filter.school)::text IS NULL OR r.school_code = \(filter.school))
                  AND (\(filter.organization)::bigint IS NULL OR r.organization_id = \(filter.organization))
                  AND (\(filter.certificate)::text IS NULL OR r.certificate_code = \(filter.certificate))
            )
            SELECT r.id, r.school_code, r.organization_id, r.certificate_code, r.level, r.year, r.session_roster_id,
                   to_char(r.exam_date, 'YYYY-MM-DD'), to_char(r.due_date, 'YYYY-MM-DD'), r.fee_fen, r.amount_fen, r.completed,
                   r.settled_fen,
                   (SELECT to_char(max(p.paid_on), 'YYYY-MM-DD') FROM settlement.payments p
                    WHERE p.id IN (SELECT a.payment_id FROM settlement.allocations a WHERE a.receivable_id = r.id
                                   GROUP BY a.payment_id HAVING sum(a.amount_fen) > 0))
            FROM r
            WHERE NOT \(filter.onlyOpen) OR r.amount_fen > r.settled_fen
            ORDER BY r.id
            LIMIT \(Int64(min(filter.limit, Int(Int64.max))))
            """,
            logger: logger
        )
        var receivables: [Xcert_Settlement_V1_Receivable] = []
        for try await row in rows.decode(
            (Int64, String, Int64, String, Int16, Int32, Int64, String, String, Int64, Int64, Int64, Int64, String?).self)
        {
            var receivable = Xcert_Settlement_V1_Receivable()
            receivable.id = row.0
            receivable.schoolCode = row.1
            receivable.organizationID = row.2
            receivable.certificateCode = row.3
            receivable.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(row.4)) ?? .unspecified
            receivable.year = row.5
            receivable.sessionRosterID = row.6
            let due = LocalDate(iso: row.8)
            if let exam = LocalDate(iso: row.7) { receivable.examDate = exam.wire }
            if let due { receivable.dueDate = due.wire }
            receivable.feeStandard.fen = row.9
            receivable.amount.fen = row.10
            receivable.completed = row.11
            receivable.settled.fen = row.12
            receivable.outstanding.fen = row.10 - row.12
            if row.10 > 0, row.10 == row.12, let settled = row.13.flatMap(LocalDate.init(iso:)) {
                receivable.settledOn = settled.wire
                receivable.paidByDueDate = due.map { settled <= $0 } ?? false
            }
            receivables.append(receivable)
        }
        if filter.withEntries, !receivables.isEmpty {
            let entries = try await connection.query(
                """
                SELECT id, receivable_id, kind, coalesce(roster_id, 0), completed, amount_fen, recorded_at, coalesce(reason, '')
                FROM settlement.receivable_entries
                WHERE receivable_id = ANY(\(receivables.map(\.id))) ORDER BY id
                """,
                logger: logger
            )
            var byReceivable: [Int64: [Xcert_Settlement_V1_ReceivableEntry]] = [:]
            for try await (id, receivable, kind, roster, completed, amount, recorded, reason) in entries.decode(
                (Int64, Int64, String, Int64, Int64, Int64, Date, String).self)
            {
                var entry = Xcert_Settlement_V1_ReceivableEntry()
                entry.id = id
                entry.kind = RosterSessionStore.EntryKind(rawValue: kind)?.wire ?? .unspecified
                entry.rosterID = roster
                entry.completed = completed
                entry.amount.fen = amount
                entry.recordedAt = .init(recorded)
                entry.reason = reason
                byReceivable[receivable, default: []].append(entry)
            }
            for index in receivables.indices { receivables[index].entries = byReceivable[receivables[index].id] ?? [] }
        }
        return receivables
    }

    /// The school's payments with their allocations, oldest first (or only `ids`).
    static func payments(
        school: String, ids: [Int64]? = nil, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Settlement_V1_Payment] {
        let rows = try await connection.query(
            """
            SELECT p.id, p.school_code, p.amount_fen, to_char(p.paid_on, 'YYYY-MM-DD'), p.reference, coalesce(p.named_receivable_id, 0),
                   p.recorded_by, p.recorded_at, v.payment_id IS NOT NULL, coalesce(v.reason, '')
            FROM settlement.payments p LEFT JOIN settlement.reversals v ON v.payment_id = p.id
            WHERE p.school_code = \(school) AND (\(ids)::bigint[] IS NULL OR p.id = ANY(\(ids)))
            ORDER BY p.paid_on, p.id
            """,
            logger: logger
        )
        var payments: [Xcert_Settlement_V1_Payment] = []
        for try await row in rows.decode((Int64, String, Int64, String, String, Int64, String, Date, Bool, String).self) {
            var payment = Xcert_Settlement_V1_Payment()
            payment.id = row.0
            payment.schoolCode = row.1
            payment.amount.fen = row.2
            if let paid = LocalDate(iso: row.3) { payment.paidOn = paid.wire }
            payment.reference = row.4
            payment.namedReceivableID = row.5
            payment.recordedBy = row.6
            payment.recordedAt = .init(row.7)
            payment.reversed = row.8
            payment.reversalReason = row.9
            payments.append(payment)
        }
        guard !payments.isEmpty else { return [] }
        let allocations = try await connection.query(
            """
            SELECT payment_id, coalesce(receivable_id, 0), coalesce(refund_id, 0), amount_fen, recorded_at FROM settlement.allocations
            WHERE payment_id = ANY(\(payments.map(\.id))) ORDER BY id
            """,
            logger: logger
        )
        var byPayment: [Int64: [Xcert_Settlement_V1_Allocation]] = [:]
        for try await (payment, receivable, refund, amount, recorded) in allocations.decode((Int64, Int64, Int64, Int64, Date).self) {
            var allocation = Xcert_Settlement_V1_Allocation()
            allocation.paymentID = payment
            allocation.receivableID = receivable
            allocation.refundID = refund
            allocation.amount.fen = amount
            allocation.recordedAt = .init(recorded)
            byPayment[payment, default: []].append(allocation)
        }
        for index in payments.indices {
            payments[index].allocations = byPayment[payments[index].id] ?? []
            let allocated = payments[index].allocations.reduce(Int64(0)) { $0 + $1.amount.fen }
            payments[index].unallocated.fen = payments[index].reversed ? 0 : payments[index].amount.fen - allocated
        }
        return payments
    }

    static func refunds(
        school: String, ids: [Int64]? = nil, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Settlement_V1_Refund] {
        let rows = try await connection.query(
            """
            SELECT id, school_code, amount_fen, to_char(refunded_on, 'YYYY-MM-DD'), reference, recorded_by, recorded_at
            FROM settlement.refunds
            WHERE school_code = \(school) AND (\(ids)::bigint[] IS NULL OR id = ANY(\(ids))) ORDER BY id
            """,
            logger: logger
        )
        var refunds: [Xcert_Settlement_V1_Refund] = []
        for try await row in rows.decode((Int64, String, Int64, String, String, String, Date).self) {
            var refund = Xcert_Settlement_V1_Refund()
            refund.id = row.0
            refund.schoolCode = row.1
            refund.amount.fen = row.2
            if let day = LocalDate(iso: row.3) { refund.refundedOn = day.wire }
            refund.reference = row.4
            refund.recordedBy = row.5
            refund.recordedAt = .init(row.6)
            refunds.append(refund)
        }
        return refunds
    }

    /// The payments paid on the days of `days` (reversed payments not counted), as one
    /// statement: how many, and their sum in fen.
    static func receipts(
        _ days: ClosedRange<LocalDate>, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Settlement_V1_GetReceiptsResponse {
        let rows = try await connection.query(
            """
            SELECT count(*)::integer, coalesce(sum(p.amount_fen), 0)::bigint FROM settlement.payments p
            WHERE p.paid_on BETWEEN \(days.lowerBound.description)::date AND \(days.upperBound.description)::date
              AND NOT EXISTS (SELECT 1 FROM settlement.reversals v WHERE v.payment_id = p.id)
            """,
            logger: logger
        )
        var response = Xcert_Settlement_V1_GetReceiptsResponse()
        for try await (payments, received) in rows.decode((Int32, Int64).self) {
            response.payments = payments
            response.received.fen = received
        }
        return response
    }
}
