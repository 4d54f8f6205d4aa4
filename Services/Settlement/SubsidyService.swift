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
    func allocateSubsidy(
        _ request: Xcert_Settlement_V1_AllocateSubsidyRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_SubsidyAllocation {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year)
        checks.require(
            (1...1_000_000_000_000).contains(request.budget.fen), "budget.fen",
            "must be 1 fen to 10,000,000,000 yuan, not \(request.budget.fen)")
        checks.require((1...200).contains(request.title.trimmed.count), "title", "must be 1 to 200 characters")
        var seen = Set<String>()
        for (index, weight) in request.weights.enumerated() {
            checks.require(weight.schoolCode.isDigits(10), "weights[\(index)].school_code", "must be a school's 10-digit code")
            checks.require(weight.weight >= 0, "weights[\(index)].weight", "must not be negative")
            if !seen.insert(weight.schoolCode).inserted {
                checks.fail("weights[\(index)].school_code", "\(weight.schoolCode) is named twice")
            }
        }
        checks.require(
            request.weights.isEmpty || request.weights.contains { $0.weight > 0 }, "weights", "at least one weight must be more than 0")
        try checks.check()
        let schools = try await self.context.referenceData(for: call).allSchools()
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
                    throw RPCError(
                        .failedPrecondition, "no school completed an assessment in \(request.year) yet; allocate by weights instead")
                }
            }
            let amounts: [Int64]
            do {
                amounts = try Apportionment.largestRemainder(total: request.budget.fen, weights: weights.map(\.1))
            } catch let refusal as Apportionment.Refusal {
                throw refusal.at(field: "weights")
            }
            let id = try await SubsidyStore.insert(
                year: request.year, title: request.title.trimmed, budgetFen: request.budget.fen, byCompleted: request.weights.isEmpty,
                allocatedBy: admin.name, weights: weights, amounts: amounts, connection, call.logger
            )
            return try await SubsidyStore.allocations(id: id, year: nil, school: nil, connection, call.logger)[0]
        }
    }

    @Sendable
    func getSubsidyAllocation(
        _ request: Xcert_Settlement_V1_GetSubsidyAllocationRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_SubsidyAllocation {
        let school = try await self.reader(call)
        return try await self.context.database.read(call) { connection in
            let allocations = try await SubsidyStore.allocations(id: request.id, year: nil, school: school, connection, call.logger)
            guard let allocation = allocations.first else {
                throw RPCError(.notFound, "there is no subsidy allocation \(request.id)")
            }
            return allocation
        }
    }

    @Sendable
    func listSubsidyAllocations(
        _ request: Xcert_Settlement_V1_ListSubsidyAllocationsRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_ListSubsidyAllocationsResponse {
        _ = try await self.reader(call)
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Settlement_V1_ListSubsidyAllocationsResponse()
            let year = request.year == 0 ? nil : request.year
            response.allocations = try await SubsidyStore.allocations(id: nil, year: year, school: nil, connection, call.logger)
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
}
