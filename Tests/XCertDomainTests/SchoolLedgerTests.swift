import PropertyBased
import Testing
import XCertDomain

@Suite("A school's fee ledger: receivables, payments, reversals, corrections, refunds")
struct SchoolLedgerTests {
    @Test("a payment settles the oldest open receivables first; what is left over is credit, which the next receivable uses")
    func oldestFirstAndCredit() throws {
        var ledger = SchoolLedger()
        _ = try ledger.charge(1, amount: 30_000)
        _ = try ledger.charge(2, amount: 50_000)
        let allocations = try ledger.pay(10, amount: 60_000)
        #expect(
            allocations == [
                .init(payment: 10, target: .receivable(1), amount: 30_000), .init(payment: 10, target: .receivable(2), amount: 30_000),
            ])
        #expect(ledger.outstanding == 20_000 && ledger.credit == 0)
        _ = try ledger.pay(11, amount: 25_000)
        #expect(ledger.outstanding == 0 && ledger.credit == 5_000)
        #expect(try ledger.charge(3, amount: 8_000) == [.init(payment: 11, target: .receivable(3), amount: 5_000)])
        #expect(ledger.outstanding == 3_000 && ledger.credit == 0)
    }

    @Test("a named receivable is settled alone, the rest is credit")
    func namedReceivable() throws {
        var ledger = SchoolLedger()
        _ = try ledger.charge(1, amount: 30_000)
        _ = try ledger.charge(2, amount: 50_000)
        #expect(try ledger.pay(10, amount: 60_000, named: 2) == [.init(payment: 10, target: .receivable(2), amount: 50_000)])
        #expect(ledger.receivables.map(\.outstanding) == [30_000, 0] && ledger.credit == 10_000)
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.pay(11, amount: 1, named: 99) }
    }

    @Test("a correction downwards releases the newest allocations as credit; a reversal reopens what the payment settled")
    func correctionsAndReversals() throws {
        var ledger = SchoolLedger()
        _ = try ledger.charge(1, amount: 100_000)
        _ = try ledger.pay(10, amount: 40_000)
        _ = try ledger.pay(11, amount: 60_000)
        #expect(
            try ledger.correct(1, by: -70_000) == [
                .init(payment: 11, target: .receivable(1), amount: -60_000), .init(payment: 10, target: .receivable(1), amount: -10_000),
            ])
        #expect(ledger.receivable == 30_000 && ledger.outstanding == 0 && ledger.credit == 70_000)
        #expect(try ledger.reverse(10) == [.init(payment: 10, target: .receivable(1), amount: -30_000)])
        #expect(ledger.outstanding == 30_000 && ledger.credit == 60_000 && ledger.received == 60_000)
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.reverse(10) }
        // Upwards, the credit settles it again.
        #expect(try ledger.correct(1, by: 10_000) == [.init(payment: 11, target: .receivable(1), amount: 40_000)])
        #expect(ledger.outstanding == 0 && ledger.credit == 20_000)
    }

    @Test("a refund pays back at most the credit, and a refunded payment is not reversed")
    func refunds() throws {
        var ledger = SchoolLedger()
        _ = try ledger.pay(10, amount: 5_000)
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.refund(1, amount: 5_001) }
        #expect(try ledger.refund(1, amount: 2_000) == [.init(payment: 10, target: .refund(1), amount: 2_000)])
        #expect(ledger.credit == 3_000 && ledger.received == 3_000)
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.reverse(10) }
    }

    @Test(
        """
        each refusal says what kind it is: a bad amount or an overflow is an invalid argument, a refund above the credit or a reversal \
        after a refund a failed precondition
        """
    )
    func refusalKinds() throws {
        var ledger = SchoolLedger()
        _ = try ledger.pay(10, amount: 5_000)
        let above = #expect(throws: DomainError.self) { try ledger.refund(1, amount: 5_001) }
        #expect(above?.code == .failedPrecondition && above?.reason == "ledger.refund-above-credit")
        #expect(above?.message == "a refund of 5001 fen is more than the credit of 5000 fen")
        #expect((#expect(throws: DomainError.self) { try ledger.pay(11, amount: 0) })?.code == .invalidArgument)
        let overflow = #expect(throws: DomainError.self) { try ledger.pay(12, amount: .max) }
        #expect(overflow?.code == .invalidArgument && overflow?.reason == "ledger.overflow")
        #expect(overflow?.at(field: "amount.fen").field == "amount.fen")
        _ = try ledger.refund(1, amount: 1)
        #expect((#expect(throws: DomainError.self) { try ledger.reverse(10) })?.code == .failedPrecondition)
    }

    @Test("amounts of 0 or less are refused, and so is any sum that would overflow")
    func refusals() throws {
        var ledger = SchoolLedger()
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.pay(1, amount: 0) }
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.pay(1, amount: -5) }
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.charge(1, amount: -1) }
        _ = try ledger.charge(1, amount: .max - 10)
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.charge(2, amount: 11) }
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.correct(1, by: 11) }
        _ = try ledger.pay(10, amount: .max - 10)
        #expect(throws: SchoolLedger.Refusal.self) { try ledger.pay(11, amount: 11) }
        #expect(ledger.outstanding == 0 && ledger.receivable == .max - 10, "nothing changed by the refusals")
    }

    /// One step of a random history, decoded from a random number.
    enum Step: CustomStringConvertible {
        case charge(amount: Int64)
        case correct(pick: Int, delta: Int64)
        case pay(amount: Int64, pick: Int?)
        case reverse(pick: Int)
        case refund(amount: Int64)

        init(_ value: Int64) {
            let amount = (value / 8) % 400_000 + 1
            let pick = Int((value / 3_200_000) % 31)
            switch value % 8 {
            case 0, 1: self = .charge(amount: amount)
            case 2: self = .correct(pick: pick, delta: amount - 200_000)
            case 3, 4: self = .pay(amount: amount, pick: nil)
            case 5: self = .pay(amount: amount, pick: pick)
            case 6: self = .reverse(pick: pick)
            default: self = .refund(amount: amount / 4 + 1)
            }
        }

        var description: String {
            switch self {
            case .charge(let amount): "charge \(amount)"
            case .correct(let pick, let delta): "correct #\(pick) by \(delta)"
            case .pay(let amount, let pick): "pay \(amount)\(pick.map { " to #\($0)" } ?? "")"
            case .reverse(let pick): "reverse #\(pick)"
            case .refund(let amount): "refund \(amount)"
            }
        }
    }

    @Test(
        """
        receivable = received + outstanding − credit after every step of random histories; nothing settled twice, nothing negative, and \
        the stored entries give back the same ledger
        """
    )
    func invariantUnderRandomHistories() async {
        await propertyCheck(count: 300, input: Gen.int64(in: 0...Int64.max).array(of: 1...80)) { values in
            var ledger = SchoolLedger()
            var charged: Int64 = 0, paid: Int64 = 0, refunded: Int64 = 0
            var nextID: Int64 = 1
            var made: [SchoolLedger.Allocation] = []
            for step in values.map(Step.init) {
                defer { nextID += 1 }
                do {
                    switch step {
                    case .charge(let amount):
                        made += try ledger.charge(nextID, amount: amount)
                        charged += amount
                    case .correct(let pick, let delta):
                        guard !ledger.receivables.isEmpty else { continue }
                        let receivable = ledger.receivables[pick % ledger.receivables.count]
                        guard receivable.amount + delta >= 0 else {
                            #expect(throws: SchoolLedger.Refusal.self) { try ledger.correct(receivable.id, by: delta) }
                            continue
                        }
                        made += try ledger.correct(receivable.id, by: delta)
                        charged += delta
                    case .pay(let amount, let pick):
                        let named = pick.flatMap { ledger.receivables.isEmpty ? nil : ledger.receivables[$0 % ledger.receivables.count].id }
                        made += try ledger.pay(nextID, amount: amount, named: named)
                        paid += amount
                        if named == nil, ledger.payments.last?.remaining ?? 0 > 0 {
                            #expect(ledger.outstanding == 0, "money left over only once everything is settled")
                        }
                    case .reverse(let pick):
                        guard !ledger.payments.isEmpty else { continue }
                        let payment = ledger.payments[pick % ledger.payments.count]
                        let refundedFrom = ledger.allocations.contains {
                            $0.payment == payment.id && { if case .refund = $0.target { true } else { false } }($0)
                        }
                        guard !payment.reversed, !refundedFrom else {
                            #expect(throws: SchoolLedger.Refusal.self) { try ledger.reverse(payment.id) }
                            continue
                        }
                        made += try ledger.reverse(payment.id)
                        paid -= payment.amount
                    case .refund(let amount):
                        guard amount <= ledger.credit else {
                            #expect(throws: SchoolLedger.Refusal.self) { try ledger.refund(nextID, amount: amount) }
                            continue
                        }
                        made += try ledger.refund(nextID, amount: amount)
                        refunded += amount
                    }
                } catch {
                    Issue.record("\(step) refused: \(error)")
                }
                #expect(ledger.receivable == charged)
                #expect(ledger.received == paid - refunded)
                #expect(ledger.receivable == ledger.received + ledger.outstanding - ledger.credit, "after \(step)")
                #expect(ledger.receivables.allSatisfy { 0 <= $0.settled && $0.settled <= $0.amount }, "after \(step)")
                #expect(
                    ledger.payments.allSatisfy { $0.reversed ? $0.allocated == 0 : (0 <= $0.allocated && $0.allocated <= $0.amount) },
                    "after \(step)")
                #expect(ledger.credit >= 0 && ledger.outstanding >= 0)
            }
            #expect(made == ledger.allocations)
            let stored = SchoolLedger(
                receivables: ledger.receivables.map { ($0.id, $0.amount) },
                payments: ledger.payments.map { ($0.id, $0.amount, $0.reversed) },
                refunds: [refunded],
                allocations: made
            )
            #expect(stored == ledger)
        }
    }
}

