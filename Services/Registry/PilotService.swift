import Foundation
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.registry.v1.PilotService`: schools' pilot applications under rules 2–5, their
/// review (the school's reviewing unit first for secondary schools, then the province), the
/// qualifications approval creates, their revocation, and the qualification feed.
struct PilotService: Xcert_Registry_V1_PilotService.Handler {
    let context: ServiceContext

    // MARK: - Applications

    @Sendable
    func submitApplication(
        _ request: Xcert_Registry_V1_SubmitApplicationRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_PilotApplication {
        let principal = try call.caller()
        try principal.requireActingFor(school: request.schoolCode, "applies")
        var checks = FieldChecks()
        checks.require(request.schoolCode.isDigits(10), "school_code", "must be a school's 10-digit national code")
        checks.require(request.certificateCode.isCertificateCode, "certificate_code", "must be a certificate's code, e.g. BIM")
        checks.requireYear(request.year)
        let levels = request.levels.compactMap(CertificateLevel.init(wire:))
        checks.require(
            !levels.isEmpty && levels.count == request.levels.count, "levels",
            "must list at least one level: ELEMENTARY, INTERMEDIATE or ADVANCED")
        checks.require(!request.specialtyCodes.isEmpty, "specialty_codes", "must list the school's specialties that pilot the certificate")
        checks.require(Set(request.specialtyCodes).count == request.specialtyCodes.count, "specialty_codes", "lists a specialty twice")
        checks.require(
            (1...100_000).contains(request.studentScale), "student_scale", "must be 1 to 100000 students; not \(request.studentScale)")
        if checks.require(
            request.hasWorkPlan, "work_plan", "must be the school's pilot work plan (实施方案) for the certificate, by name, size and SHA-256")
        {
            checks.requireAttachment(request.workPlan, "work_plan")
        }
        try checks.check()

        return try await self.context.idempotency.perform(call) { connection in
            // 001 §三.3: only inside an application window the province opened for the year.
            let now = Date()
            let window = try ApplicationWindow.open(
                among: try await ApplicationWindowStore.windows(year: request.year, connection, call.logger).map(\.window),
                year: request.year, at: now)
            // Lock the school: its applications for the year are counted against the caps
            // one at a time, so two racing for the last place cannot both get it.
            let locked = try await PilotStore.lockSchool(request.schoolCode, connection, call.logger)
            guard let locked, let type = SchoolType(rawValue: locked.type) else {
                throw RPCError(.notFound, "there is no school \(request.schoolCode)")
            }
            guard type.isEligibleForPilot else {
                throw RPCError(
                    .failedPrecondition,
                    "school \(request.schoolCode) is a \(type.chineseName) (\(type.rawValue)); technical schools may not join the pilot")
            }
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            let offered = Set(certificate.levels)
            if let missing = request.levels.first(where: { !offered.contains($0) }) {
                throw RPCError.invalidArgument([
                    .init(field: "levels", description: "certificate \(certificate.code) has no level \(missing)")
                ])
            }
            let school = try await ReferenceStore.school(request.schoolCode, connection, call.logger)
            let own = Set(school.specialties.map(\.code))
            let foreign = request.specialtyCodes.filter { !own.contains($0) }
            if !foreign.isEmpty {
                throw RPCError.invalidArgument([
                    .init(
                        field: "specialty_codes",
                        description: "\(foreign.joined(separator: ", ")) are not specialties of school \(request.schoolCode)")
                ])
            }
            // 001 §二.3, 002 §二.1: each specialty's team and enrolment qualify it.
            let teams = try await TeachingTeamStore.teams(school: request.schoolCode, connection, call.logger)
            try SpecialtyEligibility.check(
                school: request.schoolCode, specialties: request.specialtyCodes,
                teams: Dictionary(teams.map { ($0.specialtyCode, SpecialtyEligibility($0)) }, uniquingKeysWith: { first, _ in first }))
            if let (id, state) = try await PilotStore.liveApplication(
                school: request.schoolCode, certificate: request.certificateCode, year: request.year, connection, call.logger
            ) {
                throw RPCError(
                    .alreadyExists,
                    """
                    school \(request.schoolCode) already has application \(id) for \(request.certificateCode) \
                    in \(request.year) (\(state))
                    """
                )
            }

            // Rule 3: count the year's approved and pending applications with this one.
            let (certificates, students) = try await PilotStore.yearTotals(
                school: request.schoolCode, year: request.year, connection, call.logger
            )
            let caps = PilotCaps(specialtyCount: Int(locked.specialtyCount), enrolledStudents: Int(locked.enrolledStudents))
            let breaches = caps.breaches(certificates: certificates + 1, students: students + Int(request.studentScale))
            if !breaches.isEmpty {
                throw RPCError(
                    .failedPrecondition,
                    "school \(request.schoolCode) cannot apply for \(request.certificateCode) in \(request.year): "
                        + breaches.map(\.description).joined(separator: "; "))
            }

            // Rule 2: only certificates filed and approved in the province for the year.
            var approval = Xcert_Filing_V1_CheckCertificateApprovalRequest()
            approval.certificateCode = request.certificateCode
            approval.year = request.year
            let answer = try await self.context.peers.call(
                "filing", Xcert_Filing_V1_ApprovalService.Method.checkCertificateApproval, approval, context: call
            )
            guard answer.approved else {
                throw RPCError(
                    .failedPrecondition,
                    """
                    certificate \(request.certificateCode) has no approved filing in the province for \(request.year); \
                    only filed and approved certificates may be applied for
                    """
                )
            }
            // 001 §三.1: only inside the school levels and specialty scope the filing names.
            let filed = FilingScope(
                filingID: answer.filingID, certificateCode: request.certificateCode,
                schoolLevels: Set(answer.schoolLevels.compactMap { FilingScope.SchoolLevel(rawValue: $0.rawValue) }),
                specialtyScope: answer.specialtyScope
            )
            let names = Dictionary(school.specialties.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
            try filed.check(
                schoolType: type, specialties: request.specialtyCodes.map { FilingScope.Specialty(code: $0, name: names[$0] ?? "") })

            let first = ReviewStep.first(for: type)
            let id = try await PilotStore.addApplication(
                school: request.schoolCode, certificate: request.certificateCode, year: request.year, window: window.number, levels: levels,
                specialtyCodes: request.specialtyCodes, studentScale: request.studentScale, workPlan: request.workPlan,
                state: ApplicationReview.State.awaiting(first).rawValue, submittedBy: principal.name, connection, call.logger
            )
            return try await PilotStore.application(id, scope: .everything, now: now, connection, call.logger)
        }
    }

    @Sendable
    func getApplication(
        _ request: Xcert_Registry_V1_GetApplicationRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_PilotApplication {
        let scope = try await self.applicationScope(call)
        return try await self.context.database.read(call) { connection in
            try await PilotStore.application(request.id, scope: scope, now: Date(), connection, call.logger)
        }
    }

    @Sendable
    func listApplications(
        _ request: Xcert_Registry_V1_ListApplicationsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListApplicationsResponse {
        let scope = try await self.applicationScope(call)
        let page = try Paging(request.page, field: "page")
        var filter = PilotStore.Filter(
            schoolCode: request.schoolCode, certificateCode: request.certificateCode, year: request.year, cityCode: request.cityCode,
            reviewingUnitCode: request.reviewingUnitCode, page: page
        )
        filter.state = ApplicationStates.stored(request.state)
        let now = Date()
        if request.overdueOnly { filter.reviewDueBefore = LocalDate(containing: Int64(now.timeIntervalSince1970)) }
        return try await self.context.database.read(call) { connection in
            let applications = try await PilotStore.applications(filter, scope: scope, now: now, connection, call.logger)
            var response = Xcert_Registry_V1_ListApplicationsResponse()
            (response.applications, response.page) = page.cut(applications, id: \.id)
            return response
        }
    }

    /// Applications are the schools', their reviewers' and the province's business.
    private func applicationScope(_ call: RequestContext) async throws -> Scope {
        let principal = try call.caller()
        return try Scope(principal)
    }

    @Sendable
    func reviewApplication(
        _ request: Xcert_Registry_V1_ReviewApplicationRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_PilotApplication {
        let reviewer = try call.caller()
        let scope = try Scope(reviewer)
        var checks = FieldChecks()
        checks.require(request.applicationID > 0, "application_id", "must name an application (a positive id)")
        let decision = try checks.collect { try ApplicationReview.Decision(approve: request.approve, reason: request.reason) }
        try checks.check()
        guard let decision else { throw RPCError(.internal, "the review's decision was not checked") }
        let role: ApplicationReview.Reviewer
        switch reviewer.role {
        case .cityReviewer: role = .city
        case .provinceAdmin: role = .province
        default: throw RPCError(.internal, "\(call.method) is declared for reviewers only")
        }

        return try await self.context.idempotency.perform(call) { connection in
            guard let (application, subject) = try await PilotStore.lockForReview(request.applicationID, connection, call.logger),
                scope.covers(
                    school: subject.school, type: subject.type, reviewingUnit: subject.reviewingUnit,
                    certificateOrganization: subject.organization)
            else {
                throw RPCError(.notFound, "there is no pilot application \(request.applicationID)")
            }
            var review = application
            let event = try review.review(decision, by: role)
            try await PilotStore.record(event, application: request.applicationID, reviewer: reviewer, connection, call.logger)
            return try await PilotStore.application(request.applicationID, scope: .everything, now: Date(), connection, call.logger)
        }
    }

    // MARK: - Teaching teams

    @Sendable
    func setTeachingTeams(
        _ request: Xcert_Registry_V1_SetTeachingTeamsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListTeachingTeamsResponse {
        let principal = try call.caller()
        try principal.requireActingFor(school: request.schoolCode, "records teaching teams")
        var checks = FieldChecks()
        checks.require(request.schoolCode.isDigits(10), "school_code", "must be a school's 10-digit national code")
        checks.require(!request.teams.isEmpty, "teams", "must list at least one specialty's team")
        var teams: [SpecialtyEligibility] = []
        for (index, team) in request.teams.enumerated() {
            let field = "teams[\(index)]"
            let counted = [
                checks.require(
                    (1...10_000).contains(team.teachers), "\(field).teachers",
                    "must be the specialty's teachers, 1 to 10000; not \(team.teachers)"),
                checks.require(
                    (0...max(0, team.teachers)).contains(team.dualQualifiedTeachers), "\(field).dual_qualified_teachers",
                    "must be 0 to its \(team.teachers) teachers; not \(team.dualQualifiedTeachers)"),
                checks.require(
                    (0...max(0, team.teachers)).contains(team.industryExperts), "\(field).industry_experts",
                    "must be 0 to its \(team.teachers) teachers; not \(team.industryExperts)"),
                checks.require(
                    (0...100).contains(team.continuousEnrolmentYears), "\(field).continuous_enrolment_years",
                    "must be 0 to 100 years; not \(team.continuousEnrolmentYears)"),
            ]
            if teams.contains(where: { $0.specialtyCode == team.specialtyCode }) {
                checks.fail("\(field).specialty_code", "\(team.specialtyCode) is listed twice")
            }
            if !counted.contains(false) { teams.append(SpecialtyEligibility(team)) }
        }
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let school = try await ReferenceStore.school(request.schoolCode, connection, call.logger)
            let own = Set(school.specialties.map(\.code))
            let foreign = request.teams.enumerated().filter { !own.contains($0.element.specialtyCode) }
            guard foreign.isEmpty else {
                throw RPCError.invalidArgument(
                    foreign.map { index, team in
                        .init(
                            field: "teams[\(index)].specialty_code",
                            description: "\(team.specialtyCode) is not a specialty of school \(request.schoolCode)")
                    })
            }
            try await TeachingTeamStore.save(teams, school: request.schoolCode, recordedBy: principal.name, connection, call.logger)
            var response = Xcert_Registry_V1_ListTeachingTeamsResponse()
            response.teams = try await TeachingTeamStore.teams(school: request.schoolCode, connection, call.logger)
            return response
        }
    }

    @Sendable
    func listTeachingTeams(
        _ request: Xcert_Registry_V1_ListTeachingTeamsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListTeachingTeamsResponse {
        let scope = try Scope(try call.caller())
        return try await self.context.database.read(call) { connection in
            guard let school = try await ReferenceStore.findSchool(request.schoolCode, withIrregularities: false, connection, call.logger),
                let type = SchoolType(wire: school.type),
                scope.covers(
                    school: school.code, type: type.rawValue, reviewingUnit: school.reviewingUnitCode, certificateOrganization: nil)
            else {
                throw RPCError(.notFound, "there is no school \(request.schoolCode)")
            }
            var response = Xcert_Registry_V1_ListTeachingTeamsResponse()
            response.teams = try await TeachingTeamStore.teams(school: request.schoolCode, connection, call.logger)
            return response
        }
    }

    // MARK: - Application windows

    @Sendable
    func setApplicationWindow(
        _ request: Xcert_Registry_V1_SetApplicationWindowRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ApplicationWindow {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year)
        checks.require(
            (1...20).contains(request.number), "number", "must be the window's number in its year, 1 to 20; not \(request.number)")
        let opens = LocalDate(wire: request.opens)
        let closes = LocalDate(wire: request.closes)
        checks.require(opens != nil, "opens", "must be a real date (year, month, day), the window's first day in Asia/Shanghai")
        checks.require(closes != nil, "closes", "must be a real date (year, month, day), the window's last day in Asia/Shanghai")
        if let opens, let closes { checks.require(opens <= closes, "closes", "must not be before opens (\(opens)); not \(closes)") }
        try checks.check()
        guard let opens, let closes else { throw RPCError(.internal, "the window's days were not checked") }
        let window = ApplicationWindow(year: request.year, number: request.number, opens: opens, closes: closes)
        return try await self.context.idempotency.perform(call) { connection in
            let due = window.reviewDue(by: try await CalendarStore.calendar(connection, call.logger))
            try await ApplicationWindowStore.save(window, reviewDue: due, setBy: admin.name, connection, call.logger)
            return ApplicationWindowStore.message(.init(window: window, reviewDue: due, setBy: admin.name), now: Date())
        }
    }

    @Sendable
    func listApplicationWindows(
        _ request: Xcert_Registry_V1_ListApplicationWindowsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListApplicationWindowsResponse {
        try FieldChecks.checkYear(request.year)
        return try await self.context.database.read(call) { connection in
            let now = Date()
            var response = Xcert_Registry_V1_ListApplicationWindowsResponse()
            response.windows = try await ApplicationWindowStore.windows(year: request.year, connection, call.logger).map {
                ApplicationWindowStore.message($0, now: now)
            }
            return response
        }
    }

    // MARK: - Qualifications

    @Sendable
    func getQualification(
        _ request: Xcert_Registry_V1_GetQualificationRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_PilotQualification {
        let scope = try await self.qualificationScope(call)
        return try await self.context.database.read(call) { connection in
            try await PilotStore.qualification(request.id, scope: scope, connection, call.logger)
        }
    }

    @Sendable
    func listQualifications(
        _ request: Xcert_Registry_V1_ListQualificationsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListQualificationsResponse {
        let scope = try await self.qualificationScope(call)
        let page = try Paging(request.page, field: "page")
        var filter = PilotStore.Filter(
            schoolCode: request.schoolCode, certificateCode: request.certificateCode, year: request.year, cityCode: request.cityCode,
            reviewingUnitCode: request.reviewingUnitCode, page: page
        )
        filter.includeRevoked = request.includeRevoked
        return try await self.context.database.read(call) { connection in
            let qualifications = try await PilotStore.qualifications(filter, scope: scope, connection, call.logger)
            var response = Xcert_Registry_V1_ListQualificationsResponse()
            (response.qualifications, response.page) = page.cut(qualifications, id: \.id)
            return response
        }
    }

    /// 002 appendix 2 (试点院校情况汇总表): the schools of the year's qualifications in force.
    @Sendable
    func getPilotSummaryTable(
        _ request: Xcert_Registry_V1_GetPilotSummaryTableRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_GetPilotSummaryTableResponse {
        let scope = try Scope(try call.caller())
        var checks = FieldChecks()
        checks.requireYear(request.year)
        checks.require(
            request.reviewingUnitCode.isEmpty || request.reviewingUnitCode.isDigits(6), "reviewing_unit_code",
            "must be a reviewing unit's 6-digit code, or empty for every unit")
        try checks.check()
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Registry_V1_GetPilotSummaryTableResponse()
            response.lines = try await PilotSummaryStore.lines(
                year: request.year, reviewingUnit: request.reviewingUnitCode.nonEmpty, scope: scope, connection, call.logger)
            response.schools = Int32(response.lines.count)
            response.certificates = Int32(Set(response.lines.flatMap { $0.certificates.map(\.certificateCode) }).count)
            response.studentScale = response.lines.reduce(0) { $0 + $1.studentScale }
            return response
        }
    }

    /// The registry's part of the province's monthly bulletin.
    @Sendable
    func getApplicationActivity(
        _ request: Xcert_Registry_V1_GetApplicationActivityRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_GetApplicationActivityResponse {
        _ = try call.caller()
        let days = try FieldChecks.checkDays(from: request.from, to: request.to)
        return try await self.context.database.read(call) { connection in
            try await PilotStore.activity(days, connection, call.logger)
        }
    }

    /// Qualifications are also visible to the organization of their certificate.
    private func qualificationScope(_ call: RequestContext) async throws -> Scope {
        try Scope(try call.caller())
    }

    @Sendable
    func revokeQualification(
        _ request: Xcert_Registry_V1_RevokeQualificationRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_PilotQualification {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require(request.qualificationID > 0, "qualification_id", "must name a qualification (a positive id)")
        let reason = request.reason.trimmed
        checks.require((1...1000).contains(reason.count), "reason", "is required: say which rule was broken (1 to 1000 characters)")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let locked = try await PilotStore.lockQualification(request.qualificationID, connection, call.logger)
            guard let locked else { throw RPCError(.notFound, "there is no pilot qualification \(request.qualificationID)") }
            if let revoked = locked.revokedAt {
                throw RPCError(.failedPrecondition, "qualification \(request.qualificationID) was already revoked at \(revoked)")
            }
            try await PilotStore.revoke(request.qualificationID, reason: reason, revokedBy: admin.name, connection, call.logger)
            try await PilotStore.recordChange(qualification: request.qualificationID, kind: "revoked", connection, call.logger)
            call.logger.notice(
                "pilot qualification revoked", metadata: ["qualification": "\(request.qualificationID)", "by": "\(admin.id)"])
            return try await PilotStore.qualification(request.qualificationID, scope: .everything, connection, call.logger)
        }
    }

    @Sendable
    func listQualificationChanges(
        _ request: Xcert_Registry_V1_ListQualificationChangesRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListQualificationChangesResponse {
        let page = try await FeedPaging.changes(after: request.after, limit: request.limit, cursor: { $0.cursor }, self.context, call) {
            after, limit, connection, logger in
            try await PilotStore.changes(after: after, limit: limit, connection, logger)
        }
        var response = Xcert_Registry_V1_ListQualificationChangesResponse()
        (response.changes, response.nextCursor) = page
        return response
    }
}
