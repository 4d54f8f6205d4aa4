import Foundation
import PostgresNIO
import SwiftProtobuf
import Logging
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.registry.v1.AllianceService`: each certificate's alliance of qualified schools,
/// and the selection of its lead schools (000): notice → applications → expert review →
/// public notice → final result. Province admins run the selection; schools apply for
/// themselves; everyone authenticated reads alliances and results.
struct AllianceService: Xcert_Registry_V1_AllianceService.Handler {
    let context: ServiceContext

    

    // MARK: - Alliances

    @Sendable
    func getAlliance(_ request: Xcert_Registry_V1_GetAllianceRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_Alliance {
        return try await self.context.database.transaction(call) { connection in
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            var alliance = Xcert_Registry_V1_Alliance()
            alliance.certificateCode = certificate.code
            alliance.certificateName = certificate.name
            alliance.year = request.year
            alliance.schoolCodes = try await Self.members(certificate.code, request.year, connection, call.logger)
            alliance.schoolCount = Int32(alliance.schoolCodes.count)
            alliance.openToLeadSelection = alliance.schoolCount >= AllianceRules.minimumSchoolsForSelection
            if let selection = try await Self.selection(certificate.code, request.year, connection, call.logger), selection.phase == .final {
                alliance.leads = selection.leads
            }
            return alliance
        }
    }

    @Sendable
    func listAlliances(_ request: Xcert_Registry_V1_ListAlliancesRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_ListAlliancesResponse {
        return try await self.context.database.transaction(call) { connection in
            let rows = try await connection.query(
                """
                SELECT c.code, c.name, count(DISTINCT q.school_code)
                FROM registry.qualifications q JOIN registry.certificates c ON c.code = q.certificate_code
                WHERE q.year = \(request.year) AND q.revoked_at IS NULL
                GROUP BY c.code, c.name ORDER BY c.code
                """,
                logger: call.logger
            )
            var alliances: [Xcert_Registry_V1_Alliance] = []
            for try await (code, name, count) in rows.decode((String, String, Int64).self) {
                var alliance = Xcert_Registry_V1_Alliance()
                alliance.certificateCode = code
                alliance.certificateName = name
                alliance.year = request.year
                alliance.schoolCount = Int32(count)
                alliance.openToLeadSelection = count >= AllianceRules.minimumSchoolsForSelection
                if !request.onlyNotOpen || !alliance.openToLeadSelection { alliances.append(alliance) }
            }
            let leads = try await Self.finalLeads(year: request.year, connection, call.logger)
            var response = Xcert_Registry_V1_ListAlliancesResponse()
            response.alliances = alliances.map { alliance in
                var alliance = alliance
                alliance.leads = leads[alliance.certificateCode] ?? []
                return alliance
            }
            return response
        }
    }

    /// The lead schools of the year's final selections, by certificate.
    static func finalLeads(year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String: [Xcert_Registry_V1_LeadSchool]] {
        let rows = try await connection.query(
            """
            SELECT l.certificate_code, l.school_code, s.name, l.is_primary
            FROM registry.lead_schools l
            JOIN registry.lead_selections x ON x.certificate_code = l.certificate_code AND x.year = l.year
            JOIN registry.schools s ON s.code = l.school_code
            WHERE l.year = \(year) AND x.phase = 'final'
            ORDER BY l.certificate_code, l.is_primary DESC, l.school_code
            """,
            logger: logger
        )
        var leads: [String: [Xcert_Registry_V1_LeadSchool]] = [:]
        for try await (certificate, code, name, primary) in rows.decode((String, String, String, Bool).self) {
            var lead = Xcert_Registry_V1_LeadSchool()
            lead.schoolCode = code
            lead.schoolName = name
            lead.primary = primary
            leads[certificate, default: []].append(lead)
        }
        return leads
    }

    /// The schools holding a qualification in force for the certificate and year.
    static func members(_ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String] {
        let rows = try await connection.query(
            """
            SELECT DISTINCT school_code FROM registry.qualifications
            WHERE certificate_code = \(certificate) AND year = \(year) AND revoked_at IS NULL ORDER BY school_code
            """,
            logger: logger
        )
        var schools: [String] = []
        for try await school in rows.decode(String.self) { schools.append(school) }
        return schools
    }

    // MARK: - Lead-school selection

    @Sendable
    func openLeadSelection(_ request: Xcert_Registry_V1_OpenLeadSelectionRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_LeadSelection {
        var checks = FieldChecks()
        checks.require((2019...2100).contains(request.year), "year", "must be a pilot year, 2019 to 2100")
        let close = LocalDate(wire: request.applicationsClose).flatMap { (2019...2100).contains($0.year) ? $0 : nil }
        if close == nil {
            let date = request.applicationsClose
            checks.fail("applications_close", "must be a real date from 2019 on, not \(date.year)-\(date.month)-\(date.day)")
        }
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            let members = try await Self.members(certificate.code, request.year, connection, call.logger)
            guard members.count >= AllianceRules.minimumSchoolsForSelection else {
                throw RPCError(.failedPrecondition, "certificate \(certificate.code) has \(members.count) qualified schools in \(request.year); certificates with fewer than \(AllianceRules.minimumSchoolsForSelection) are not put to lead-school selection (merge by specialty category or assign a school)")
            }
            let inserted = try await connection.query(
                """
                INSERT INTO registry.lead_selections (certificate_code, year, phase, applications_close)
                VALUES (\(certificate.code), \(request.year), 'applications', \(close?.description)::date)
                ON CONFLICT DO NOTHING RETURNING year
                """,
                logger: call.logger
            )
            var created = false
            for try await _ in inserted.decode(Int32.self) { created = true }
            guard created else { throw RPCError(.alreadyExists, "the lead-school selection of \(certificate.code) for \(request.year) is already open") }
            return try await Self.requireSelection(certificate.code, request.year, connection, call.logger)
        }
    }

    @Sendable
    func getLeadSelection(_ request: Xcert_Registry_V1_GetLeadSelectionRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_LeadSelection {
        let principal = try call.caller()
        return try await self.context.database.transaction(call) { connection in
            var selection = try await Self.requireSelection(request.certificateCode, request.year, connection, call.logger)
            // Applications are read by the province; a school sees its own.
            switch principal.role {
            case .provinceAdmin, .service: break
            case .school: selection.applications.removeAll { $0.schoolCode != principal.party }
            default: selection.applications = []
            }
            return selection
        }
    }

    @Sendable
    func submitLeadApplication(_ request: Xcert_Registry_V1_SubmitLeadApplicationRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_LeadApplication {
        let principal = try call.caller()
        if principal.role == .school, principal.party != request.schoolCode {
            throw RPCError(.permissionDenied, "a school applies only for itself (\(principal.party ?? "none")), not for \(request.schoolCode)")
        }
        var checks = FieldChecks()
        let form = request.form
        checks.require((1...50).contains(form.contactPerson.trimmed.count), "form.contact_person", "is required (联系人), at most 50 characters")
        checks.require(!form.contactPhone.trimmed.isEmpty && form.contactPhone.trimmed.isPhone, "form.contact_phone", "is required (联系方式): a phone number")
        checks.require((1...200).contains(form.address.trimmed.count), "form.address", "is required (通信地址), at most 200 characters")
        checks.require((1...500).contains(form.schoolProfile.trimmed.count), "form.school_profile", "is required (三、申请院校基本情况), at most 500 characters; it has \(form.schoolProfile.trimmed.count)")
        checks.require((1...500).contains(form.implementation.trimmed.count), "form.implementation", "is required (四、1+X实施情况), at most 500 characters; it has \(form.implementation.trimmed.count)")
        checks.require(form.advantages.count <= 5 && form.advantages.allSatisfy { (1...500).contains($0.trimmed.count) }, "form.advantages", "one item per preference condition of §十四 (at most 5), each 1 to 500 characters")
        checks.require((1...2000).contains(form.workPlan.trimmed.count), "form.work_plan", "is required (六、拟开展工作计划), at most 2000 characters")
        checks.require(form.commitmentSigned, "form.commitment_signed", "the school's commitment (七、院校承诺) must be signed")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            guard let selection = try await Self.selection(request.certificateCode, request.year, connection, call.logger) else {
                throw RPCError(.failedPrecondition, "no lead-school selection is open for \(request.certificateCode) in \(request.year)")
            }
            try LeadSelectionStore.lifecycle(of: selection).requireApplicationsOpen(now: Date())
            let school = try await ReferenceStore.school(request.schoolCode, connection, call.logger)
            if !school.irregularities.isEmpty {
                let listed = school.irregularities.map { "\($0.year): \($0.description_p)" }.joined(separator: "; ")
                throw RPCError(.failedPrecondition, "school \(school.code) has recorded irregularities during the pilot (\(listed)); such schools may not apply (000 §十五)")
            }
            let members = try await Self.members(request.certificateCode, request.year, connection, call.logger)
            guard members.contains(school.code) else {
                throw RPCError(.failedPrecondition, "school \(school.code) holds no pilot qualification for \(request.certificateCode) in \(request.year); only the alliance's schools may apply")
            }
            let inserted = try await connection.query(
                """
                INSERT INTO registry.lead_applications (certificate_code, year, school_code, contact_person, contact_phone, address,
                    school_profile, implementation, advantages, work_plan, commitment_signed)
                VALUES (\(request.certificateCode), \(request.year), \(school.code), \(form.contactPerson.trimmed), \(form.contactPhone.trimmed),
                    \(form.address.trimmed), \(form.schoolProfile.trimmed), \(form.implementation.trimmed), \(form.advantages.map(\.trimmed)),
                    \(form.workPlan.trimmed), \(form.commitmentSigned))
                ON CONFLICT DO NOTHING RETURNING id
                """,
                logger: call.logger
            )
            for try await id in inserted.decode(Int64.self) {
                return try await Self.application(id, connection, call.logger)
            }
            throw RPCError(.alreadyExists, "school \(school.code) has already applied to lead \(request.certificateCode) in \(request.year)")
        }
    }

    @Sendable
    func closeLeadApplications(_ request: Xcert_Registry_V1_CloseLeadApplicationsRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_LeadSelection {
        try await self.transition(request.certificateCode, request.year, call) { selection in try selection.closeApplications() }
    }

    @Sendable
    func recordExpertScore(_ request: Xcert_Registry_V1_RecordExpertScoreRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_LeadApplication {
        var checks = FieldChecks()
        checks.require(request.applicationID > 0, "application_id", "must name a lead application")
        checks.require((1...50).contains(request.expert.trimmed.count), "expert", "must name the expert, 1 to 50 characters")
        checks.require((0...100).contains(request.score), "score", "must be 0 to 100, not \(request.score)")
        checks.require(request.comment.count <= 1000, "comment", "must be at most 1000 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let application = try await Self.application(request.applicationID, connection, call.logger)
            let selection = try await Self.requireSelection(application.certificateCode, application.year, connection, call.logger)
            try LeadSelectionStore.lifecycle(of: selection).requireExpertReview()
            let inserted = try await connection.query(
                """
                INSERT INTO registry.expert_scores (application_id, expert, score, comment)
                VALUES (\(request.applicationID), \(request.expert.trimmed), \(request.score), \(request.comment))
                ON CONFLICT DO NOTHING RETURNING score
                """,
                logger: call.logger
            )
            var recorded = false
            for try await _ in inserted.decode(Int32.self) { recorded = true }
            guard recorded else { throw RPCError(.alreadyExists, "\(request.expert.trimmed) has already scored application \(request.applicationID)") }
            return try await Self.application(request.applicationID, connection, call.logger)
        }
    }

    @Sendable
    func nameLeadSchools(_ request: Xcert_Registry_V1_NameLeadSchoolsRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_LeadSelection {
        var checks = FieldChecks()
        for problem in AllianceRules.problems(naming: request.leads.map { ($0.schoolCode, $0.primary) }) {
            checks.fail("leads", problem)
        }
        checks.require((1...30).contains(request.noticeDays), "notice_days", "must be 1 to 30 days of public notice (公示)")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let selection = try await Self.requireSelection(request.certificateCode, request.year, connection, call.logger)
            var lifecycle = try LeadSelectionStore.lifecycle(of: selection)
            let named = try lifecycle.nameLeads(noticeDays: request.noticeDays, now: Date())
            let applicants = Set(selection.applications.map(\.schoolCode))
            var violations = FieldChecks()
            for (index, lead) in request.leads.enumerated() where !applicants.contains(lead.schoolCode) {
                violations.fail("leads[\(index)].school_code", "\(lead.schoolCode) did not apply to lead \(request.certificateCode) in \(request.year)")
            }
            try violations.check()
            for lead in request.leads {
                try await connection.query(
                    "INSERT INTO registry.lead_schools (certificate_code, year, school_code, is_primary) VALUES (\(request.certificateCode), \(request.year), \(lead.schoolCode), \(lead.primary))",
                    logger: call.logger
                )
            }
            try await LeadSelectionStore.record(named, certificate: request.certificateCode, year: request.year, connection, call.logger)
            return try await Self.requireSelection(request.certificateCode, request.year, connection, call.logger)
        }
    }

    @Sendable
    func finalizeLeadSelection(_ request: Xcert_Registry_V1_FinalizeLeadSelectionRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_LeadSelection {
        try await self.transition(request.certificateCode, request.year, call) { selection in try selection.finalize(now: Date()) }
    }

    /// Loads the selection, lets `decide` move it on, and persists what it decided.
    private func transition(
        _ certificate: String, _ year: Int32, _ call: RequestContext,
        _ decide: @Sendable (inout LeadSelection) throws -> LeadSelection.Event
    ) async throws -> Xcert_Registry_V1_LeadSelection {
        try await self.context.idempotency.perform(call) { connection in
            var selection = try LeadSelectionStore.lifecycle(of: try await Self.requireSelection(certificate, year, connection, call.logger))
            let event = try decide(&selection)
            try await LeadSelectionStore.record(event, certificate: certificate, year: year, connection, call.logger)
            return try await Self.requireSelection(certificate, year, connection, call.logger)
        }
    }

    // MARK: - Reading

    static func requireSelection(_ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Registry_V1_LeadSelection {
        guard let selection = try await self.selection(certificate, year, connection, logger) else {
            throw RPCError(.notFound, "there is no lead-school selection of \(certificate) for \(year)")
        }
        return selection
    }

    static func selection(_ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Registry_V1_LeadSelection? {
        let rows = try await connection.query(
            """
            SELECT phase, extract(year FROM applications_close)::integer, extract(month FROM applications_close)::integer,
                   extract(day FROM applications_close)::integer, notice_ends_at, finalized_at
            FROM registry.lead_selections WHERE certificate_code = \(certificate) AND year = \(year)
            """,
            logger: logger
        )
        var found: Xcert_Registry_V1_LeadSelection?
        for try await row in rows.decode((String, Int32, Int32, Int32, Date?, Date?).self) {
            var selection = Xcert_Registry_V1_LeadSelection()
            selection.certificateCode = certificate
            selection.year = year
            selection.phase = SelectionPhases.wire(row.0)
            selection.applicationsClose.year = row.1
            selection.applicationsClose.month = row.2
            selection.applicationsClose.day = row.3
            if let ends = row.4 { selection.noticeEndsAt = .init(ends) }
            if let finalized = row.5 { selection.finalizedAt = .init(finalized) }
            found = selection
        }
        guard var selection = found else { return nil }
        let ids = try await connection.query(
            "SELECT id FROM registry.lead_applications WHERE certificate_code = \(certificate) AND year = \(year) ORDER BY id",
            logger: logger
        )
        var applicationIDs: [Int64] = []
        for try await id in ids.decode(Int64.self) { applicationIDs.append(id) }
        for id in applicationIDs { selection.applications.append(try await self.application(id, connection, logger)) }
        let leads = try await connection.query(
            """
            SELECT l.school_code, s.name, l.is_primary FROM registry.lead_schools l JOIN registry.schools s ON s.code = l.school_code
            WHERE l.certificate_code = \(certificate) AND l.year = \(year) ORDER BY l.is_primary DESC, l.school_code
            """,
            logger: logger
        )
        for try await (code, name, primary) in leads.decode((String, String, Bool).self) {
            var lead = Xcert_Registry_V1_LeadSchool()
            lead.schoolCode = code
            lead.schoolName = name
            lead.primary = primary
            selection.leads.append(lead)
        }
        return selection
    }

    static func application(_ id: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Registry_V1_LeadApplication {
        let rows = try await connection.query(
            """
            SELECT a.id, a.certificate_code, a.year, a.school_code, s.name, a.contact_person, a.contact_phone, a.address,
                   a.school_profile, a.implementation, a.advantages, a.work_plan, a.commitment_signed, a.submitted_at
            FROM registry.lead_applications a JOIN registry.schools s ON s.code = a.school_code WHERE a.id = \(id)
            """,
            logger: logger
        )
        var found: Xcert_Registry_V1_LeadApplication?
        for try await row in rows.decode((Int64, String, Int32, String, String, String, String, String, String, String, [String], String, Bool, Date).self) {
            var application = Xcert_Registry_V1_LeadApplication()
            application.id = row.0
            application.certificateCode = row.1
            application.year = row.2
            application.schoolCode = row.3
            application.schoolName = row.4
            application.form.contactPerson = row.5
            application.form.contactPhone = row.6
            application.form.address = row.7
            application.form.schoolProfile = row.8
            application.form.implementation = row.9
            application.form.advantages = row.10
            application.form.workPlan = row.11
            application.form.commitmentSigned = row.12
            application.submittedAt = .init(row.13)
            found = application
        }
        guard var application = found else { throw RPCError(.notFound, "there is no lead application \(id)") }
        let scores = try await connection.query(
            "SELECT expert, score, comment, scored_at FROM registry.expert_scores WHERE application_id = \(id) ORDER BY scored_at, expert",
            logger: logger
        )
        for try await (expert, score, comment, scoredAt) in scores.decode((String, Int32, String, Date).self) {
            var entry = Xcert_Registry_V1_ExpertScore()
            entry.expert = expert
            entry.score = score
            entry.comment = comment
            entry.scoredAt = .init(scoredAt)
            application.scores.append(entry)
        }
        application.averageScore.numerator = application.scores.reduce(0) { $0 + Int64($1.score) }
        application.averageScore.denominator = Int64(application.scores.count)
        return application
    }
}

/// `SelectionPhase` as the database keeps it.
enum SelectionPhases {
    static func wire(_ stored: String) -> Xcert_Registry_V1_SelectionPhase {
        switch stored {
        case "applications": .applications
        case "expert_review": .expertReview
        case "public_notice": .publicNotice
        case "final": .final
        default: .unspecified
        }
    }
}