@Suite("Largest-remainder apportionment of a subsidy")
struct ApportionmentTests {
    @Test("the parts add up to the total exactly, each within one fen of its exact share, for random budgets and weights")
    func exactness() async {
        await propertyCheck(count: 500, input: Gen.int64(in: 0...10_000_000_000), Gen.int64(in: 0...1_000_000).array(of: 1...40)) {
            total, weights in
            guard weights.contains(where: { $0 > 0 }) else { return }
            let parts = try Apportionment.largestRemainder(total: total, weights: weights)
            let sum = weights.reduce(0, +)
            #expect(parts.reduce(0, +) == total)
            for (part, weight) in zip(parts, weights) {
                // floor(total × weight / sum) ≤ part ≤ that + 1.
                let floor = Int64(UInt64(sum).dividingFullWidth(UInt64(total).multipliedFullWidth(by: UInt64(weight))).quotient)
                #expect(part == floor || part == floor + 1)
                if weight == 0 { #expect(part == 0) }
            }
        }
    }

    @Test("100,001 fen by 8 and 5 completed assessments: 61,539 and 38,462; ties go to the earlier school; nothing to share by is refused")
    func examples() throws {
        #expect(try Apportionment.largestRemainder(total: 100_001, weights: [8, 5]) == [61_539, 38_462])
        #expect(try Apportionment.largestRemainder(total: 10, weights: [1, 1, 1]) == [4, 3, 3])
        #expect(try Apportionment.largestRemainder(total: .max, weights: [1, 2]).reduce(0, +) == .max)
        #expect(throws: Apportionment.Refusal.self) { try Apportionment.largestRemainder(total: 10, weights: [0, 0]) }
        #expect(throws: Apportionment.Refusal.self) { try Apportionment.largestRemainder(total: 10, weights: [.max, 1]) }
        #expect(throws: Apportionment.Refusal.self) { try Apportionment.largestRemainder(total: 10, weights: [-1, 2]) }
    }
}
