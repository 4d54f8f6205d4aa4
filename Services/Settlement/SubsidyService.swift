import Foundation
import Logging
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.settlement.v1.SubsidyService`: the province allocates a budget across schools
/// (002 §三.4) in proportion to their completed assessments or to weights it sets, in
/// whole fen by the largest-remainder method: the shares add up to the budget exactly.
struct SubsidyService: Xcert_Settlement_V1_SubsidyService.Handler {
    let context: ServiceContext

    

    @Sendable
    func allocateSubsidy(_ request: Xcert_Settlement_V1_AllocateSubsidyRequest, _ call: RequestContext) async throws -> Xcert_Settlement_V1_SubsidyAllocation {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require((2019...2100).contains(request.year), "year", "must be a pilot year, 2019 to 2100")
        checks.require((1...1_000_000_000_000).contains(request.budget.fen), "budget.fen", "must be 1 fen to 10,000,000,000 yuan, not \(request.budget.fen)")
        checks.require((1...200).contains(request.title.trimmed.count), "title", "must be 1 to 200 characters")
        var seen = Set<String>()
        for (index, weight) in request.weights.enumerated() {
            checks.require(weight.schoolCode.isDigits(10), "weights[\(index)].school_code", "must be a school's 10-digit code")
            checks.require(weight.weight >= 0, "weights[\(index)].weight", "must not be negative")
            if !seen.insert(weight.schoolCode).inserted { checks.fail("weights[\(index)].school_code", "\(weight.schoolCode) is named twice") }
        }
        checks.require(request.weights.isEmpty || request.weights.contains { $0.weight > 0 }, "weights", "at least one weight must be more than 0")
        try checks.check()
        let schools = try await RegistryLookups.schools(self.context, call)
        for (index, weight) in request.weights.enumerated() where schools[weight.schoolCode] == nil {
            checks.fail("weights[\(index)].school_code", "the registry has no school \(weight.schoolCode)")
        }
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            var weights = request.weights.map { ($0.schoolCode, $0.weight) }.sorted { $0.0 < $1.0 }
            if weights.isEmpty {
                // Completed assessments by school: each receivable's latest count.
                var filter = LedgerStore.Filter()
                filter.year = request.year
                let receivables = try await LedgerStore.receivables(filter, connection, call.logger)
                weights = Dictionary(grouping: receivables, by: \.schoolCode).mapValues { $0.reduce(0) { $0 + $1.completed } }
                    .filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                guard !weights.isEmpty else {
                    throw RPCError(.failedPrecondition, "no school completed an assessment in \(request.year) yet; allocate by weights instead")
                }
            }
            let amounts: [Int64]
            do {
                amounts = try Apportionment.largestRemainder(total: request.budget.fen, weights: weights.map(\.1))
            } catch let refusal as Apportionment.Refusal {
                throw refusal.at(field: "weights")
            }
            let inserted = try await connection.query(
                """
                INSERT INTO settlement.subsidy_allocations (year, title, budget_fen, by_completed, allocated_by)
                VALUES (\(request.year), \(request.title.trimmed), \(request.budget.fen), \(request.weights.isEmpty), \(admin.name)) RETURNING id
                """,
                logger: call.logger
            )
            var id: Int64 = 0
            for try await value in inserted.decode(Int64.self) { id = value }
            try await connection.query(
                """
                INSERT INTO settlement.subsidy_shares (allocation_id, school_code, weight, amount_fen)
                SELECT \(id), s, w, a FROM unnest(\(weights.map(\.0))::text[], \(weights.map(\.1))::bigint[], \(amounts)::bigint[]) AS x(s, w, a)
                """,
                logger: call.logger
            )
            return try await Self.allocations(id: id, year: nil, school: nil, connection, call.logger)[0]
        }
    }

    @Sendable
    func getSubsidyAllocation(_ request: Xcert_Settlement_V1_GetSubsidyAllocationRequest, _ call: RequestContext) async throws -> Xcert_Settlement_V1_SubsidyAllocation {
        let school = try await self.reader(call)
        return try await self.context.database.transaction(call) { connection in
            guard let allocation = try await Self.allocations(id: request.id, year: nil, school: school, connection, call.logger).first else {
                throw RPCError(.notFound, "there is no subsidy allocation \(request.id)")
            }
            return allocation
        }
    }

    @Sendable
    func listSubsidyAllocations(_ request: Xcert_Settlement_V1_ListSubsidyAllocationsRequest, _ call: RequestContext) async throws -> Xcert_Settlement_V1_ListSubsidyAllocationsResponse {
        _ = try await self.reader(call)
        return try await self.context.database.transaction(call) { connection in
            var response = Xcert_Settlement_V1_ListSubsidyAllocationsResponse()
            response.allocations = try await Self.allocations(id: nil, year: request.year == 0 ? nil : request.year, school: nil, connection, call.logger)
                .map { allocation in
                    var allocation = allocation
                    allocation.shares = []
                    return allocation
                }
            return response
        }
    }

    /// nil for the province and services; a school's code for a school.
    private func reader(_ call: RequestContext) async throws -> String? {
        try call.readScope().school
    }

    /// Allocations by id with their shares (only `school`'s, when set).
    static func allocations(id: Int64?, year: Int32?, school: String?, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Xcert_Settlement_V1_SubsidyAllocation] {
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
