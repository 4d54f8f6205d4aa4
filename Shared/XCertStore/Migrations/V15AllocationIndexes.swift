import Foundation

extension Migration {
    /// Allocations found by their payment (a payment's history, its reversal) and by their
    /// receivable (`settlement.receivable_balances`, and so every ledger read, report and
    /// analysts' fee view). Without these each lookup read the whole table, which grows
    /// with the province's ledger: found by the soak (`scripts/soak`) with EXPLAIN.
    static let v15AllocationIndexes = Migration(
        version: 15,
        name: "allocation indexes",
        statements: [
            "CREATE INDEX allocations_by_payment ON settlement.allocations (payment_id)",
            "CREATE INDEX allocations_by_receivable ON settlement.allocations (receivable_id)",
        ]
    )
}
