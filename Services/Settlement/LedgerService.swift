import Foundation
import Logging
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.settlement.v1.LedgerService`: fee standards, the due policy, receivables,
/// payments, reversals, refunds and a school's account. A school sees and pays only its
/// own; an organization sees the receivables owed to it; province admins everything.
struct LedgerService: Xcert_Settlement_V1_LedgerService.Handler {
    let context: ServiceContext

    /// The largest single payment or refund: 100 million yuan.
    static let largestAmountFen: Int64 = 10_000_000_000

    // MARK: - Standards and due dates

    @Sendable
    func listFeeStandards(
        _ request: Xcert_Settlement_V1_ListFeeStandardsRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_ListFeeStandardsResponse {
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Settlement_V1_ListFeeStandardsResponse()
            response.standards = try await FeeStandardStore.standards(
                year: request.year, certificateCode: request.certificateCode, connection, call.logger
            )
            return response
        }
    }

    @Sendable
    func setDuePolicy(
        _ request: Xcert_Settlement_V1_SetDuePolicyRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_DuePolicy {
        let admin = try call.caller()
        let policy = request.policy
        var checks = FieldChecks()
        checks.requireYear(policy.year, "policy.year", "an exam year")
        checks.require(policy.basis == .beforeExam || policy.basis == .afterExam, "policy.basis", "must be BEFORE_EXAM or AFTER_EXAM")
        checks.require((0...366).contains(policy.days), "policy.days", "must be 0 to 366 days, not \(policy.days)")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            try await DuePolicyStore.set(policy, setBy: admin.name, connection, call.logger)
            return try await DuePolicies.policy(year: policy.year, connection, call.logger)
        }
    }

    @Sendable
    func getDuePolicy(
        _ request: Xcert_Settlement_V1_GetDuePolicyRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_DuePolicy {
        return try await self.context.database.read(call) { connection in
            try await DuePolicies.policy(year: request.year, connection, call.logger)
        }
    }

    // MARK: - Receivables and accounts

    @Sendable
    func listReceivables(
        _ request: Xcert_Settlement_V1_ListReceivablesRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_ListReceivablesResponse {
        let reader = try call.readScope()
        let page = try Paging(request.page, field: "page")
        if let school = reader.school, !request.schoolCode.isEmpty, request.schoolCode != school {
            throw RPCError.notFound("school \(request.schoolCode)'s receivables")
        }
        return try await self.context.database.read(call) { connection in
            var filter = LedgerStore.Filter()
            filter.year = request.year == 0 ? nil : request.year
            filter.school = reader.school ?? request.schoolCode.nonEmpty
            filter.organization = reader.organization
            filter.certificate = request.certificateCode.nonEmpty
            filter.onlyOpen = request.onlyOpen
            filter.after = page.after
            filter.limit = page.size + 1
            let receivables = try await LedgerStore.receivables(filter, connection, call.logger)
            var response = Xcert_Settlement_V1_ListReceivablesResponse()
            (response.receivables, response.page) = page.cut(receivables, id: \.id)
            return response
        }
    }

    @Sendable
    func getAccount(_ request: Xcert_Settlement_V1_GetAccountRequest, _ call: RequestContext) async throws -> Xcert_Settlement_V1_Account {
        let principal = try call.caller(actingForSchool: request.schoolCode, record: "the account of school \(request.schoolCode)")
        _ = principal
        // One snapshot: a charge or a cancellation committed between the reads would show the
        // receivables of before with the allocations of after.
        return try await self.context.database.snapshot(call) { connection in
            try await Self.account(request.schoolCode, year: request.year, connection, call.logger)
        }
    }

    static func account(
        _ school: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Settlement_V1_Account {
        var filter = LedgerStore.Filter()
        filter.school = school
        filter.year = year == 0 ? nil : year
        filter.withEntries = true
        var account = Xcert_Settlement_V1_Account()
        account.schoolCode = school
        account.receivables = try await LedgerStore.receivables(filter, connection, logger)
            .sorted {
                ($0.examDate.year, $0.examDate.month, $0.examDate.day, $0.id) < (
                    $1.examDate.year, $1.examDate.month, $1.examDate.day, $1.id
                )
            }
        account.payments = try await LedgerStore.payments(school: school, connection, logger)
        account.refunds = try await LedgerStore.refunds(school: school, connection, logger)
        account.receivable.fen = account.receivables.reduce(0) { $0 + $1.amount.fen }
        account.outstanding.fen = account.receivables.reduce(0) { $0 + $1.outstanding.fen }
        account.received.fen =
            account.payments.filter { !$0.reversed }.reduce(0) { $0 + $1.amount.fen } - account.refunds.reduce(0) { $0 + $1.amount.fen }
        account.credit.fen = account.payments.reduce(0) { $0 + $1.unallocated.fen }
        return account
    }

    // MARK: - Payments, reversals, refunds

    @Sendable
    func recordPayment(
        _ request: Xcert_Settlement_V1_RecordPaymentRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_Payment {
        let principal = try call.caller(actingForSchool: request.schoolCode, record: "the account of school \(request.schoolCode)")
        var checks = FieldChecks()
        let paidOn = Self.checkMoney(
            school: request.schoolCode, amount: request.amount, day: request.paidOn, dayField: "paid_on", reference: request.reference,
            of: "payment", &checks)
        checks.require(request.receivableID >= 0, "receivable_id", "must be 0 (the oldest open first) or a receivable of the school")
        try checks.check()
        _ = try await self.context.referenceData(for: call).school(request.schoolCode, field: "school_code")
        return try await self.context.idempotency.perform(call) { connection in
            try await LedgerStore.lockAccount(request.schoolCode, connection, call.logger)
            var ledger = try await LedgerStore.ledger(request.schoolCode, connection, call.logger)
            let named = request.receivableID == 0 ? nil : request.receivableID
            if let named, !ledger.receivables.contains(where: { $0.id == named }) {
                throw RPCError.invalidArgument([
                    .init(field: "receivable_id", description: "\(request.schoolCode) has no receivable \(named)")
                ])
            }
            let id = try await LedgerStore.insertPayment(
                school: request.schoolCode, amountFen: request.amount.fen, paidOn: paidOn, reference: request.reference.trimmed,
                named: named, recordedBy: principal.name, connection, call.logger
            )
            let allocations = try Self.onAmount { try ledger.pay(id, amount: request.amount.fen, named: named) }
            try await LedgerStore.append(allocations, school: request.schoolCode, connection, call.logger)
            return try await LedgerStore.payments(school: request.schoolCode, ids: [id], connection, call.logger)[0]
        }
    }

    @Sendable
    func reversePayment(
        _ request: Xcert_Settlement_V1_ReversePaymentRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_Payment {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require(request.paymentID > 0, "payment_id", "must name a payment")
        checks.require((1...500).contains(request.reason.trimmed.count), "reason", "must say why, 1 to 500 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            guard let school = try await LedgerStore.school(ofPayment: request.paymentID, connection, call.logger) else {
                throw RPCError(.notFound, "there is no payment \(request.paymentID)")
            }
            try await LedgerStore.lockAccount(school, connection, call.logger)
            var ledger = try await LedgerStore.ledger(school, connection, call.logger)
            let releases = try ledger.reverse(request.paymentID)
            try await LedgerStore.insertReversal(
                payment: request.paymentID, reason: request.reason.trimmed, recordedBy: admin.name, connection, call.logger
            )
            try await LedgerStore.append(releases, school: school, connection, call.logger)
            return try await LedgerStore.payments(school: school, ids: [request.paymentID], connection, call.logger)[0]
        }
    }

    @Sendable
    func refundCredit(_ request: Xcert_Settlement_V1_RefundCreditRequest, _ call: RequestContext) async throws -> Xcert_Settlement_V1_Refund
    {
        let admin = try call.caller()
        var checks = FieldChecks()
        let refundedOn = Self.checkMoney(
            school: request.schoolCode, amount: request.amount, day: request.refundedOn, dayField: "refunded_on",
            reference: request.reference, of: "refund", &checks)
        try checks.check()
        _ = try await self.context.referenceData(for: call).school(request.schoolCode, field: "school_code")
        return try await self.context.idempotency.perform(call) { connection in
            try await LedgerStore.lockAccount(request.schoolCode, connection, call.logger)
            var ledger = try await LedgerStore.ledger(request.schoolCode, connection, call.logger)
            guard request.amount.fen <= ledger.credit else {
                throw RPCError(
                    .failedPrecondition,
                    """
                    \(request.schoolCode) has a credit of \(Money(fen: ledger.credit)); \
                    a refund of \(Money(fen: request.amount.fen)) is more
                    """
                )
            }
            let id = try await LedgerStore.insertRefund(
                school: request.schoolCode, amountFen: request.amount.fen, refundedOn: refundedOn, reference: request.reference.trimmed,
                recordedBy: admin.name, connection, call.logger
            )
            let allocations = try Self.onAmount { try ledger.refund(id, amount: request.amount.fen) }
            try await LedgerStore.append(allocations, school: request.schoolCode, connection, call.logger)
            return try await LedgerStore.refunds(school: request.schoolCode, ids: [id], connection, call.logger)[0]
        }
    }

    // MARK: - Helpers

    /// A ledger operation on the request's amount: a refusal of it (an overflow, say) names
    /// `amount.fen`.
    private static func onAmount<Result>(_ operation: () throws -> Result) throws -> Result {
        do {
            return try operation()
        } catch let refusal as SchoolLedger.Refusal {
            throw refusal.at(field: "amount.fen")
        }
    }

    /// The fields of money moving (a payment or a refund): the school, an amount of 1 fen up
    /// to the largest, the day (returned when sound) and a reference.
    private static func checkMoney(
        school: String, amount: Xcert_Common_V1_Money, day: Xcert_Common_V1_Date, dayField: String, reference: String, of what: String,
        _ checks: inout FieldChecks
    ) -> LocalDate? {
        checks.require(school.isDigits(10), "school_code", "must be the school's 10-digit code")
        checks.require(amount.fen > 0, "amount.fen", "must be more than 0 fen, not \(amount.fen)")
        checks.require(
            amount.fen <= Self.largestAmountFen, "amount.fen", "must be at most \(Money(fen: Self.largestAmountFen)) in one \(what)")
        let checked = Self.checkDay(day, field: dayField, &checks)
        checks.require((1...100).contains(reference.trimmed.count), "reference", "must be the \(what)'s reference, 1 to 100 characters")
        return checked
    }

    /// A real day, not after today in the province.
    private static func checkDay(_ date: Xcert_Common_V1_Date, field: String, _ checks: inout FieldChecks) -> LocalDate? {
        guard let day = LocalDate(wire: date), FieldChecks.pilotYears.contains(day.year) else {
            checks.fail(field, "must be a real date from 2019 on, not \(date.year)-\(date.month)-\(date.day)")
            return nil
        }
        let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
        checks.require(day <= today, field, "\(day) is after today (\(today)) in Asia/Shanghai")
        return day
    }
}
