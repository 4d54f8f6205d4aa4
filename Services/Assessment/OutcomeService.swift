import Logging
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.assessment.v1.OutcomeService`: exam outcomes and their exact rates, as the
/// followed rosters and qualifications add up. A school sees its own outcomes, an
/// organization its certificates', the province and services everything.
struct OutcomeService: Xcert_Assessment_V1_OutcomeService.Handler {
    let context: ServiceContext

    @Sendable
    func listOutcomes(
        _ request: Xcert_Assessment_V1_ListOutcomesRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_ListOutcomesResponse {
        let scope = try await self.scope(call, naming: request.schoolCode)
        var response = Xcert_Assessment_V1_ListOutcomesResponse()
        response.outcomes = try await self.outcomes(request, scope: scope, call)
        response.total = Self.total(of: response.outcomes)
        return response
    }

    @Sendable
    func getDeclarationTable(
        _ request: Xcert_Assessment_V1_GetDeclarationTableRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_GetDeclarationTableResponse {
        let scope = try await self.scope(call, naming: "")
        try FieldChecks.checkYear(request.year)
        var filter = Xcert_Assessment_V1_ListOutcomesRequest()
        filter.year = request.year
        filter.certificateCode = request.certificateCode
        let outcomes = try await self.outcomes(filter, scope: scope, call)
        let schools = try await self.context.referenceData(for: call).allSchools().mapValues(\.name)
        let certificates = Dictionary(
            try await self.context.referenceData(for: call).allCertificates(of: nil).map { ($0.code, $0.name) },
            uniquingKeysWith: { first, _ in first })
        var response = Xcert_Assessment_V1_GetDeclarationTableResponse()
        response.lines = outcomes.map { outcome in
            var line = Xcert_Assessment_V1_DeclarationLine()
            line.certificateCode = outcome.certificateCode
            line.certificateName = certificates[outcome.certificateCode] ?? ""
            line.level = outcome.level
            line.schoolCode = outcome.schoolCode
            line.schoolName = schools[outcome.schoolCode] ?? ""
            (line.declared, line.approved, line.completed, line.passed) = (
                outcome.declared, outcome.approved, outcome.completed, outcome.passed
            )
            line.passRate = outcome.passRate
            return line
        }
        let total = Self.total(of: outcomes)
        response.total.certificateName = "合计"
        (response.total.declared, response.total.approved, response.total.completed, response.total.passed) = (
            total.declared, total.approved, total.completed, total.passed
        )
        response.total.passRate = total.passRate
        return response
    }

    @Sendable
    func getExamCoverageTable(
        _ request: Xcert_Assessment_V1_GetExamCoverageTableRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_GetExamCoverageTableResponse {
        let scope = try await self.scope(call, naming: "")
        try FieldChecks.checkYear(request.year)
        var certificates: [String]?
        if let organization = scope.organization {
            certificates = try await self.context.referenceData(for: call).allCertificates(of: organization).map(\.code)
        }
        let outcomes = try await self.context.database.read(call) { connection in
            try await OutcomeStore.certificateOutcomes(
                year: request.year, school: scope.school, certificate: request.certificateCode.nonEmpty, certificates: certificates,
                connection, call.logger)
        }
        let schools = try await self.context.referenceData(for: call).allSchools().mapValues(\.name)
        let names = Dictionary(
            try await self.context.referenceData(for: call).allCertificates(of: nil).map { ($0.code, $0.name) },
            uniquingKeysWith: { first, _ in first })
        var response = Xcert_Assessment_V1_GetExamCoverageTableResponse()
        // Schools with a qualification in force: those whose scale is to be examined.
        for outcome in outcomes where outcome.qualifiedScale > 0 {
            var line = Xcert_Assessment_V1_ExamCoverageLine()
            line.certificateCode = outcome.certificateCode
            line.certificateName = names[outcome.certificateCode] ?? ""
            line.schoolCode = outcome.schoolCode
            line.schoolName = schools[outcome.schoolCode] ?? ""
            line.qualifiedScale = outcome.qualifiedScale
            line.examined = outcome.completed
            line.shortfall = PilotCaps.examShortfall(qualifiedScale: outcome.qualifiedScale, examined: outcome.completed)
            line.examRate = Self.rate(line.examined, over: line.qualifiedScale)
            if request.shortOnly && line.shortfall == 0 { continue }
            response.lines.append(line)
            response.total.qualifiedScale += line.qualifiedScale
            response.total.examined += line.examined
            response.total.shortfall += line.shortfall
        }
        response.total.certificateName = "合计"
        response.total.examRate = Self.rate(response.total.examined, over: response.total.qualifiedScale)
        return response
    }

    @Sendable
    func listCertificateOutcomes(
        _ request: Xcert_Assessment_V1_ListCertificateOutcomesRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_ListCertificateOutcomesResponse {
        let scope = try await self.scope(call, naming: request.schoolCode)
        try FieldChecks.checkYear(request.year)
        var certificates: [String]?
        if let organization = scope.organization {
            certificates = try await self.context.referenceData(for: call).allCertificates(of: organization).map(\.code)
        }
        let school = scope.school ?? request.schoolCode.nonEmpty
        return try await self.context.database.read(call) { connection in
            // Every school with a qualification in force or with counted candidates.
            let outcomes = try await OutcomeStore.certificateOutcomes(
                year: request.year, school: school, certificate: request.certificateCode.nonEmpty, certificates: certificates,
                connection, call.logger
            )
            var response = Xcert_Assessment_V1_ListCertificateOutcomesResponse()
            for var outcome in outcomes {
                outcome.registrationRate = Self.rate(outcome.declared, over: outcome.qualifiedScale)
                outcome.participationRate = Self.rate(outcome.completed, over: outcome.approved)
                outcome.passRate = Self.rate(outcome.passed, over: outcome.completed)
                response.outcomes.append(outcome)
            }
            return response
        }
    }

    @Sendable
    func getFollowing(
        _ request: Xcert_Assessment_V1_GetFollowingRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_GetFollowingResponse {
        // One statement, one snapshot: read apart, a page committed between the reads showed
        // rosters counted at an older cursor (or the other way round).
        let following = try await self.context.database.read(call) { connection in
            try await OutcomeStore.following(
                rosterFeed: OutcomeFollowers.rosterFeed, qualificationFeed: OutcomeFollowers.qualificationFeed, connection, call.logger)
        }
        var response = Xcert_Assessment_V1_GetFollowingResponse()
        response.rostersCounted = following.rostersCounted
        response.rosterCursor = following.rosterCursor
        response.qualificationCursor = following.qualificationCursor
        return response
    }

    @Sendable
    func rebuildOutcomes(
        _ request: Xcert_Assessment_V1_RebuildOutcomesRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_GetFollowingResponse {
        let admin = try call.caller()
        let feeds = [OutcomeFollowers.rosterFeed, OutcomeFollowers.qualificationFeed]
        _ = try await self.context.idempotency.perform(call) { connection in
            // Holding the cursors keeps a follower from storing a page read before the reset.
            try await OutcomeStore.forget(following: feeds, connection, call.logger)
            call.logger.notice("outcomes forgotten; following the feeds again from their start", metadata: ["by": "\(admin.name)"])
            return Xcert_Assessment_V1_GetFollowingResponse()
        }
        // Follow again now, not at the followers' next look.
        for feed in feeds { self.context.feedWakeUps.wake(feed) }
        return try await self.getFollowing(Xcert_Assessment_V1_GetFollowingRequest(), call)
    }

    @Sendable
    func listOutcomeChanges(
        _ request: Xcert_Assessment_V1_ListOutcomeChangesRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_ListOutcomeChangesResponse {
        let page = try await FeedPaging.changes(after: request.after, limit: request.limit, cursor: { $0.cursor }, self.context, call) {
            after, limit, connection, logger in
            try await OutcomeStore.changes(after: after, limit: limit, connection, logger)
        }
        var response = Xcert_Assessment_V1_ListOutcomeChangesResponse()
        (response.changes, response.nextCursor) = page
        return response
    }

    // MARK: - Helpers

    /// Outcomes in force that `scope` may see, by year, certificate, level and school.
    private func outcomes(
        _ request: Xcert_Assessment_V1_ListOutcomesRequest, scope: ReadScope, _ call: RequestContext
    ) async throws -> [Xcert_Assessment_V1_Outcome] {
        let level = request.level == .unspecified ? nil : Int32(request.level.rawValue)
        let school = scope.school ?? request.schoolCode.nonEmpty
        return try await self.context.database.read(call) { connection in
            try await OutcomeStore.outcomes(
                school: school, organization: scope.organization, certificate: request.certificateCode.nonEmpty, level: level,
                year: request.year, connection, call.logger
            ).map(Self.withRates)
        }
    }

    /// The sum of outcomes (合计), with its rates.
    static func total(of outcomes: [Xcert_Assessment_V1_Outcome]) -> Xcert_Assessment_V1_Outcome {
        var total = Xcert_Assessment_V1_Outcome()
        for outcome in outcomes {
            total.declared += outcome.declared
            total.approved += outcome.approved
            total.completed += outcome.completed
            total.passed += outcome.passed
        }
        return self.withRates(total)
    }

    private func scope(_ call: RequestContext, naming school: String) async throws -> ReadScope {
        let scope = try call.readScope()
        if let own = scope.school, !school.isEmpty, school != own {
            throw RPCError.notFound("school \(school)'s outcomes")
        }
        return scope
    }

    static func withRates(_ outcome: Xcert_Assessment_V1_Outcome) -> Xcert_Assessment_V1_Outcome {
        var outcome = outcome
        outcome.participationRate = self.rate(outcome.completed, over: outcome.approved)
        outcome.passRate = self.rate(outcome.passed, over: outcome.completed)
        return outcome
    }

    /// An exact rate, or no data when the denominator is 0.
    static func rate(_ numerator: Int64, over denominator: Int64) -> Xcert_Assessment_V1_RateOrNoData {
        var rate = Xcert_Assessment_V1_RateOrNoData()
        if denominator > 0 {
            rate.value.numerator = numerator
            rate.value.denominator = denominator
        }
        return rate
    }
}
