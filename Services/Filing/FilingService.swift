import Foundation
import PostgresNIO
import SwiftProtobuf
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.filing.v1.FilingService`: filing rounds, organizations' filings of their pilot
/// work plans (rule 1), and the province's review. An organization reads and changes
/// only its own filings; the province reads and reviews all.
struct FilingService: Xcert_Filing_V1_FilingService.Handler {
    let context: ServiceContext
    /// What the registry said of certificates lately.
    let certificates: CertificateCache

    // MARK: - Rounds

    @Sendable
    func openRound(_ request: Xcert_Filing_V1_OpenRoundRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_FilingRound {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year)
        checks.require((1...99).contains(request.number), "number", "must be the round's number in its year, 1 to 99")
        let closes = LocalDate(year: Int(request.closes.year), month: Int(request.closes.month), day: Int(request.closes.day))
        checks.require(closes != nil, "closes", "must be a real date (year, month, day), the round's last day in Asia/Shanghai")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            guard
                try await FilingStore.openRound(
                    year: request.year, number: request.number, closes: closes, openedBy: admin.name, connection, call.logger)
            else { throw RPCError(.alreadyExists, "round \(request.number) of \(request.year) exists") }
            return FilingStore.message(
                try await FilingStore.rounds(year: request.year, number: request.number, connection, call.logger)[0], now: Date())
        }
    }

    @Sendable
    func listRounds(_ request: Xcert_Filing_V1_ListRoundsRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_ListRoundsResponse
    {
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_ListRoundsResponse()
            let now = Date()
            response.rounds = try await FilingStore.rounds(year: request.year == 0 ? nil : request.year, connection, call.logger).map {
                FilingStore.message($0, now: now)
            }
            return response
        }
    }

    @Sendable
    func closeRound(_ request: Xcert_Filing_V1_CloseRoundRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_FilingRound {
        return try await self.context.idempotency.perform(call) { connection in
            try await FilingStore.closeRound(year: request.year, number: request.number, at: Date(), connection, call.logger)
            guard let round = try await FilingStore.rounds(year: request.year, number: request.number, connection, call.logger).first else {
                throw RPCError(.notFound, "there is no round \(request.number) of \(request.year)")
            }
            return FilingStore.message(round, now: Date())
        }
    }

    // MARK: - Filings

    @Sendable
    func submitFiling(_ request: Xcert_Filing_V1_SubmitFilingRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_Filing {
        let organization = try call.caller()
        let organizationID = try organization.organizationID()
        var checks = FieldChecks()
        checks.require(
            request.certificateCode.isCertificateCode, "certificate_code",
            "must be a certificate's code as the registry has it, e.g. BIM; not \"\(request.certificateCode)\"")
        checks.requireYear(request.year)
        checks.require(
            (1...99).contains(request.roundNumber), "round_number",
            "must name a filing round of the year (1, 2, …); not \(request.roundNumber)")
        let plan = WorkPlanRecord(request.plan, checks: &checks)
        try checks.check()

        // Rule 1 is for the certificates an organization owns: ask the registry.
        let certificate = try await Callers.ownedCertificate(
            request.certificateCode, organization: organizationID, field: "certificate_code", certificates: self.certificates, self.context,
            call)
        var feeChecks = FieldChecks()
        let offered = Set(certificate.levels.compactMap(CertificateLevel.init(wire:)))
        for (index, fee) in plan.fees.enumerated() where !offered.contains(fee.level) {
            feeChecks.fail("plan.fees[\(index)].level", "certificate \(certificate.code) has no level \(fee.level.chineseName)")
        }
        for level in offered.sorted() where !plan.fees.contains(where: { $0.level == level }) {
            feeChecks.fail("plan.fees", "lacks the fee of \(level.chineseName) (\(level.name)), a level of certificate \(certificate.code)")
        }
        try feeChecks.check()

        return try await self.context.idempotency.perform(call) { connection in
            guard let round = try await FilingStore.rounds(year: request.year, number: request.roundNumber, connection, call.logger).first
            else {
                throw RPCError(
                    .failedPrecondition, "there is no filing round \(request.roundNumber) of \(request.year); the province opens rounds")
            }
            try round.requireOpen(at: Date())
            let live = try await FilingStore.liveVersions(
                organization: organizationID, certificate: certificate.code, year: request.year, connection, call.logger)
            try ReviewedSubmission.requireNoneLive(live, kind: .filing, subject: "of \(certificate.code) for \(request.year)")
            let id = try await FilingStore.insert(
                plan, organization: organizationID, certificate: certificate.code, year: request.year, round: request.roundNumber,
                submittedBy: organization.name, connection, call.logger
            )
            return try await FilingStore.filing(id, organization: nil, connection, call.logger)
        }
    }

    @Sendable
    func getFiling(_ request: Xcert_Filing_V1_GetFilingRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_Filing {
        let organization = try await Callers.readerOrganization(self.context, call)
        return try await self.context.database.read(call) { connection in
            try await FilingStore.filing(request.id, organization: organization, connection, call.logger)
        }
    }

    @Sendable
    func listFilings(
        _ request: Xcert_Filing_V1_ListFilingsRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListFilingsResponse {
        let organization = try await Callers.readerOrganization(self.context, call)
        let page = try Paging(request.page, field: "page")
        if let organization, request.organizationID != 0, request.organizationID != organization {
            // Another organization's filings do not exist for this caller.
            return Xcert_Filing_V1_ListFilingsResponse()
        }
        var filter = FilingStore.Filter()
        filter.organizationID = organization ?? (request.organizationID == 0 ? nil : request.organizationID)
        filter.certificateCode = request.certificateCode.nonEmpty
        filter.year = request.year == 0 ? nil : request.year
        filter.state = FilingStates.stored(request.state)
        filter.latestOnly = !request.allVersions
        filter.after = page.after
        filter.limit = page.size + 1
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_ListFilingsResponse()
            (response.filings, response.page) = page.cut(try await FilingStore.filings(filter, connection, call.logger), id: \.id)
            return response
        }
    }

    @Sendable
    func withdrawFiling(_ request: Xcert_Filing_V1_WithdrawFilingRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_Filing {
        let organizationID = try call.caller().organizationID()
        let withdrawal = try ReviewedSubmission.Withdrawal(reason: request.reason, of: .filing)
        return try await self.context.idempotency.perform(call) { connection in
            let filing = try await FilingStore.filing(request.id, organization: organizationID, connection, call.logger)
            guard let state = FilingStates.lifecycle(filing.state) else {
                throw RPCError(.internal, "filing \(filing.id) has no known state")
            }
            var submission = ReviewedSubmission(kind: .filing, id: filing.id, state: state)
            let event = try submission.withdraw(withdrawal)
            try await FilingStore.record(event, filing: filing.id, connection, call.logger)
            return try await FilingStore.filing(filing.id, organization: nil, connection, call.logger)
        }
    }

    @Sendable
    func reviewFiling(_ request: Xcert_Filing_V1_ReviewFilingRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_Filing {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require(request.id > 0, "id", "must name a filing")
        let decision = try checks.collect { try ReviewedSubmission.Decision(approve: request.approve, reason: request.reason, of: .filing) }
        try checks.check()
        guard let decision else { throw RPCError(.internal, "the review's decision was not checked") }
        return try await self.context.idempotency.perform(call) { connection in
            var submission = try await ReviewStore.lockForReview(.filing, request.id, connection, call.logger)
            let event = try submission.review(decision, reviewer: admin.name, now: Date())
            if decision.approve {
                let filing = try await FilingStore.filing(request.id, organization: nil, connection, call.logger)
                try await Callers.requireWorking(
                    organization: filing.organizationID, for: "filing \(filing.id) cannot be approved", self.context, call)
                try await self.checkFeeCeilings(filing, call)
            }
            try await FilingStore.record(event, filing: request.id, connection, call.logger)
            return try await FilingStore.filing(request.id, organization: nil, connection, call.logger)
        }
    }

    /// A fee above the province's ceiling cannot be approved (rule 10): settlement keeps the ceilings.
    private func checkFeeCeilings(_ filing: Xcert_Filing_V1_Filing, _ call: RequestContext) async throws {
        var check = Xcert_Settlement_V1_CheckFeesRequest()
        check.certificateCode = filing.certificateCode
        check.fees = filing.plan.fees.map { fee in
            var proposed = Xcert_Settlement_V1_ProposedFee()
            proposed.level = fee.level
            proposed.fee = fee.fee
            return proposed
        }
        let answer = try await self.context.peers.call(
            "settlement", Xcert_Settlement_V1_FeeCeilingService.Method.checkFees, check, context: call
        )
        guard answer.withinCeilings else {
            let excesses = answer.excesses.map { excess in
                """
                \(CertificateLevel(wire: excess.level)?.chineseName ?? "?") \(Money(fen: excess.fee.fen)) \
                above the ceiling \(Money(fen: excess.ceiling.fen))
                """
            }
            throw RPCError(
                .failedPrecondition,
                """
                filing \(filing.id) cannot be approved: its fees exceed the province's ceilings for \(filing.certificateCode): \
                \(excesses.joined(separator: "; "))
                """
            )
        }
    }
}
