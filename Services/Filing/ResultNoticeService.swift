import Foundation
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.filing.v1.ResultNoticeService`: an exam session's results on public notice (成绩公示)
/// after its roster is sealed, the schools' objections and the organizations' answers, and
/// the close that makes the results final (考试已结束).
struct ResultNoticeService: Xcert_Filing_V1_ResultNoticeService.Handler {
    let context: ServiceContext
    /// Closing a notice issues the session's certificates.
    let issuance: CertificateIssuance

    @Sendable
    func setNoticePolicy(
        _ request: Xcert_Filing_V1_SetNoticePolicyRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_NoticePolicy {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.policy.year, "policy.year", "an exam year")
        checks.require(
            (1...Int32(ResultNotice.maximumDays)).contains(request.policy.days), "policy.days",
            "must be the window's length, 1 to \(ResultNotice.maximumDays) days; not \(request.policy.days)")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            try await ResultNoticeStore.save(request.policy, setBy: admin.name, connection, call.logger)
            guard let policy = try await ResultNoticeStore.policy(year: request.policy.year, connection, call.logger) else {
                throw RPCError(.internal, "a notice policy saved and not read back")
            }
            return policy
        }
    }

    @Sendable
    func getNoticePolicy(
        _ request: Xcert_Filing_V1_GetNoticePolicyRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_NoticePolicy {
        _ = try call.caller()
        return try await self.context.database.read(call) { connection in
            guard let policy = try await ResultNoticeStore.policy(year: request.year, connection, call.logger) else {
                throw RPCError(.notFound, "the province has set no notice window for \(request.year)")
            }
            return policy
        }
    }

    @Sendable
    func startNotice(_ request: Xcert_Filing_V1_StartNoticeRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_ResultNotice {
        let principal = try call.caller()
        let organization = principal.role == .organization ? try principal.organizationID() : nil
        let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
        var checks = FieldChecks()
        checks.require(request.rosterID > 0, "roster_id", "must name a roster of the session")
        var starts = today
        if request.hasStartsOn {
            let day = LocalDate(wire: request.startsOn)
            checks.require(day != nil, "starts_on", "must be a date, or empty for today")
            checks.require(day.map { $0 <= today } ?? true, "starts_on", "must not be after today (\(today))")
            checks.require(
                (1...500).contains(request.reason.trimmed.count), "reason",
                "must say why the notice is recorded as started on another day, 1 to 500 characters")
            if let day { starts = day }
        }
        try checks.check()
        if request.hasStartsOn, starts != today, organization != nil {
            throw RPCError(.permissionDenied, "an organization starts a notice today; only the province records an earlier start")
        }
        let session = try await self.context.database.read(call) { connection in
            try await self.notice(ofRoster: request.rosterID, organization: organization, connection, call)
        }
        guard let exam = LocalDate(wire: session.examDate), starts >= exam else {
            throw RPCError.invalidArgument([
                .init(field: "starts_on", description: "the results cannot be on notice before the exam (\(dateText(session.examDate)))")
            ])
        }
        let calendar = try await self.workingDays(from: starts, call)
        return try await self.context.idempotency.perform(call) { connection in
            let year = Int32(exam.year)
            guard let policy = try await ResultNoticeStore.policy(year: year, connection, call.logger) else {
                throw RPCError(.failedPrecondition, "the province has set no notice window for \(year) (SetNoticePolicy)")
            }
            let ends = ResultNotice.lastDay(startingOn: starts, days: Int(policy.days), workingDays: calendar)
            let reason = starts == today ? nil : request.reason.trimmed
            guard
                try await ResultNoticeStore.start(
                    session: session.sessionRosterID, startsOn: starts, endsOn: ends, workingDays: calendar != nil, days: policy.days,
                    startedBy: principal.name, reason: reason, connection, call.logger)
            else {
                throw RPCError(.alreadyExists, "session \(session.sessionRosterID)'s results are on notice already")
            }
            return try await self.notice(session: session.sessionRosterID, connection, call)
        }
    }

    @Sendable
    func getNotice(_ request: Xcert_Filing_V1_GetNoticeRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_ResultNotice {
        let reader = try call.readScope()
        return try await self.context.database.read(call) { connection in
            try await self.notice(ofRoster: request.rosterID, organization: reader.organization, connection, call)
        }
    }

    @Sendable
    func listNotices(
        _ request: Xcert_Filing_V1_ListNoticesRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListNoticesResponse {
        let reader = try call.readScope()
        let page = try Paging(request.page, field: "page")
        var checks = FieldChecks()
        checks.requireYear(request.year, "year", "an exam year")
        try checks.check()
        var filter = ResultNoticeStore.Filter()
        filter.year = request.year
        filter.organization = reader.organization
        filter.certificate = request.certificateCode.nonEmpty
        filter.state = ResultNoticeStore.stored(request.state)
        filter.after = page.after
        filter.limit = page.size + 1
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_ListNoticesResponse()
            (response.notices, response.page) = page.cut(
                try await ResultNoticeStore.notices(filter, connection, call.logger), id: \.sessionRosterID)
            return response
        }
    }

    @Sendable
    func closeNotice(_ request: Xcert_Filing_V1_CloseNoticeRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_ResultNotice {
        let principal = try call.caller()
        let organization = principal.role == .organization ? try principal.organizationID() : nil
        let now = Int64(Date().timeIntervalSince1970)
        // What the certificates will say, asked before the transaction: the issuer, the certificate's and organization's names.
        let before = try await self.context.database.read(call) { connection in
            try await self.notice(ofRoster: request.rosterID, organization: organization, connection, call)
        }
        let issuer = try await self.issuance.issuer(self.context, call)
        let names = try await self.issuance.names(of: before, self.context, call)
        return try await self.context.idempotency.perform(call) { connection in
            let session = try await self.notice(ofRoster: request.rosterID, organization: organization, connection, call)
            guard var notice = try await ResultNoticeStore.lockedNotice(session: session.sessionRosterID, connection, call.logger) else {
                throw RPCError(.failedPrecondition, "session \(session.sessionRosterID)'s results are not on notice; start it first")
            }
            var filter = ResultNoticeStore.ObjectionFilter()
            filter.session = session.sessionRosterID
            filter.openOnly = true
            let open = try await ResultNoticeStore.objections(filter, connection, call.logger)
            try notice.close(at: now, openObjections: open.map { "\($0.id) (candidate \($0.candidateNumber))" })
            try await ResultNoticeStore.close(session: session.sessionRosterID, closedBy: principal.name, connection, call.logger)
            _ = try await self.issuance.issue(
                session, issuer: issuer, names: names, issuedOn: LocalDate(containing: now), connection, call.logger)
            return try await self.notice(session: session.sessionRosterID, connection, call)
        }
    }

    @Sendable
    func lodgeObjection(_ request: Xcert_Filing_V1_LodgeObjectionRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_Objection
    {
        let principal = try call.caller()
        let school = principal.party ?? ""
        var checks = FieldChecks()
        checks.require(request.rosterID > 0, "roster_id", "must name a roster of the session")
        checks.require((1...40).contains(request.candidateNumber.count), "candidate_number", "must be the candidate's 准考证号")
        checks.require((1...2000).contains(request.reason.trimmed.count), "reason", "must say what is wrong, 1 to 2,000 characters")
        for (index, evidence) in request.evidence.enumerated() { checks.requireAttachment(evidence, "evidence[\(index)]") }
        try checks.check()
        let now = Int64(Date().timeIntervalSince1970)
        return try await self.context.idempotency.perform(call) { connection in
            let session = try await self.notice(ofRoster: request.rosterID, organization: nil, connection, call)
            guard let notice = try await ResultNoticeStore.lockedNotice(session: session.sessionRosterID, connection, call.logger) else {
                throw RPCError(.failedPrecondition, "session \(session.sessionRosterID)'s results are not on notice; no objection yet")
            }
            try notice.acceptObjection(at: now)
            guard
                let candidate = try await ResultNoticeStore.candidate(
                    request.candidateNumber, roster: session.rosterID, connection, call.logger),
                candidate.school == school
            else {
                throw RPCError.invalidArgument([
                    .init(
                        field: "candidate_number",
                        description: "\(request.candidateNumber) is no candidate of school \(school) in roster \(session.rosterID)")
                ])
            }
            let id = try await ResultNoticeStore.insertObjection(
                session: session.sessionRosterID, roster: session.rosterID, candidate: request.candidateNumber, name: candidate.name,
                school: school, reason: request.reason.trimmed, evidence: request.evidence, lodgedBy: principal.name, connection,
                call.logger)
            return try await self.objection(id, connection, call)
        }
    }

    @Sendable
    func answerObjection(
        _ request: Xcert_Filing_V1_AnswerObjectionRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_Objection {
        let principal = try call.caller()
        let organization = try principal.organizationID()
        var checks = FieldChecks()
        checks.require(request.objectionID > 0, "objection_id", "must name an objection")
        let rejecting = !request.rejectionReason.trimmed.isEmpty
        checks.require(
            (request.correctingRosterID != 0) != rejecting, "correcting_roster_id",
            "give either the correcting roster or a rejection_reason, not both nor neither")
        checks.require(request.rejectionReason.count <= 2000, "rejection_reason", "must be at most 2,000 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            var filter = ResultNoticeStore.ObjectionFilter()
            filter.ids = [request.objectionID]
            filter.organization = organization
            filter.forUpdate = true
            guard let objection = try await ResultNoticeStore.objections(filter, connection, call.logger).first else {
                throw RPCError.notFound("objection \(request.objectionID)")
            }
            guard objection.state == .open else {
                throw RPCError(.failedPrecondition, "objection \(objection.id) was answered already (\(objection.state))")
            }
            var correction: Int64?
            var answer = request.rejectionReason.trimmed
            if !rejecting {
                // The correction: a sealed version of the same session, sealed after the objection came.
                let session = try await ResultNoticeStore.session(
                    ofRoster: request.correctingRosterID, organization: organization, connection, call.logger)
                guard session == objection.sessionRosterID,
                    let sealed = try await ResultNoticeStore.sealedRoster(request.correctingRosterID, connection, call.logger),
                    sealed.sealedAt > Date(objection.lodgedAt)
                else {
                    throw RPCError.invalidArgument([
                        .init(
                            field: "correcting_roster_id",
                            description: """
                                must be a roster of session \(objection.sessionRosterID) sealed after the objection was lodged \
                                (create one with supersedes_roster_id, upload, seal); \(request.correctingRosterID) is not
                                """)
                    ])
                }
                correction = request.correctingRosterID
                answer = "更正名册 \(request.correctingRosterID)"
            }
            try await ResultNoticeStore.answer(
                objection.id, correction: correction, answer: answer, answeredBy: principal.name, connection, call.logger)
            return try await self.objection(objection.id, connection, call)
        }
    }

    @Sendable
    func listObjections(
        _ request: Xcert_Filing_V1_ListObjectionsRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListObjectionsResponse {
        let reader = try call.readScope()
        let page = try Paging(request.page, field: "page")
        var checks = FieldChecks()
        if request.rosterID == 0 { checks.requireYear(request.year, "year", "an exam year (or name a roster_id)") }
        try checks.check()
        var filter = ResultNoticeStore.ObjectionFilter()
        filter.year = request.rosterID > 0 ? nil : request.year
        filter.organization = reader.organization
        filter.school = reader.school
        filter.openOnly = request.openOnly
        filter.after = page.after
        filter.limit = page.size + 1
        return try await self.context.database.read(call) { connection in
            if request.rosterID > 0 {
                guard
                    let session = try await ResultNoticeStore.session(
                        ofRoster: request.rosterID, organization: nil, connection, call.logger)
                else { throw RPCError.notFound("roster \(request.rosterID)") }
                filter.session = session
            }
            var response = Xcert_Filing_V1_ListObjectionsResponse()
            (response.objections, response.page) = page.cut(
                try await ResultNoticeStore.objections(filter, connection, call.logger), id: \.id)
            return response
        }
    }

    // MARK: - Helpers

    /// The notice of roster `id`'s session (registered when not yet on notice); NOT_FOUND for
    /// a roster that is not there or not `organization`'s, FAILED_PRECONDITION for a session
    /// with no sealed roster.
    private func notice(
        ofRoster id: Int64, organization: Int64?, _ connection: PostgresConnection, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ResultNotice {
        guard let session = try await ResultNoticeStore.session(ofRoster: id, organization: organization, connection, call.logger) else {
            throw RPCError.notFound("roster \(id)")
        }
        return try await self.notice(session: session, connection, call)
    }

    private func notice(
        session: Int64, _ connection: PostgresConnection, _ call: RequestContext
    ) async throws
        -> Xcert_Filing_V1_ResultNotice
    {
        var filter = ResultNoticeStore.Filter()
        filter.sessions = [session]
        guard let notice = try await ResultNoticeStore.notices(filter, connection, call.logger).first else {
            throw RPCError(.failedPrecondition, "session \(session) has no sealed roster: its results are not registered yet")
        }
        return notice
    }

    private func objection(
        _ id: Int64, _ connection: PostgresConnection, _ call: RequestContext
    ) async throws
        -> Xcert_Filing_V1_Objection
    {
        var filter = ResultNoticeStore.ObjectionFilter()
        filter.ids = [id]
        guard let objection = try await ResultNoticeStore.objections(filter, connection, call.logger).first else {
            throw RPCError(.internal, "objection \(id) stored and not read back")
        }
        return objection
    }

    /// The province's working-day calendar around `start` (its year and the next), or nil
    /// when it has loaded none for `start`'s year: the window is then in calendar days.
    private func workingDays(from start: LocalDate, _ call: RequestContext) async throws -> WorkingDayCalendar? {
        let registry = self.context.referenceData(for: call)
        var exceptions: [WorkingDayCalendar.Exception] = []
        for year in [start.year, start.year + 1] {
            var request = Xcert_Registry_V1_ListCalendarDaysRequest()
            request.year = Int32(year)
            let days = try await registry.listCalendarDays(request).days
            if year == start.year, days.isEmpty { return nil }
            exceptions += days.compactMap { day in
                LocalDate(wire: day.day).map { WorkingDayCalendar.Exception(day: $0, working: day.working, note: day.note) }
            }
        }
        return WorkingDayCalendar(exceptions: exceptions)
    }
}
