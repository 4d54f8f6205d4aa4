import Foundation
import Logging
import PostgresNIO
import XCertProto
import XCertService
import XCertWire

/// The SQL of subsidy allocations: a budget of a year and its shares, one per school.
enum SubsidyStore {
    /// Writes an allocation and its shares (`weights` and `amounts` in the same order, by
    /// school); returns the allocation's id.
    static func insert(
        year: Int32, title: String, budgetFen: Int64, byCompleted: Bool, allocatedBy: String, weights: [(String, Int64)], amounts: [Int64],
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64 {
        let inserted = try await connection.query(
            """
            INSERT INTO settlement.subsidy_allocations (year, title, budget_fen, by_completed, allocated_by)
            VALUES (\(year), \(title), \(budgetFen), \(byCompleted), \(allocatedBy)) RETURNING id
            """,
            logger: logger
        )
        var id: Int64 = 0
        for try await value in inserted.decode(Int64.self) { id = value }
        try await connection.query(
            """
            INSERT INTO settlement.subsidy_shares (allocation_id, school_code, weight, amount_fen)
            SELECT \(id), s, w, a
            FROM unnest(\(weights.map(\.0))::text[], \(weights.map(\.1))::bigint[], \(amounts)::bigint[]) AS x(s, w, a)
            """,
            logger: logger
        )
        return id
    }

    /// Allocations by id with their shares (only `school`'s, when set).
    static func allocations(
        id: Int64?, year: Int32?, school: String?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Settlement_V1_SubsidyAllocation] {
        let rows = try await connection.query(
            """
            SELECT id, year, title, budget_fen, by_completed, allocated_by, allocated_at FROM settlement.subsidy_allocations
            WHERE (\(id)::bigint IS NULL OR id = \(id)) AND (\(year)::integer IS NULL OR year = \(year)) ORDER BY id
            """,
            logger: logger
        )
        var allocations: [Xcert_Settlement_V1_SubsidyAllocation] = []
        for try await row in rows.decode((Int64, Int32, String, Int64, Bool, String, Date).self) {
            var allocation = Xcert_Settlement_V1_SubsidyAllocation()
            allocation.id = row.0
            allocation.year = row.1
            allocation.title = row.2
            allocation.budget.fen = row.3
            allocation.byCompleted = row.4
            allocation.allocatedBy = row.5
            allocation.allocatedAt = .init(row.6)
            allocations.append(allocation)
        }
        guard !allocations.isEmpty else { return [] }
        let shares = try await connection.query(
            """
            SELECT allocation_id, school_code, weight, amount_fen FROM settlement.subsidy_shares
            WHERE allocation_id = ANY(\(allocations.map(\.id))) AND (\(school)::text IS NULL OR school_code = \(school))
            ORDER BY allocation_id, school_code
            """,
            logger: logger
        )
        var byAllocation: [Int64: [Xcert_Settlement_V1_SubsidyShare]] = [:]
        for try await (allocation, school, weight, amount) in shares.decode((Int64, String, Int64, Int64).self) {
            var share = Xcert_Settlement_V1_SubsidyShare()
            share.schoolCode = school
            share.weight = weight
            share.amount.fen = amount
            byAllocation[allocation, default: []].append(share)
        }
        for index in allocations.indices { allocations[index].shares = byAllocation[allocations[index].id] ?? [] }
        return allocations
    }
}
