import Foundation
import Logging
import PostgresNIO
import XCertAPI
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.assessment.v1.SchemeService`: the province's evaluation schemes per year. A
/// draft can be changed; a published version is in use and frozen, so a change makes a
/// new version. Province admins change them; every authenticated caller reads them.
struct SchemeService: Xcert_Assessment_V1_SchemeService.Handler {
    let context: ServiceContext

    @Sendable
    func getDefaultTemplate(
        _ request: Xcert_Assessment_V1_GetDefaultTemplateRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_Scheme {
        var scheme = Xcert_Assessment_V1_Scheme()
        scheme.indicators = DefaultScheme.indicators
        return Self.withTotals(scheme)
    }

    @Sendable
    func createScheme(_ request: Xcert_Assessment_V1_CreateSchemeRequest, _ call: RequestContext) async throws -> Xcert_Assessment_V1_Scheme
    {
        let admin = try call.caller()
        var checks = FieldChecks()
        Self.checkYear(request.year, &checks)
        let indicators = request.indicators.isEmpty ? DefaultScheme.indicators : request.indicators
        SchemeChecks.check(indicators, field: "indicators", &checks)
        checks.require(request.note.count <= 1000, "note", "must be at most 1000 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let version = try await SchemeStore.createDraft(
                year: request.year, indicators: indicators, note: request.note, createdBy: admin.name, connection, call.logger
            )
            return try await Self.scheme(year: request.year, version: version, connection, call.logger)
        }
    }

    @Sendable
    func updateScheme(_ request: Xcert_Assessment_V1_UpdateSchemeRequest, _ call: RequestContext) async throws -> Xcert_Assessment_V1_Scheme
    {
        var checks = FieldChecks()
        Self.checkYear(request.year, &checks)
        checks.require(request.version > 0, "version", "must name a draft version")
        SchemeChecks.check(request.indicators, field: "indicators", &checks)
        checks.require(request.note.count <= 1000, "note", "must be at most 1000 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let current = try await Self.scheme(year: request.year, version: request.version, forUpdate: true, connection, call.logger)
            guard current.state == .draft else {
                throw RPCError(
                    .failedPrecondition,
                    """
                    version \(current.version) of \(current.year) is published and in use, so it is frozen; \
                    create a new version to change it
                    """
                )
            }
            try await SchemeStore.update(
                year: request.year, version: request.version, indicators: request.indicators, note: request.note, connection, call.logger
            )
            return try await Self.scheme(year: request.year, version: request.version, connection, call.logger)
        }
    }

    @Sendable
    func publishScheme(
        _ request: Xcert_Assessment_V1_PublishSchemeRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_Scheme {
        return try await self.context.idempotency.perform(call) { connection in
            let current = try await Self.scheme(year: request.year, version: request.version, forUpdate: true, connection, call.logger)
            guard current.state == .draft else { return current }
            try await SchemeStore.publish(year: request.year, version: request.version, connection, call.logger)
            return try await Self.scheme(year: request.year, version: request.version, connection, call.logger)
        }
    }

    @Sendable
    func getScheme(_ request: Xcert_Assessment_V1_GetSchemeRequest, _ call: RequestContext) async throws -> Xcert_Assessment_V1_Scheme {
        return try await self.context.database.read(call) { connection in
            guard request.version == 0 else {
                return try await Self.scheme(year: request.year, version: request.version, connection, call.logger)
            }
            guard
                let inUse = try await SchemeStore.schemes(year: request.year, connection, call.logger).last(where: {
                    $0.state == .published
                })
            else {
                throw RPCError(.notFound, "no scheme of \(request.year) is published yet")
            }
            return inUse
        }
    }

    @Sendable
    func listSchemes(
        _ request: Xcert_Assessment_V1_ListSchemesRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_ListSchemesResponse {
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Assessment_V1_ListSchemesResponse()
            response.schemes = try await SchemeStore.schemes(year: request.year == 0 ? nil : request.year, connection, call.logger)
            return response
        }
    }

    // MARK: - Helpers

    /// Version `version` of the `year` scheme (its row locked when `forUpdate`); not found
    /// when there is none.
    static func scheme(
        year: Int32, version: Int32, forUpdate: Bool = false, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Assessment_V1_Scheme {
        guard let scheme = try await SchemeStore.scheme(year: year, version: version, forUpdate: forUpdate, connection, logger) else {
            throw RPCError(.notFound, "there is no version \(version) of the \(year) scheme")
        }
        return scheme
    }

    static func withTotals(_ scheme: Xcert_Assessment_V1_Scheme) -> Xcert_Assessment_V1_Scheme {
        var scheme = scheme
        scheme.totalMaxPointsTenths = scheme.indicators.filter { !$0.bonus }.reduce(0) { $0 + $1.maxPointsTenths }
        scheme.bonusMaxPointsTenths = scheme.indicators.filter(\.bonus).reduce(0) { $0 + $1.maxPointsTenths }
        return scheme
    }

    private static func checkYear(_ year: Int32, _ checks: inout FieldChecks) {
        checks.requireYear(year, "year", "the evaluated year")
    }
}

/// A scheme's indicators, checked item by item (`indicators[3].rate_rule`).
enum SchemeChecks {
    static func check(_ indicators: [Xcert_Assessment_V1_Indicator], field: String, _ checks: inout FieldChecks) {
        checks.require((1...100).contains(indicators.count), field, "must list 1 to 100 indicators")
        var codes = Set<String>()
        var sources = Set<Int>()
        for (index, indicator) in indicators.enumerated() {
            let item = "\(field)[\(index)]"
            let codeIsWellFormed =
                !indicator.code.isEmpty && indicator.code.count <= 16
                && indicator.code.split(separator: "-", omittingEmptySubsequences: false).allSatisfy {
                    !$0.isEmpty && $0.allSatisfy(\.isNumber)
                }
            checks.require(codeIsWellFormed, "\(item).code", "must be numbers joined by -, e.g. 1-4-1; not \"\(indicator.code)\"")
            if !codes.insert(indicator.code).inserted { checks.fail("\(item).code", "\(indicator.code) is listed twice") }
            checks.require(
                (1...100).contains(indicator.firstLevel.trimmed.count), "\(item).first_level", "must name its first-level indicator")
            checks.require((1...200).contains(indicator.name.trimmed.count), "\(item).name", "must be 1 to 200 characters")
            checks.require(
                (1...1000).contains(indicator.maxPointsTenths), "\(item).max_points_tenths", "must be 1 to 1000 tenths (0.1 to 100 points)")
            switch indicator.kind {
            case .manual:
                checks.require(
                    indicator.source == .unspecified && indicator.rule == nil, "\(item).kind", "a manual item has no measure source or rule"
                )
            case .computed:
                checks.require(indicator.source != .unspecified, "\(item).source", "a computed item needs the source of its measure")
                if indicator.source != .unspecified, !sources.insert(indicator.source.rawValue).inserted {
                    checks.fail("\(item).source", "\(indicator.source) is measured by another item already")
                }
                self.checkRule(indicator, item, &checks)
            default:
                checks.fail("\(item).kind", "must be INDICATOR_KIND_MANUAL or INDICATOR_KIND_COMPUTED")
            }
        }
    }

    private static func checkRule(_ indicator: Xcert_Assessment_V1_Indicator, _ item: String, _ checks: inout FieldChecks) {
        let isRate = [
            .registrationRate, .participationRate, .passRate, .feesPaidOnTime, .feesPaidShare, .certifiedTraining, .periodicReports,
        ].contains(
            indicator.source)
        switch indicator.rule {
        case .rateRule(let rule)?:
            checks.require(isRate, "\(item).rate_rule", "\(indicator.source) is a count: give a count_rule")
            checks.require(
                0 <= rule.lowBasisPoints && rule.lowBasisPoints < rule.highBasisPoints && rule.highBasisPoints <= 10_000,
                "\(item).rate_rule",
                "needs 0 ≤ low_basis_points < high_basis_points ≤ 10000; not \(rule.lowBasisPoints) and \(rule.highBasisPoints)"
            )
        case .countRule(let rule)?:
            checks.require(!isRate, "\(item).count_rule", "\(indicator.source) is a rate: give a rate_rule")
            checks.require((1...1000).contains(rule.pointsTenthsPerUnit), "\(item).count_rule.points_tenths_per_unit", "must be 1 to 1000")
        case nil:
            checks.fail("\(item).rule", "a computed item needs a rate_rule or a count_rule")
        }
    }
}
