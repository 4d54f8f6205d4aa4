import Foundation
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The inspections of `OversightService` (004 第19条): the province records what it found at
/// monitoring points and follows each up; the inspected organization and the school see theirs.
extension OversightService {
    @Sendable
    func recordInspection(
        _ request: Xcert_Registry_V1_RecordInspectionRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Inspection {
        let admin = try call.caller()
        let inspection = request.inspection
        var checks = FieldChecks()
        checks.require(
            inspection.certificateCode.isCertificateCode, "inspection.certificate_code", "must be a certificate's code, e.g. BIM")
        checks.requireYear(inspection.year, "inspection.year", "the pilot year")
        checks.require(inspection.schoolCode.isDigits(10), "inspection.school_code", "must be the 10-digit code of the monitoring point")
        let checked = InspectionStore.domain(inspection)
        if let checked {
            for problem in checked.problems(now: Date()) { checks.fail("inspection.\(problem.field ?? "")", problem.message) }
        } else {
            checks.fail("inspection.inspected_on", "must be a real date (year, month, day), the inspection's day in Asia/Shanghai")
        }
        try checks.check()
        guard let checked else { throw RPCError(.internal, "the inspection was not checked") }
        return try await self.context.idempotency.perform(call) { connection in
            let certificate = try await ReferenceStore.certificate(inspection.certificateCode, connection, call.logger)
            guard certificate.organizationID != 0 else {
                throw RPCError(
                    .failedPrecondition, "certificate \(certificate.code) has no organization recorded: whose agreement was inspected?")
            }
            guard
                try await InspectionStore.isMonitoringPoint(
                    inspection.schoolCode, certificate: certificate.code, year: inspection.year, connection, call.logger)
            else {
                let points = try await SiteStore.points(certificate.code, inspection.year, connection, call.logger).map(\.schoolCode)
                throw RPCError(
                    .failedPrecondition,
                    """
                    school \(inspection.schoolCode) is not a monitoring point of \(certificate.code) in \(inspection.year) \
                    (\(points.isEmpty ? "none are selected" : "its points: \(points.joined(separator: ", "))"))
                    """
                )
            }
            let id = try await InspectionStore.insert(
                inspection, checked: checked, organization: certificate.organizationID, recordedBy: admin.name, connection, call.logger)
            return try await InspectionStore.inspections(.init(ids: [id]), connection, call.logger)[0]
        }
    }

    @Sendable
    func recordFollowUp(
        _ request: Xcert_Registry_V1_RecordFollowUpRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Inspection {
        let admin = try call.caller()
        let now = Date()
        var checks = FieldChecks()
        checks.require(request.inspectionID > 0, "inspection_id", "must name an inspection (a positive id)")
        let notedOn = LocalDate(wire: request.note.notedOn)
        checks.require(notedOn != nil, "note.noted_on", "must be a real date (year, month, day) in Asia/Shanghai")
        checks.require(
            (1...1000).contains(request.note.note.trimmed.count), "note.note", "must say what the organization did, 1 to 1000 characters")
        try checks.check()
        guard let notedOn else { throw RPCError(.internal, "the note's day was not checked") }
        return try await self.context.idempotency.perform(call) { connection in
            guard
                let inspection = try await InspectionStore.inspections(
                    .init(ids: [request.inspectionID], forUpdate: true), connection, call.logger
                ).first
            else { throw RPCError(.notFound, "there is no inspection \(request.inspectionID)") }
            guard let domain = InspectionStore.domain(inspection) else {
                throw RPCError(.internal, "inspection \(inspection.id) has no day")
            }
            try domain.checkNote(request.note.note, notedOn: notedOn, now: now)
            try await InspectionStore.addNote(
                inspection: inspection.id, notedOn: notedOn, note: request.note.note.trimmed, resolved: request.note.resolved,
                recordedBy: admin.name, connection, call.logger)
            return try await InspectionStore.inspections(.init(ids: [inspection.id]), connection, call.logger)[0]
        }
    }

    @Sendable
    func listInspections(
        _ request: Xcert_Registry_V1_ListInspectionsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListInspectionsResponse {
        let scope = try call.readScope()
        let page = try Paging(request.page, field: "page")
        var filter = InspectionStore.Filter(
            year: request.year == 0 ? nil : request.year, certificate: request.certificateCode.nonEmpty,
            organization: request.organizationID == 0 ? nil : request.organizationID, school: request.schoolCode.nonEmpty,
            unresolvedOnly: request.unresolvedOnly, after: page.after, limit: page.size + 1)
        // An organization sees the inspections of its agreements, a school those made at it.
        if let organization = scope.organization {
            if filter.organization != nil && filter.organization != organization { return .init() }
            filter.organization = organization
        }
        if let school = scope.school {
            if filter.school != nil && filter.school != school { return .init() }
            filter.school = school
        }
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Registry_V1_ListInspectionsResponse()
            (response.inspections, response.page) = page.cut(
                try await InspectionStore.inspections(filter, connection, call.logger), id: \.id)
            return response
        }
    }

    @Sendable
    func getInspectionTable(
        _ request: Xcert_Registry_V1_GetInspectionTableRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_GetInspectionTableResponse {
        let scope = try call.readScope()
        var checks = FieldChecks()
        checks.requireYear(request.year, "year", "the pilot year")
        try checks.check()
        let lines = try await self.context.database.read(call) { connection in
            try await InspectionStore.table(year: request.year, organization: scope.organization, connection, call.logger)
        }
        var response = Xcert_Registry_V1_GetInspectionTableResponse()
        response.lines = lines
        response.total.organizationName = "合计"
        for line in lines {
            response.total.monitoringPoints += line.monitoringPoints
            response.total.pointsInspected += line.pointsInspected
            response.total.inspections += line.inspections
            response.total.findings += line.findings
            response.total.nonCompliant += line.nonCompliant
            response.total.unresolved += line.unresolved
        }
        return response
    }
}
