/// One school's assessment-fee ledger (考核费用结算), as settlement keeps it: receivables
/// charged per exam session, payments, reversals and refunds, and the allocations that
/// tie money to what it pays. Nothing is ever edited: every operation returns the new
/// allocations to append (a negative one releases money again), and the balances are
/// derived from the entries.
///
/// The rules:
/// - a payment settles the oldest open receivables first, or the one it names; what is
///   left over is the school's credit;
/// - a new receivable, or a correction upwards, is settled from the credit first, oldest
///   payment first;
/// - a correction downwards below what is settled releases the newest allocations, which
///   become credit;
/// - a reversal releases everything the payment settled and takes its money away; it is
///   refused once part of that money has been refunded;
/// - a refund pays credit back, oldest payment first, and never more than the credit.
///
/// Amounts are fen; every sum is checked, and an operation that would overflow is refused.
public struct SchoolLedger: Sendable, Equatable {
    public struct Receivable: Sendable, Equatable {
        public var id: Int64
        /// Charged, corrections included.
        public var amount: Int64
        /// Allocated to it, net of releases.
        public var settled: Int64
        public var outstanding: Int64 { self.amount - self.settled }

        public init(id: Int64, amount: Int64, settled: Int64 = 0) {
            self.id = id
            self.amount = amount
            self.settled = settled
        }
    }

    public struct Payment: Sendable, Equatable {
        public var id: Int64
        public var amount: Int64
        /// Allocated to receivables and refunds, net of releases.
        public var allocated: Int64
        public var reversed: Bool
        /// The money still unallocated: the payment's share of the credit.
        public var remaining: Int64 { self.reversed ? 0 : self.amount - self.allocated }

        public init(id: Int64, amount: Int64, allocated: Int64 = 0, reversed: Bool = false) {
            self.id = id
            self.amount = amount
            self.allocated = allocated
            self.reversed = reversed
        }
    }

    /// Where an allocation puts a payment's money.
    public enum Target: Sendable, Hashable {
        case receivable(Int64)
        case refund(Int64)
    }

    /// Money of a payment put to a receivable or a refund; negative releases it.
    public struct Allocation: Sendable, Hashable {
        public var payment: Int64
        public var target: Target
        public var amount: Int64

        public init(payment: Int64, target: Target, amount: Int64) {
            self.payment = payment
            self.target = target
            self.amount = amount
        }
    }

    /// What the ledger refuses: a ``DomainError`` like every rule's refusal, so that one
    /// mapping gives each its status.
    public typealias Refusal = DomainError

    /// Oldest first: the order receivables are settled in.
    public private(set) var receivables: [Receivable] = []
    /// Oldest first: the order credit is used in.
    public private(set) var payments: [Payment] = []
    /// Refunded so far.
    public private(set) var refunded: Int64 = 0
    /// Every allocation, in the order made.
    public private(set) var allocations: [Allocation] = []

    public init() {}

    /// The ledger as stored: receivables with their amounts (corrections included) and
    /// payments oldest first, refunds, and the allocations in the order made.
    public init(
        receivables: [(id: Int64, amount: Int64)], payments: [(id: Int64, amount: Int64, reversed: Bool)], refunds: [Int64],
        allocations: [Allocation]
    ) {
        self.receivables = receivables.map { Receivable(id: $0.id, amount: $0.amount) }
        self.payments = payments.map { Payment(id: $0.id, amount: $0.amount, reversed: $0.reversed) }
        self.refunded = refunds.reduce(0, +)
        for allocation in allocations { _ = self.allocate(payment: allocation.payment, to: allocation.target, allocation.amount) }
    }

    // MARK: - Balances

    /// Charged, corrections included.
    public var receivable: Int64 { self.receivables.reduce(0) { $0 + $1.amount } }
    /// Money held: payments not reversed, less refunds.
    public var received: Int64 { self.payments.filter { !$0.reversed }.reduce(0) { $0 + $1.amount } - self.refunded }
    /// Still owed.
    public var outstanding: Int64 { self.receivables.reduce(0) { $0 + $1.outstanding } }
    /// Paid but not yet put to a receivable.
    public var credit: Int64 { self.payments.reduce(0) { $0 + $1.remaining } }

    // MARK: - Operations

    /// A new receivable of `amount`, settled from the credit as far as it goes.
    public mutating func charge(_ id: Int64, amount: Int64) throws -> [Allocation] {
        guard amount >= 0 else { throw Refusal(.invalidArgument, reason: "ledger.negative-receivable", "a receivable is not negative") }
        guard !self.receivables.contains(where: { $0.id == id }) else {
            throw Refusal(.alreadyExists, reason: "ledger.receivable-exists", "receivable \(id) exists")
        }
        try self.checkSum(self.receivable, amount)
        self.receivables.append(Receivable(id: id, amount: amount))
        return self.applyCredit(to: self.receivables.count - 1)
    }

