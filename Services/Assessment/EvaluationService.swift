import Foundation
import Logging
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.assessment.v1.EvaluationService`: a school's self-evaluation against the year's
/// scheme in use, and the province's review, which locks it. A school reads and submits
/// its own; the province reads all, may submit on a school's behalf, and reviews.
struct EvaluationService: Xcert_Assessment_V1_EvaluationService.Handler {
    let context: ServiceContext

    @Sendable
    func submitSelfEvaluation(
        _ request: Xcert_Assessment_V1_SubmitSelfEvaluationRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_Evaluation {
        let principal = try call.caller(actingForSchool: request.schoolCode, record: "the evaluation of school \(request.schoolCode)")
        try Self.checkKey(request.schoolCode, request.year)
        // The report's own checks go with the scores' (known once the scheme is read): one
        // answer names every problem.
        var reportChecks = FieldChecks()
        reportChecks.require(
            !request.report.trimmed.isEmpty, "report", "must be the school's self-evaluation report (自评报告), not empty")
        reportChecks.require(
            request.report.count <= Self.reportCharacters, "report",
            "must be at most \(Self.reportCharacters) characters; it has \(request.report.count)")
        for (index, attachment) in request.attachments.enumerated() {
            reportChecks.requireAttachment(attachment, "attachments[\(index)]")
        }
        let upfront = reportChecks
        _ = try await self.context.referenceData(for: call).school(request.schoolCode, field: "school_code")
        let peers = await PeerMeasures.fetch(year: request.year, school: request.schoolCode, self.context, call)
        return try await self.context.idempotency.perform(call) { connection in
            let now = Date()
            let existing = try await EvaluationStore.header(request.schoolCode, request.year, connection, call.logger)
            var lifecycle = EvaluationLifecycle(school: request.schoolCode, year: request.year, state: existing?.state)
            let submitted = try lifecycle.submit(by: principal.name, now: now)
            let scheme: Xcert_Assessment_V1_Scheme
            if let existing {
                scheme = try await SchemeService.scheme(year: request.year, version: existing.schemeVersion, connection, call.logger)
            } else {
                guard
                    let inUse = try await SchemeStore.schemes(year: request.year, connection, call.logger).last(where: {
                        $0.state == .published
                    })
                else {
                    throw RPCError(
                        .failedPrecondition, "no scheme of \(request.year) is published yet; the province publishes the year's scheme first"
                    )
                }
                scheme = inUse
            }
            var checks = upfront
            let manual = Self.manualItems(of: scheme)
            var scores: [String: Xcert_Assessment_V1_SelfScore] = [:]
            for (index, score) in request.scores.enumerated() {
                let field = "scores[\(index)]"
                guard let item = Self.item(score.code, of: scheme, field: "\(field).code", &checks) else { continue }
                if scores.updateValue(score, forKey: score.code) != nil { checks.fail("\(field).code", "\(score.code) is scored twice") }
                checks.require(
                    (0...item.maxPointsTenths).contains(score.pointsTenths), "\(field).points_tenths",
                    "must be 0 to the item's maximum, \(item.maxPointsTenths) tenths; not \(score.pointsTenths)")
                checks.require(
                    score.pointsTenths == 0 || !score.evidence.isEmpty, "\(field).evidence",
                    "a score above 0 needs evidence (name and SHA-256 of each document)")
                for (position, evidence) in score.evidence.enumerated() {
                    checks.require(
                        (1...200).contains(evidence.name.trimmed.count), "\(field).evidence[\(position)].name",
                        "must be the document's name, 1 to 200 characters")
                    checks.require(
                        evidence.sha256.isSHA256Hex, "\(field).evidence[\(position)].sha256",
                        "must be the document's SHA-256 as 64 lowercase hex digits")
                }
            }
            try checks.check()
            // 003: materials are due by the year's due day, or the school's extension.
            if let calendar = try await EvaluationCalendarStore.calendar(year: request.year, connection, call.logger) {
                try calendar.calendar.requireOpen(for: request.schoolCode, at: now)
            }

            try await EvaluationStore.record(
                submitted, school: request.schoolCode, year: request.year, schemeVersion: scheme.version, connection, call.logger)
            try await EvaluationStore.saveReport(
                request.report, attachments: request.attachments, school: request.schoolCode, year: request.year, connection, call.logger)
            // Every manual item, scored or not: an item the school left out has 0 points.
            let entered = manual.map { item -> Xcert_Assessment_V1_SelfScore in
                var score = Xcert_Assessment_V1_SelfScore()
                score.code = item.code
                score.pointsTenths = scores[item.code]?.pointsTenths ?? 0
                score.evidence = scores[item.code]?.evidence ?? []
                return score
            }
            try await EvaluationStore.replaceSelfScores(entered, school: request.schoolCode, year: request.year, connection, call.logger)
            return try await Self.evaluation(request.schoolCode, request.year, peers: peers, connection, call.logger)
        }
    }

    @Sendable
    func reviewEvaluation(
        _ request: Xcert_Assessment_V1_ReviewEvaluationRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_Evaluation {
        let admin = try call.caller()
        try Self.checkKey(request.schoolCode, request.year)
        let peers = await PeerMeasures.fetch(year: request.year, school: request.schoolCode, self.context, call)
        return try await self.context.idempotency.perform(call) { connection in
            let header = try await EvaluationStore.header(request.schoolCode, request.year, connection, call.logger)
            var lifecycle = EvaluationLifecycle(school: request.schoolCode, year: request.year, state: header?.state)
            let locked = try lifecycle.review(reviewer: admin.name, now: Date())
            guard let existing = header else { throw RPCError(.internal, "an evaluation reviewed without its record") }
            let scheme = try await SchemeService.scheme(year: request.year, version: existing.schemeVersion, connection, call.logger)
            var checks = FieldChecks()
            var scored = Set<String>()
            for (index, score) in request.scores.enumerated() {
                let field = "scores[\(index)]"
                guard let item = Self.item(score.code, of: scheme, field: "\(field).code", &checks) else { continue }
                if !scored.insert(score.code).inserted { checks.fail("\(field).code", "\(score.code) is scored twice") }
                checks.require(
                    (0...item.maxPointsTenths).contains(score.pointsTenths), "\(field).points_tenths",
                    "must be 0 to the item's maximum, \(item.maxPointsTenths) tenths; not \(score.pointsTenths)")
                checks.require(score.comment.count <= 1000, "\(field).comment", "must be at most 1000 characters")
            }
            let missing = Self.manualItems(of: scheme).map(\.code).filter { !scored.contains($0) }
            checks.require(missing.isEmpty, "scores", "must score every manual item; missing \(missing.joined(separator: ", "))")
            try checks.check()
            try await EvaluationStore.recordReview(request.scores, school: request.schoolCode, year: request.year, connection, call.logger)
            // The computed items' points as they stand now are what the review locks: all of them.
            let computed = try await Self.computedItems(
                scheme, school: request.schoolCode, year: request.year, peers: peers, connection, call.logger)
            if let pending = computed.first(where: { !$0.pendingReason.isEmpty }) {
                throw RPCError(
                    .unavailable,
                    """
                    the review would lock computed item \(pending.code) without its measure: \
                    it \(pending.pendingReason); retry when it answers
                    """
                )
            }
            try await EvaluationStore.freezeComputed(computed, school: request.schoolCode, year: request.year, connection, call.logger)
            try await EvaluationStore.record(
                locked, school: request.schoolCode, year: request.year, schemeVersion: existing.schemeVersion, connection, call.logger)
            return try await Self.evaluation(request.schoolCode, request.year, peers: peers, connection, call.logger)
        }
    }

    @Sendable
    func getEvaluation(
        _ request: Xcert_Assessment_V1_GetEvaluationRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_Evaluation {
        _ = try call.caller(actingForSchool: request.schoolCode, record: "the evaluation of school \(request.schoolCode)")
        let peers = await PeerMeasures.fetch(year: request.year, school: request.schoolCode, self.context, call)
        return try await self.context.database.read(call) { connection in
            try await Self.evaluation(request.schoolCode, request.year, peers: peers, connection, call.logger)
        }
    }

    // MARK: - Calendar

    @Sendable
    func setEvaluationCalendar(
        _ request: Xcert_Assessment_V1_SetEvaluationCalendarRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_EvaluationCalendar {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year, "year", "the evaluated year")
        let day = LocalDate(wire: request.dueOn)
        checks.require(request.hasDueOn && day != nil, "due_on", "must be a date, e.g. 2025-04-01")
        try checks.check()
        guard let day else { throw RPCError(.internal, "a due day checked and lost") }
        return try await self.context.idempotency.perform(call) { connection in
            let current = try await EvaluationCalendarStore.calendar(year: request.year, forUpdate: true, connection, call.logger)
            let calendar = try (current?.calendar ?? EvaluationCalendar(year: request.year, dueOn: day)).movingDueDay(to: day)
            try await EvaluationCalendarStore.save(calendar, setBy: admin.name, connection, call.logger)
            return try await Self.calendar(request.year, for: admin, connection, call.logger)
        }
    }

    @Sendable
    func extendEvaluationDue(
        _ request: Xcert_Assessment_V1_ExtendEvaluationDueRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_EvaluationCalendar {
        let admin = try call.caller()
        try Self.checkKey(request.schoolCode, request.year)
        var checks = FieldChecks()
        let day = LocalDate(wire: request.dueOn)
        checks.require(request.hasDueOn && day != nil, "due_on", "must be a date, e.g. 2025-04-15")
        checks.require(!request.reason.trimmed.isEmpty, "reason", "must say why the school's due day is extended")
        checks.require(request.reason.count <= 1000, "reason", "must be at most 1000 characters")
        try checks.check()
        guard let day else { throw RPCError(.internal, "a due day checked and lost") }
        _ = try await self.context.referenceData(for: call).school(request.schoolCode, field: "school_code")
        return try await self.context.idempotency.perform(call) { connection in
            guard let current = try await EvaluationCalendarStore.calendar(year: request.year, forUpdate: true, connection, call.logger)
            else {
                throw RPCError(
                    .failedPrecondition,
                    "the province has set no due day for the \(request.year) self-evaluations; there is nothing to extend")
            }
            try current.calendar.requireExtension(to: day)
            try await EvaluationCalendarStore.extend(
                school: request.schoolCode, year: request.year, to: day, reason: request.reason.trimmed, grantedBy: admin.name,
                connection, call.logger)
            return try await Self.calendar(request.year, for: admin, connection, call.logger)
        }
    }

    @Sendable
    func getEvaluationCalendar(
        _ request: Xcert_Assessment_V1_GetEvaluationCalendarRequest, _ call: RequestContext
    ) async throws -> Xcert_Assessment_V1_EvaluationCalendar {
        let principal = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year, "year", "the evaluated year")
        try checks.check()
        return try await self.context.database.read(call) { connection in
            try await Self.calendar(request.year, for: principal, connection, call.logger)
        }
    }

    /// The calendar of `year` as `principal` sees it: a school only its own extension.
    private static func calendar(
        _ year: Int32, for principal: Principal, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Assessment_V1_EvaluationCalendar {
        guard var calendar = try await EvaluationCalendarStore.calendar(year: year, connection, logger)?.message else {
            throw RPCError(.notFound, "the province has set no evaluation calendar for \(year)")
        }
        if principal.role == .school {
            calendar.extensions.removeAll { $0.schoolCode != principal.party }
        }
        return calendar
    }

    // MARK: - Helpers

    /// The longest self-evaluation report taken, in characters.
    static let reportCharacters = 100_000

    private static func checkKey(_ school: String, _ year: Int32) throws {
        var checks = FieldChecks()
        checks.require(school.isDigits(10), "school_code", "must be the school's 10-digit code")
        checks.requireYear(year, "year", "the evaluated year")
        try checks.check()
    }

    private static func manualItems(of scheme: Xcert_Assessment_V1_Scheme) -> [Xcert_Assessment_V1_Indicator] {
        scheme.indicators.filter { $0.kind == .manual }
    }

    /// The manual item `code` of the scheme; a violation on `field` otherwise.
    private static func item(
        _ code: String, of scheme: Xcert_Assessment_V1_Scheme, field: String, _ checks: inout FieldChecks
    ) -> Xcert_Assessment_V1_Indicator? {
        guard let item = scheme.indicators.first(where: { $0.code == code }) else {
            checks.fail(field, "\(code) is not an item of the \(scheme.year) scheme (version \(scheme.version))")
            return nil
        }
        guard item.kind == .manual else {
            checks.fail(field, "\(code) \(item.name) is computed from the system's data; it is not scored by hand")
            return nil
        }
        return item
    }

    /// The computed items of `scheme` for a school and year: 1-1, 1-2 and 1-3 from the
    /// outcomes followed so far, the others from the peers' measures; an item whose peer
    /// did not answer is pending, with why.
    static func computedItems(
        _ scheme: Xcert_Assessment_V1_Scheme, school: String, year: Int32, peers: PeerMeasures, _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws -> [Xcert_Assessment_V1_ItemScore] {
        var outcomes: [Xcert_Assessment_V1_MeasureSource: Rate] = [:]
        if let totals = try await OutcomeStore.schoolTotals(school, year: year, connection, logger) {
            outcomes[.registrationRate] = Rate(totals.declared, over: totals.qualifiedScale)
            outcomes[.participationRate] = Rate(totals.completed, over: totals.approved)
            outcomes[.passRate] = Rate(totals.passed, over: totals.completed)
        }
        return scheme.indicators.filter { $0.kind == .computed }.map { indicator in
            var item = Xcert_Assessment_V1_ItemScore()
            item.code = indicator.code
            item.computed = true
            let measure = outcomes[indicator.source].map(PeerMeasures.Measure.rate) ?? peers.measure(indicator.source, school: school)
            switch (measure, indicator.rule) {
            case (.rate(let rate)?, .rateRule(let rule)?):
                if rate.hasData {
                    item.measure.numerator = rate.numerator
                    item.measure.denominator = rate.denominator
                }
                item.finalPointsTenths = Int32(
                    IndicatorScoring.points(
                        rate: rate, lowBasisPoints: Int(rule.lowBasisPoints), highBasisPoints: Int(rule.highBasisPoints),
                        maximumTenths: Int(indicator.maxPointsTenths)
                    ) ?? 0)
            case (.count(let count)?, .countRule(let rule)?):
                item.count = Int64(count)
                item.finalPointsTenths = Int32(
                    IndicatorScoring.points(
                        count: count, perUnitTenths: Int(rule.pointsTenthsPerUnit), maximumTenths: Int(indicator.maxPointsTenths)
                    ))
            default:
                item.pendingReason = peers.unavailable[indicator.source].map { "its source did not answer: \($0)" } ?? "has no measure"
            }
            return item
        }
    }

    static func evaluation(
        _ school: String, _ year: Int32, peers: PeerMeasures, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Assessment_V1_Evaluation {
        guard let header = try await EvaluationStore.header(school, year, connection, logger) else {
            throw RPCError(.notFound, "\(school) has no \(year) evaluation yet")
        }
        let scheme = try await SchemeService.scheme(year: year, version: header.schemeVersion, connection, logger)
        var stored: [String: (Int32, [Xcert_Assessment_V1_Evidence], Int32?, String)] = [:]
        var frozen: [String: Xcert_Assessment_V1_ItemScore] = [:]
        for row in try await EvaluationStore.items(school, year, connection, logger) {
            stored[row.code] = (row.selfPointsTenths, row.evidence, row.reviewedPointsTenths, row.reviewComment)
            var item = Xcert_Assessment_V1_ItemScore()
            item.finalPointsTenths = row.reviewedPointsTenths ?? 0
            if let numerator = row.measureNumerator, let denominator = row.measureDenominator {
                item.measure.numerator = numerator
                item.measure.denominator = denominator
            }
            frozen[row.code] = item
        }
        // Computed items: frozen by the review, else as the outcomes stand now.
        var computed: [String: Xcert_Assessment_V1_ItemScore] = [:]
        if header.state != .locked {
            for item in try await self.computedItems(scheme, school: school, year: year, peers: peers, connection, logger) {
                computed[item.code] = item
            }
        }
        var evaluation = Xcert_Assessment_V1_Evaluation()
        evaluation.schoolCode = school
        evaluation.year = year
        evaluation.schemeVersion = header.schemeVersion
        evaluation.state = header.state == .locked ? .locked : .selfSubmitted
        evaluation.submittedAt = .init(header.submittedAt)
        evaluation.reviewer = header.reviewer
        if let reviewed = header.reviewedAt { evaluation.reviewedAt = .init(reviewed) }
        evaluation.report = header.report
        evaluation.attachments = header.attachments
        if let calendar = try await EvaluationCalendarStore.calendar(year: year, connection, logger)?.calendar {
            evaluation.dueOn = calendar.dueDay(of: school).wire
            evaluation.dueExtended = calendar.isExtended(school)
        }
        for indicator in scheme.indicators {
            var item = Xcert_Assessment_V1_ItemScore()
            item.code = indicator.code
            item.firstLevel = indicator.firstLevel
            item.name = indicator.name
            item.maxPointsTenths = indicator.maxPointsTenths
            item.kind = indicator.kind
            item.bonus = indicator.bonus
            if indicator.kind == .computed {
                item.computed = true
                if let value = header.state == .locked ? frozen[indicator.code] : computed[indicator.code] {
                    item.finalPointsTenths = value.finalPointsTenths
                    if case .countRule? = indicator.rule {
                        // A frozen count is kept as count / 1.
                        item.count = value.hasMeasure ? value.measure.numerator : value.count
                    } else if value.hasMeasure {
                        item.measure = value.measure
                    }
                    item.pendingReason = value.pendingReason
                } else {
                    item.pendingReason = "was not computed when the review locked the evaluation"
                }
                evaluation.computedTotalTenths += item.finalPointsTenths
            } else if let (points, evidence, reviewed, comment) = stored[indicator.code] {
                item.selfPointsTenths = points
                item.evidence = evidence
                if let reviewed {
                    item.reviewed = true
                    item.reviewedPointsTenths = reviewed
                    item.differenceTenths = reviewed - points
                    item.reviewComment = comment
                    item.finalPointsTenths = reviewed
                }
                evaluation.selfTotalTenths += item.selfPointsTenths
                evaluation.reviewedTotalTenths += item.reviewedPointsTenths
            }
            evaluation.finalTotalTenths += item.finalPointsTenths
            evaluation.items.append(item)
        }
        return evaluation
    }
}
