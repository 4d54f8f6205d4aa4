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

/// `xcert.registry.v1.AllianceService`: each certificate's alliance of qualified schools,
/// and the selection of its lead schools (000): notice → applications → expert review →
/// public notice → final result. Province admins run the selection; schools apply for
/// themselves; everyone authenticated reads alliances and results.
struct AllianceService: Xcert_Registry_V1_AllianceService.Handler {
    let context: ServiceContext

    // MARK: - Alliances

    @Sendable
    func getAlliance(_ request: Xcert_Registry_V1_GetAllianceRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_Alliance {
        return try await self.context.database.read(call) { connection in
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            var alliance = Xcert_Registry_V1_Alliance()
            alliance.certificateCode = certificate.code
            alliance.certificateName = certificate.name
            alliance.year = request.year
            alliance.schoolCodes = try await AllianceStore.members(certificate.code, request.year, connection, call.logger)
            alliance.schoolCount = Int32(alliance.schoolCodes.count)
            alliance.applicantCount = Int32(try await AllianceStore.applicantCount(certificate.code, request.year, connection, call.logger))
            alliance.openToLeadSelection = alliance.applicantCount >= AllianceRules.minimumSchoolsForSelection
            // A certificate merged into another's selection has that selection's leads.
            if let into = try await LeadSelectionStore.mergedInto(certificate.code, request.year, connection, call.logger) {
                alliance.mergedIntoCertificateCode = into
            }
            let selection = try await LeadSelectionStore.selection(
                alliance.mergedIntoCertificateCode.nonEmpty ?? certificate.code, request.year, connection, call.logger)
            if let selection, selection.phase == .final {
                alliance.leads = selection.leads
            }
            return alliance
        }
    }

    @Sendable
    func listAlliances(
        _ request: Xcert_Registry_V1_ListAlliancesRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListAlliancesResponse {
        return try await self.context.database.read(call) { connection in
            var alliances: [Xcert_Registry_V1_Alliance] = []
            for var alliance in try await AllianceStore.alliances(year: request.year, connection, call.logger) {
                alliance.openToLeadSelection = alliance.applicantCount >= AllianceRules.minimumSchoolsForSelection
                if !request.onlyNotOpen || !alliance.openToLeadSelection { alliances.append(alliance) }
            }
            let leads = try await AllianceStore.finalLeads(year: request.year, connection, call.logger)
            var response = Xcert_Registry_V1_ListAlliancesResponse()
            response.alliances = alliances.map { alliance in
                var alliance = alliance
                alliance.leads = leads[alliance.certificateCode] ?? []
                return alliance
            }
            return response
        }
    }

    // MARK: - Lead-school selection

    @Sendable
    func openLeadSelection(
        _ request: Xcert_Registry_V1_OpenLeadSelectionRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadSelection {
        var checks = FieldChecks()
        checks.requireYear(request.year)
        let close = LocalDate(wire: request.applicationsClose).flatMap { FieldChecks.pilotYears.contains($0.year) ? $0 : nil }
        if close == nil {
            let date = request.applicationsClose
            checks.fail("applications_close", "must be a real date from 2019 on, not \(date.year)-\(date.month)-\(date.day)")
        }
        let merged = request.mergedCertificateCodes
        let category = request.specialtyCategory.trimmed
        if merged.isEmpty {
            checks.require(category.isEmpty, "specialty_category", "is only for a merged selection: name merged_certificate_codes too")
        } else {
            checks.require(
                (1...50).contains(category.count), "specialty_category",
                "must name the specialty category (专业大类) the certificates are merged by, 1 to 50 characters")
            checks.require(
                Set(merged + [request.certificateCode]).count == merged.count + 1, "merged_certificate_codes",
                "must name other certificates, each once")
        }
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            if merged.isEmpty {
                let applicants = try await AllianceStore.applicantCount(certificate.code, request.year, connection, call.logger)
                guard applicants >= AllianceRules.minimumSchoolsForSelection else {
                    throw RPCError(
                        .failedPrecondition,
                        """
                        certificate \(certificate.code) has \(applicants) applying schools (申报学校数) in \(request.year); \
                        certificates with fewer than \(AllianceRules.minimumSchoolsForSelection) are not put to lead-school selection \
                        (merge by specialty category or assign a school)
                        """
                    )
                }
            } else {
                try await Self.requireMergeable([certificate.code] + merged, request.year, connection, call)
            }
            if let into = try await LeadSelectionStore.mergedInto(certificate.code, request.year, connection, call.logger) {
                throw RPCError(.alreadyExists, "\(certificate.code) is merged into the selection of \(into) for \(request.year)")
            }
            let created = try await LeadSelectionStore.open(
                certificate.code, request.year, applicationsClose: close, merging: merged, specialtyCategory: category.nonEmpty, connection,
                call.logger
            )
            guard created else {
                throw RPCError(.alreadyExists, "the lead-school selection of \(certificate.code) for \(request.year) is already open")
            }
            return try await Self.requireSelection(certificate.code, request.year, connection, call.logger)
        }
    }

    @Sendable
    func getLeadSelection(
        _ request: Xcert_Registry_V1_GetLeadSelectionRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadSelection {
        let principal = try call.caller()
        return try await self.context.database.read(call) { connection in
            var selection = try await Self.requireSelection(request.certificateCode, request.year, connection, call.logger)
            // Applications are read by the province; a school sees its own; the certificate's
            // organization all of them (it gives its opinion, 000 第四条); a city reviewer those
            // of its unit's schools (it recommends them, 第十七条).
            switch principal.role {
            case .provinceAdmin, .service: break
            case .school: selection.applications.removeAll { $0.schoolCode != principal.party }
            case .organization:
                let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
                if certificate.organizationID != (try principal.organizationID()) { selection.applications = [] }
            case .cityReviewer:
                var kept: [Xcert_Registry_V1_LeadApplication] = []
                for application in selection.applications {
                    let school = try await ReferenceStore.school(application.schoolCode, connection, call.logger)
                    if school.reviewingUnitCode == principal.party {
                        kept.append(application)
                    }
                }
                selection.applications = kept
            default: selection.applications = []
            }
            return selection
        }
    }

    @Sendable
    func submitLeadApplication(
        _ request: Xcert_Registry_V1_SubmitLeadApplicationRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadApplication {
        let principal = try call.caller()
        try principal.requireActingFor(school: request.schoolCode, "applies")
        var checks = FieldChecks()
        let form = request.form
        checks.require(
            (1...50).contains(form.contactPerson.trimmed.count), "form.contact_person", "is required (联系人), at most 50 characters")
        checks.require(
            !form.contactPhone.trimmed.isEmpty && form.contactPhone.trimmed.isPhone, "form.contact_phone",
            "is required (联系方式): a phone number")
        checks.require((1...200).contains(form.address.trimmed.count), "form.address", "is required (通信地址), at most 200 characters")
        checks.require(
            (1...500).contains(form.schoolProfile.trimmed.count), "form.school_profile",
            "is required (三、申请院校基本情况), at most 500 characters; it has \(form.schoolProfile.trimmed.count)")
        checks.require(
            (1...500).contains(form.implementation.trimmed.count), "form.implementation",
            "is required (四、1+X实施情况), at most 500 characters; it has \(form.implementation.trimmed.count)")
        checks.require(
            form.advantages.count <= 5 && form.advantages.allSatisfy { (1...500).contains($0.trimmed.count) }, "form.advantages",
            "one item per preference condition of §十四 (at most 5), each 1 to 500 characters")
        checks.require(
            (1...2000).contains(form.workPlan.trimmed.count), "form.work_plan", "is required (六、拟开展工作计划), at most 2000 characters")
        checks.require(form.commitmentSigned, "form.commitment_signed", "the school's commitment (七、院校承诺) must be signed")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let selection = try await LeadSelectionStore.selection(request.certificateCode, request.year, connection, call.logger)
            guard let selection else {
                throw RPCError(.failedPrecondition, "no lead-school selection is open for \(request.certificateCode) in \(request.year)")
            }
            try LeadSelectionStore.lifecycle(of: selection).requireApplicationsOpen(now: Date())
            let school = try await ReferenceStore.school(request.schoolCode, connection, call.logger)
            try Self.requireNoIrregularities(school, "may not apply")
            let members = try await AllianceStore.members(
                of: [request.certificateCode] + selection.mergedCertificateCodes, request.year, connection, call.logger)
            guard members.contains(school.code) else {
                throw RPCError(
                    .failedPrecondition,
                    """
                    school \(school.code) holds no pilot qualification for \(request.certificateCode) in \(request.year); \
                    only the alliance's schools may apply
                    """
                )
            }
            let added = try await LeadSelectionStore.addApplication(
                request.certificateCode, request.year, school: school.code, form: form, connection, call.logger
            )
            if let id = added {
                return try await LeadSelectionStore.application(id, connection, call.logger)
            }
            throw RPCError(
                .alreadyExists, "school \(school.code) has already applied to lead \(request.certificateCode) in \(request.year)")
        }
    }

    @Sendable
    func closeLeadApplications(
        _ request: Xcert_Registry_V1_CloseLeadApplicationsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadSelection {
        try await self.transition(request.certificateCode, request.year, call) { selection in try selection.closeApplications() }
    }

    @Sendable
    func recordExpertScore(
        _ request: Xcert_Registry_V1_RecordExpertScoreRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadApplication {
        var checks = FieldChecks()
        checks.require(request.applicationID > 0, "application_id", "must name a lead application")
        checks.require((1...50).contains(request.expert.trimmed.count), "expert", "must name the expert, 1 to 50 characters")
        checks.require((0...100).contains(request.score), "score", "must be 0 to 100, not \(request.score)")
        checks.require(request.comment.count <= 1000, "comment", "must be at most 1000 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let application = try await LeadSelectionStore.application(request.applicationID, connection, call.logger)
            let selection = try await Self.requireSelection(application.certificateCode, application.year, connection, call.logger)
            try LeadSelectionStore.lifecycle(of: selection).requireExpertReview()
            let recorded = try await LeadSelectionStore.addScore(
                application: request.applicationID, expert: request.expert.trimmed, score: request.score, comment: request.comment,
                connection, call.logger
            )
            guard recorded else {
                throw RPCError(.alreadyExists, "\(request.expert.trimmed) has already scored application \(request.applicationID)")
            }
            return try await LeadSelectionStore.application(request.applicationID, connection, call.logger)
        }
    }

    @Sendable
    func nameLeadSchools(
        _ request: Xcert_Registry_V1_NameLeadSchoolsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadSelection {
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
                violations.fail(
                    "leads[\(index)].school_code", "\(lead.schoolCode) did not apply to lead \(request.certificateCode) in \(request.year)")
            }
            try violations.check()
            // An irregularity recorded since the school applied bars it as much (000 §十五).
            for lead in request.leads {
                try Self.requireNoIrregularities(
                    try await ReferenceStore.school(lead.schoolCode, connection, call.logger), "may not be named a lead school")
            }
            try await LeadSelectionStore.addLeads(
                request.leads, certificate: request.certificateCode, year: request.year, connection, call.logger
            )
            try await LeadSelectionStore.record(named, certificate: request.certificateCode, year: request.year, connection, call.logger)
            return try await Self.requireSelection(request.certificateCode, request.year, connection, call.logger)
        }
    }

    @Sendable
    func finalizeLeadSelection(
        _ request: Xcert_Registry_V1_FinalizeLeadSelectionRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadSelection {
        try await self.transition(request.certificateCode, request.year, call) { selection in try selection.finalize(now: Date()) }
    }

    /// 000 第五条: certificates merged into one selection each have fewer than 10 applying
    /// schools and no selection yet, and together 10 or more.
    static func requireMergeable(
        _ certificates: [String], _ year: Int32, _ connection: PostgresConnection, _ call: RequestContext
    ) async throws {
        for (index, code) in certificates.enumerated() {
            let field = index == 0 ? "certificate_code" : "merged_certificate_codes[\(index - 1)]"
            guard try await !ReferenceStore.certificates(codes: [code], connection, call.logger).isEmpty else {
                throw RPCError.invalidArgument([.init(field: field, description: "there is no certificate \(code)")])
            }
            let applicants = try await AllianceStore.applicantCount(code, year, connection, call.logger)
            guard applicants < AllianceRules.minimumSchoolsForSelection else {
                throw RPCError(
                    .failedPrecondition,
                    "\(code) has \(applicants) applying schools in \(year): it holds a selection of its own, it is not merged (000 第五条)")
            }
            let into = try await LeadSelectionStore.mergedInto(code, year, connection, call.logger)
            let own = try await LeadSelectionStore.selection(code, year, connection, call.logger)
            guard into == nil, own == nil || index == 0 else {
                throw RPCError(
                    .alreadyExists,
                    "\(code) has a lead-school selection for \(year) already (\(into.map { "merged into \($0)" } ?? "its own"))")
            }
        }
        let together = try await AllianceStore.applicantCount(of: certificates, year, connection, call.logger)
        guard together >= AllianceRules.minimumSchoolsForSelection else {
            throw RPCError(
                .failedPrecondition,
                """
                \(certificates.joined(separator: ", ")) have \(together) applying schools together in \(year): a merged selection needs \
                \(AllianceRules.minimumSchoolsForSelection) (000 第五条); merge more certificates of the category or assign a school
                """
            )
        }
    }

    /// 000 §十五: a school with irregularities recorded during the pilot (training or facilities,
    /// funds, reform defects) takes no part in lead-school selection; refused, listing them.
    static func requireNoIrregularities(_ school: Xcert_Registry_V1_School, _ consequence: String) throws {
        guard !school.irregularities.isEmpty else { return }
        let listed = school.irregularities.map { "\($0.year): \($0.description_p)" }.joined(separator: "; ")
        throw RPCError(
            .failedPrecondition,
            "school \(school.code) has recorded irregularities during the pilot (\(listed)); such schools \(consequence) (000 §十五)")
    }

    /// Loads the selection, lets `decide` move it on, and persists what it decided.
    private func transition(
        _ certificate: String, _ year: Int32, _ call: RequestContext,
        _ decide: @Sendable (inout LeadSelection) throws -> LeadSelection.Event
    ) async throws -> Xcert_Registry_V1_LeadSelection {
        try await self.context.idempotency.perform(call) { connection in
            var selection = try LeadSelectionStore.lifecycle(
                of: try await Self.requireSelection(certificate, year, connection, call.logger))
            let event = try decide(&selection)
            try await LeadSelectionStore.record(event, certificate: certificate, year: year, connection, call.logger)
            return try await Self.requireSelection(certificate, year, connection, call.logger)
        }
    }

    // MARK: - Reading

    /// The selection of `certificate` in `year`, or `notFound`.
    static func requireSelection(
        _ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_LeadSelection {
        guard let selection = try await LeadSelectionStore.selection(certificate, year, connection, logger) else {
            throw RPCError(.notFound, "there is no lead-school selection of \(certificate) for \(year)")
        }
        return selection
    }
}