    /// Changes receivable `id` by `delta`: upwards it is settled from the credit, downwards
    /// below its settled part it releases the newest allocations.
    public mutating func correct(_ id: Int64, by delta: Int64) throws -> [Allocation] {
        guard let index = self.receivables.firstIndex(where: { $0.id == id }) else {
            throw Refusal(.failedPrecondition, reason: "ledger.no-receivable", "no receivable \(id)")
        }
        try self.checkSum(self.receivable, delta)
        let amount = self.receivables[index].amount + delta
        guard amount >= 0 else {
            throw Refusal(.invalidArgument, reason: "ledger.correction-below-zero", "a correction does not take receivable \(id) below 0")
        }
        self.receivables[index].amount = amount
        if delta > 0 { return self.applyCredit(to: index) }
        var excess = self.receivables[index].settled - amount
        // What each payment still has in the receivable, released newest payment first.
        var net: [Int64: Int64] = [:]
        var newestFirst: [Int64] = []
        for allocation in self.allocations.reversed() where allocation.target == .receivable(id) {
            net[allocation.payment, default: 0] += allocation.amount
            if allocation.amount > 0, !newestFirst.contains(allocation.payment) { newestFirst.append(allocation.payment) }
        }
        var releases: [Allocation] = []
        for payment in newestFirst where excess > 0 {
            let release = min(excess, net[payment] ?? 0)
            guard release > 0 else { continue }
            releases.append(self.allocate(payment: payment, to: .receivable(id), -release))
            excess -= release
        }
        return releases
    }

    /// A payment of `amount`: to receivable `named` if given (the rest is credit), else to
    /// the oldest open receivables.
    public mutating func pay(_ id: Int64, amount: Int64, named: Int64? = nil) throws -> [Allocation] {
        guard amount > 0 else { throw Refusal(.invalidArgument, reason: "ledger.payment-not-positive", "a payment is more than 0 fen") }
        guard !self.payments.contains(where: { $0.id == id }) else {
            throw Refusal(.alreadyExists, reason: "ledger.payment-exists", "payment \(id) exists")
        }
        try self.checkSum(self.received, amount)
        let indices: [Int]
        if let named {
            guard let index = self.receivables.firstIndex(where: { $0.id == named }) else {
                throw Refusal(.invalidArgument, reason: "ledger.named-receivable-unknown", "no receivable \(named) of this school")
            }
            indices = [index]
        } else {
            indices = Array(self.receivables.indices)
        }
        self.payments.append(Payment(id: id, amount: amount))
        var allocations: [Allocation] = []
        for index in indices {
            let remaining = self.payments[self.payments.count - 1].remaining
            guard remaining > 0 else { break }
            let share = min(remaining, self.receivables[index].outstanding)
            if share > 0 { allocations.append(self.allocate(payment: id, to: .receivable(self.receivables[index].id), share)) }
        }
        return allocations
    }

    /// Reverses payment `id`: releases what it settled; its money is gone.
    public mutating func reverse(_ id: Int64) throws -> [Allocation] {
        guard let index = self.payments.firstIndex(where: { $0.id == id }) else {
            throw Refusal(.failedPrecondition, reason: "ledger.no-payment", "no payment \(id) of this school")
        }
        guard !self.payments[index].reversed else {
            throw Refusal(.failedPrecondition, reason: "ledger.reversed-already", "payment \(id) is reversed already")
        }
        var net: [Target: Int64] = [:]
        for allocation in self.allocations where allocation.payment == id { net[allocation.target, default: 0] += allocation.amount }
        if net.contains(where: { target, amount in if case .refund = target { amount != 0 } else { false } }) {
            throw Refusal(
                .failedPrecondition, reason: "ledger.partly-refunded",
                "part of payment \(id) has been refunded; reverse the refund's payment out of band")
        }
        var releases: [Allocation] = []
        for (target, amount) in net.sorted(by: { "\($0.key)" < "\($1.key)" }) where amount > 0 {
            releases.append(self.allocate(payment: id, to: target, -amount))
        }
        self.payments[index].reversed = true
        return releases
    }

    /// Pays `amount` of the credit back to the school, oldest payment first.
    public mutating func refund(_ id: Int64, amount: Int64) throws -> [Allocation] {
        guard amount > 0 else { throw Refusal(.invalidArgument, reason: "ledger.refund-not-positive", "a refund is more than 0 fen") }
        guard amount <= self.credit else {
            throw Refusal(
                .failedPrecondition, reason: "ledger.refund-above-credit",
                "a refund of \(amount) fen is more than the credit of \(self.credit) fen")
        }
        var left = amount
        var allocations: [Allocation] = []
        for payment in self.payments where left > 0 && payment.remaining > 0 {
            let share = min(left, payment.remaining)
            allocations.append(self.allocate(payment: payment.id, to: .refund(id), share))
            left -= share
        }
        self.refunded += amount
        return allocations
    }

    // MARK: - Helpers

    private mutating func applyCredit(to index: Int) -> [Allocation] {
        var allocations: [Allocation] = []
        for payment in self.payments where payment.remaining > 0 {
            let share = min(payment.remaining, self.receivables[index].outstanding)
            guard share > 0 else { break }
            allocations.append(self.allocate(payment: payment.id, to: .receivable(self.receivables[index].id), share))
        }
        return allocations
    }

    private mutating func allocate(payment: Int64, to target: Target, _ amount: Int64) -> Allocation {
        let allocation = Allocation(payment: payment, target: target, amount: amount)
        self.allocations.append(allocation)
        if let index = self.payments.firstIndex(where: { $0.id == payment }) { self.payments[index].allocated += amount }
        if case .receivable(let id) = target, let index = self.receivables.firstIndex(where: { $0.id == id }) {
            self.receivables[index].settled += amount
        }
        return allocation
    }

    private func checkSum(_ total: Int64, _ amount: Int64) throws {
        guard !total.addingReportingOverflow(amount).overflow else {
            throw Refusal(.invalidArgument, reason: "ledger.overflow", "\(amount) fen would overflow the school's balance")
        }
    }
}
