import Foundation
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// What `AllianceService` does about leads outside the selection's own naming: the province
/// assigns the leads of a certificate too small for selection (000 第五条) and adjusts final
/// leads (第三条 动态调整), each with its reason, kept in the selection's history; the
/// organization gives its opinion of applicants (第四条), education bureaus recommend them
/// (第十七条).
extension AllianceService {
    @Sendable
    func assignLeadSchools(
        _ request: Xcert_Registry_V1_AssignLeadSchoolsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadSelection {
        let admin = try call.caller()
        var checks = FieldChecks()
        for problem in AllianceRules.problems(naming: request.leads.map { ($0.schoolCode, $0.primary) }) { checks.fail("leads", problem) }
        checks.require(
            (1...1000).contains(request.reason.trimmed.count), "reason", "must say why the province names them, 1 to 1000 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            let applicants = try await AllianceStore.applicantCount(certificate.code, request.year, connection, call.logger)
            guard applicants < AllianceRules.minimumSchoolsForSelection else {
                throw RPCError(
                    .failedPrecondition,
                    """
                    \(certificate.code) has \(applicants) applying schools (申报学校数) in \(request.year), \
                    \(AllianceRules.minimumSchoolsForSelection) or more: its leads are selected openly (000 第五条), not assigned
                    """
                )
            }
            try await Self.requireEligibleLeads(
                request.leads.map(\.schoolCode), certificates: [certificate.code], year: request.year, connection, call)
            if let into = try await LeadSelectionStore.mergedInto(certificate.code, request.year, connection, call.logger) {
                throw RPCError(.alreadyExists, "\(certificate.code) is merged into the selection of \(into) for \(request.year)")
            }
            guard try await LeadAdjustmentStore.openAssigned(certificate.code, request.year, now: Date(), connection, call.logger) else {
                throw RPCError(
                    .alreadyExists, "\(certificate.code) has a lead-school selection for \(request.year) already; adjust its leads instead")
            }
            let leads = request.leads.map { (school: $0.schoolCode, primary: $0.primary) }
            try await LeadAdjustmentStore.replaceLeads(leads, certificate: certificate.code, year: request.year, connection, call.logger)
            for lead in leads {
                try await LeadAdjustmentStore.recordChange(
                    .assigned, certificate: certificate.code, year: request.year, removed: nil, added: lead.school,
                    addedPrimary: lead.primary,
                    reason: request.reason.trimmed, changedBy: admin.name, connection, call.logger)
            }
            return try await Self.requireSelection(certificate.code, request.year, connection, call.logger)
        }
    }

    @Sendable
    func adjustLeadSchools(
        _ request: Xcert_Registry_V1_AdjustLeadSchoolsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadSelection {
        let admin = try call.caller()
        let removing = request.removeSchoolCode.nonEmpty
        let adding = request.hasAdd ? (school: request.add.schoolCode, primary: request.add.primary) : nil
        var checks = FieldChecks()
        if let removing { checks.require(removing.isDigits(10), "remove_school_code", "must be a lead school's 10-digit code") }
        if let adding { checks.require(adding.school.isDigits(10), "add.school_code", "must be a school's 10-digit code") }
        checks.require((1...1000).contains(request.reason.trimmed.count), "reason", "must say why, 1 to 1000 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let selection = try await Self.requireSelection(request.certificateCode, request.year, connection, call.logger)
            guard selection.phase == .final else {
                throw RPCError(
                    .failedPrecondition,
                    "the selection of \(request.certificateCode) in \(request.year) is not final yet: its leads are adjusted once final")
            }
            let leads = try AllianceRules.adjusted(
                selection.leads.map { ($0.schoolCode, $0.primary) }, removing: removing, adding: adding)
            if let adding {
                try await Self.requireEligibleLeads(
                    [adding.school], certificates: [request.certificateCode] + selection.mergedCertificateCodes, year: request.year,
                    connection, call)
            }
            try await LeadAdjustmentStore.replaceLeads(
                leads, certificate: request.certificateCode, year: request.year, connection, call.logger)
            let kind: LeadAdjustmentStore.Kind = removing != nil && adding != nil ? .replaced : removing != nil ? .removed : .added
            try await LeadAdjustmentStore.recordChange(
                kind, certificate: request.certificateCode, year: request.year, removed: removing, added: adding?.school,
                addedPrimary: adding?.primary ?? false, reason: request.reason.trimmed, changedBy: admin.name, connection, call.logger)
            call.logger.notice(
                "lead schools adjusted",
                metadata: ["certificate": "\(request.certificateCode)", "year": "\(request.year)", "kind": "\(kind)"])
            return try await Self.requireSelection(request.certificateCode, request.year, connection, call.logger)
        }
    }

    /// A lead must be of the alliance of the certificates it leads (qualified in the year for
    /// one of them) and without a recorded irregularity (000 第十二条, 第十五条).
    static func requireEligibleLeads(
        _ schools: [String], certificates: [String], year: Int32, _ connection: PostgresConnection, _ call: RequestContext
    ) async throws {
        let members = Set(try await AllianceStore.members(of: certificates, year, connection, call.logger))
        for school in schools {
            guard members.contains(school) else {
                throw RPCError(
                    .failedPrecondition,
                    """
                    school \(school) holds no pilot qualification for \(certificates.joined(separator: " or ")) in \(year): only its \
                    alliance's schools lead it
                    """)
            }
            try Self.requireNoIrregularities(try await ReferenceStore.school(school, connection, call.logger), "may not lead an alliance")
        }
    }

    @Sendable
    func recordOrganizationOpinion(
        _ request: Xcert_Registry_V1_RecordOrganizationOpinionRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadApplication {
        let principal = try call.caller()
        var checks = FieldChecks()
        checks.require(request.applicationID > 0, "application_id", "must name a lead application")
        let opinion = LeadAdjustmentStore.storedOpinion(request.opinion)
        checks.require(opinion != nil, "opinion", "must be SUPPORTS, NO_OBJECTION or OPPOSES")
        checks.require(
            (1...1000).contains(request.text.trimmed.count), "text", "must give the organization's reasons, 1 to 1000 characters")
        try checks.check()
        guard let opinion else { throw RPCError(.internal, "the opinion was not checked") }
        return try await self.context.idempotency.perform(call) { connection in
            let application = try await Self.openApplication(request.applicationID, connection, call)
            if principal.role == .organization {
                let certificate = try await ReferenceStore.certificate(application.certificateCode, connection, call.logger)
                guard certificate.organizationID == (try principal.organizationID()) else {
                    throw RPCError(.notFound, "there is no lead application \(request.applicationID)")
                }
            }
            guard
                try await LeadAdjustmentStore.addOpinion(
                    application: application.id, opinion: opinion, text: request.text.trimmed, recordedBy: principal.name, connection,
                    call.logger)
            else { throw RPCError(.alreadyExists, "the organization has given its opinion of lead application \(application.id) already") }
            return try await LeadSelectionStore.application(application.id, connection, call.logger)
        }
    }

    @Sendable
    func recommendLeadApplicant(
        _ request: Xcert_Registry_V1_RecommendLeadApplicantRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadApplication {
        let principal = try call.caller()
        var checks = FieldChecks()
        checks.require(request.applicationID > 0, "application_id", "must name a lead application")
        checks.require(
            (1...1000).contains(request.text.trimmed.count), "text", "must say why the bureau recommends it, 1 to 1000 characters")
        let unit = principal.role == .cityReviewer ? principal.party ?? "" : request.reviewingUnitCode
        if principal.role == .cityReviewer {
            checks.require(
                request.reviewingUnitCode.isEmpty || request.reviewingUnitCode == unit, "reviewing_unit_code",
                "a city reviewer recommends for its own unit (\(unit)) only")
        } else {
            checks.require(unit.isDigits(6), "reviewing_unit_code", "must name the recommending bureau: a reviewing unit's 6-digit code")
        }
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let application = try await Self.openApplication(request.applicationID, connection, call)
            guard try await !ReferenceStore.reviewingUnits(codes: [unit], connection, call.logger).isEmpty else {
                throw RPCError.invalidArgument([.init(field: "reviewing_unit_code", description: "there is no reviewing unit \(unit)")])
            }
            if principal.role == .cityReviewer {
                let school = try await ReferenceStore.school(application.schoolCode, connection, call.logger)
                guard school.reviewingUnitCode == unit else {
                    throw RPCError(.notFound, "there is no lead application \(request.applicationID)")
                }
            }
            guard
                try await LeadAdjustmentStore.addRecommendation(
                    application: application.id, unit: unit, text: request.text.trimmed, recordedBy: principal.name, connection, call.logger
                )
            else { throw RPCError(.alreadyExists, "reviewing unit \(unit) has recommended lead application \(application.id) already") }
            return try await LeadSelectionStore.application(application.id, connection, call.logger)
        }
    }

    /// Lead application `id`, provided its selection has not named its leads yet.
    static func openApplication(
        _ id: Int64, _ connection: PostgresConnection, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_LeadApplication {
        let application = try await LeadSelectionStore.application(id, connection, call.logger)
        let selection = try await Self.requireSelection(application.certificateCode, application.year, connection, call.logger)
        guard selection.phase == .applications || selection.phase == .expertReview else {
            throw RPCError(
                .failedPrecondition,
                "the leads of \(application.certificateCode) in \(application.year) are named: opinions and recommendations come before")
        }
        return application
    }
}
