import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.assessment.v1.ResultService`: the year's results by the province's result
/// policy: each evaluated school's final total, rank within its school type, tier, and
/// exit warnings.
struct ResultService: Xcert_Assessment_V1_ResultService.Handler {
    let context: ServiceContext

    /// Without a policy of the province's own: 优秀 from 90, 良好 from 75, 合格 from 60
    /// points; a warning below 60 points or below a 30 % registration rate.
    static var defaultPolicy: Xcert_Assessment_V1_ResultPolicy {
        var policy = Xcert_Assessment_V1_ResultPolicy()
        policy.tiers = [("优秀", 900), ("良好", 750), ("合格", 600)].map { name, minimum in
            var tier = Xcert_Assessment_V1_Tier()
            tier.name = name
            tier.minTotalTenths = Int32(minimum)
            return tier
        }
        policy.failingTotalTenths = 600
        policy.registrationFloorBasisPoints = 3000
        return policy
    }

    @Sendable
    func setResultPolicy(
        _ request: Xcert_Assessment_V1_SetResultPolicyRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_ResultPolicy {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year, "year", "the evaluated year")
        let policy = request.policy
        var names = Set<String>()
        for (index, tier) in policy.tiers.enumerated() {
            checks.require((1...20).contains(tier.name.trimmed.count), "policy.tiers[\(index)].name", "must be 1 to 20 characters")
            if !names.insert(tier.name).inserted { checks.fail("policy.tiers[\(index)].name", "\(tier.name) is listed twice") }
            checks.require((0...2000).contains(tier.minTotalTenths), "policy.tiers[\(index)].min_total_tenths", "must be 0 to 2000 tenths")
        }
        checks.require((0...2000).contains(policy.failingTotalTenths), "policy.failing_total_tenths", "must be 0 to 2000 tenths")
        checks.require(
            (0...10_000).contains(policy.registrationFloorBasisPoints), "policy.registration_floor_basis_points", "must be 0 to 10000")
        try checks.check()
        let json = try policy.jsonString(options: .stored)
        return try await self.context.idempotency.perform(call) { connection in
            try await ResultStore.setPolicy(year: request.year, json: json, setBy: admin.name, connection, call.logger)
            return try await Self.policy(request.year, connection, call.logger)
        }
    }

    @Sendable
    func getResultPolicy(
        _ request: Xcert_Assessment_V1_GetResultPolicyRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_ResultPolicy {
        return try await self.context.database.read(call) { connection in
            try await Self.policy(request.year, connection, call.logger)
        }
    }

    @Sendable
    func listResults(
        _ request: Xcert_Assessment_V1_ListResultsRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_ListResultsResponse {
        let reader = try call.readScope()
        try FieldChecks.checkYear(request.year, "year", "the evaluated year")
        let schools = try await self.context.referenceData(for: call).allSchools()
        // Every school's measures: a school's rank is among all schools of its type.
        let peers = await PeerMeasures.fetch(year: request.year, school: nil, self.context, call)
        var response = try await self.context.database.read(call) { connection in
            var response = Xcert_Assessment_V1_ListResultsResponse()
            response.policy = try await Self.policy(request.year, connection, call.logger)
            for code in try await EvaluationStore.schools(evaluatedIn: request.year, connection, call.logger) {
                let evaluation = try await EvaluationService.evaluation(code, request.year, peers: peers, connection, call.logger)
                var result = Xcert_Assessment_V1_SchoolResult()
                result.schoolCode = code
                result.schoolName = schools[code]?.name ?? ""
                result.schoolType = schools[code]?.type ?? .unspecified
                result.totalTenths = evaluation.finalTotalTenths
                result.reviewed = evaluation.state == .locked
                if let measure = evaluation.items.first(where: { $0.computed && $0.code == "1-1" }), measure.hasMeasure {
                    result.registrationRate.value = measure.measure
                }
                response.results.append(result)
            }
            return response
        }
        Self.grade(&response)
        if let own = reader.school {
            response.results = response.results.filter { $0.schoolCode == own }
        }
        return response
    }

    @Sendable
    func listOrganizationResults(
        _ request: Xcert_Assessment_V1_ListOrganizationResultsRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_ListOrganizationResultsResponse {
        let reader = try call.readScope()
        try FieldChecks.checkYear(request.year, "year", "the evaluated year")
        var organization = request.organizationID == 0 ? nil : request.organizationID
        if let own = reader.organization {
            guard organization == nil || organization == own else {
                throw RPCError.notFound("the results of organization \(request.organizationID)")
            }
            organization = own
        }
        var coverageRequest = Xcert_Registry_V1_GetSiteCoverageRequest()
        coverageRequest.year = request.year
        async let coverage = self.context.peers.call(
            "registry", Xcert_Registry_V1_SiteService.Method.getSiteCoverage, coverageRequest, context: call
        )
        async let certificates = self.context.referenceData(for: call).allCertificates(of: organization)
        async let cities = self.context.referenceData(for: call).allCities()
        let counts = try await self.context.database.read(call) { connection in
            var counts: [String: (completed: Int64, passed: Int64)] = [:]
            for count in try await OutcomeStore.levelCounts(year: request.year, organization: organization, connection, call.logger) {
                counts["\(count.certificateCode)/\(count.level)"] = (count.completed, count.passed)
            }
            return counts
        }
        let byOrganization = Dictionary(grouping: try await certificates, by: \.organizationID)
        let cityCodes = try await cities.map(\.code)
        var response = Xcert_Assessment_V1_ListOrganizationResultsResponse()
        for covered in try await coverage.organizations where organization == nil || covered.organizationID == organization {
            var result = Xcert_Assessment_V1_OrganizationResult()
            result.organizationID = covered.organizationID
            result.organizationName = covered.organizationName
            for certificate in (byOrganization[covered.organizationID] ?? []).sorted(by: { $0.code < $1.code }) {
                for level in certificate.levels.sorted(by: { $0.rawValue < $1.rawValue }) {
                    let count = counts["\(certificate.code)/\(level.rawValue)"] ?? (0, 0)
                    var rate = Xcert_Assessment_V1_LevelPassRate()
                    rate.certificateCode = certificate.code
                    rate.certificateName = certificate.name
                    rate.level = level
                    rate.completed = count.completed
                    rate.passed = count.passed
                    rate.passRate = OutcomeService.rate(count.passed, over: count.completed)
                    result.passRates.append(rate)
                }
            }
            result.coveredCities = covered.coveredCities
            result.cities = covered.cities
            result.cityCoverage = OutcomeService.rate(Int64(covered.coveredCities), over: Int64(covered.cities))
            let coveredCodes = Set(covered.coveredCityCodes)
            result.uncoveredCityCodes = cityCodes.filter { !coveredCodes.contains($0) }
            response.organizations.append(result)
        }
        return response
    }

    /// Ranks within each school type, tiers and warnings by the response's policy.
    static func grade(_ response: inout Xcert_Assessment_V1_ListResultsResponse) {
        let policy = response.policy
        let tiers = policy.tiers.map { (name: $0.name, minimum: Int($0.minTotalTenths)) }
        for type in Set(response.results.map(\.schoolType.rawValue)) {
            let indices = response.results.indices.filter { response.results[$0].schoolType.rawValue == type }
            let ranks = Ranking.competitionRanks(indices.map { Int(response.results[$0].totalTenths) })
            for (index, rank) in zip(indices, ranks) { response.results[index].rankInType = Int32(rank) }
        }
        for index in response.results.indices {
            var result = response.results[index]
            result.tier = Ranking.tier(of: Int(result.totalTenths), among: tiers) ?? ""
            if result.totalTenths < policy.failingTotalTenths {
                result.warnings.append(
                    """
                    total \(Points.text(tenths: Int(result.totalTenths))) is below the failing threshold \
                    \(Points.text(tenths: Int(policy.failingTotalTenths)))
                    """
                )
            }
            let floor = Rate(Int64(policy.registrationFloorBasisPoints), over: 10_000)
            if !result.registrationRate.hasValue {
                result.warnings.append("no registration rate: no qualified pilot scale or no candidates (floor \(floor.percentage()))")
            } else if Rate(result.registrationRate.value.numerator, over: result.registrationRate.value.denominator).isAtLeast(floor)
                == false
            {
                let rate = Rate(result.registrationRate.value.numerator, over: result.registrationRate.value.denominator)
                result.warnings.append("registration rate \(rate.percentage()) is below the floor \(floor.percentage())")
            }
            response.results[index] = result
        }
        response.results.sort {
            ($0.schoolType.rawValue, $0.rankInType, $0.schoolCode) < ($1.schoolType.rawValue, $1.rankInType, $1.schoolCode)
        }
    }

    /// The policy of `year`: the province's, else the default.
    static func policy(_ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Assessment_V1_ResultPolicy {
        try await ResultStore.policy(year, connection, logger) ?? self.defaultPolicy
    }

}
