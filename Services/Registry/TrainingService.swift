import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.registry.v1.TeacherTrainingService`: teachers of pilot schools trained for a
/// certificate level (004 item 9), recorded by the organization that gave the training or by
/// the school; the measures of the evaluation's items 4-1 and 4-2, and the trainings each
/// organization gave (its yearly report's table 一.2).
struct TrainingService: Xcert_Registry_V1_TeacherTrainingService.Handler {
    let context: ServiceContext

    @Sendable
    func recordTrainings(
        _ request: Xcert_Registry_V1_RecordTrainingsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_RecordTrainingsResponse {
        let principal = try call.caller()
        var checks = FieldChecks()
        checks.require(!request.records.isEmpty, "records", "must list at least one training record")
        var seen: Set<String> = []
        for (index, record) in request.records.enumerated() {
            let field = "records[\(index)]"
            Self.check(record, field, &checks)
            if !seen.insert(record.identity).inserted { checks.fail(field, "records the same teacher's same training twice") }
            if principal.role == .school, record.schoolCode != principal.party {
                checks.fail("\(field).school_code", "a school records only its own teachers (\(principal.party ?? "none"))")
            }
        }
        try checks.check()
        let organization = principal.role == .organization ? try principal.organizationID() : nil
        return try await self.context.idempotency.perform(call) { connection in
            let schools = try await TrainingStore.schools(among: request.records.map(\.schoolCode), connection, call.logger)
            let certificates = try await TrainingStore.certificates(among: request.records.map(\.certificateCode), connection, call.logger)
            var found = FieldChecks()
            for (index, record) in request.records.enumerated() {
                let field = "records[\(index)]"
                found.require(
                    schools.contains(record.schoolCode), "\(field).school_code", "the registry has no school \(record.schoolCode)")
                guard let certificate = certificates[record.certificateCode] else {
                    found.fail("\(field).certificate_code", "the registry has no certificate \(record.certificateCode)")
                    continue
                }
                found.require(
                    certificate.levels.contains(Int32(record.level.rawValue)), "\(field).level",
                    "certificate \(record.certificateCode) has no level \(record.level)")
                if let organization, certificate.organization != organization {
                    throw RPCError(
                        .permissionDenied,
                        "certificate \(record.certificateCode) is not this organization's; an organization records only its own trainings")
                }
            }
            try found.check()
            let stored = try await TrainingStore.insert(
                request.records, organizations: request.records.map { certificates[$0.certificateCode]?.organization ?? 0 },
                recordedBy: principal.name, connection, call.logger)
            switch stored {
            case .failure(let already):
                let named = already.indexes.map { index in
                    "records[\(index)] (\(request.records[index].teacherName.trimmed), \(request.records[index].trainingName.trimmed))"
                }
                throw RPCError(
                    .alreadyExists, "already recorded: \(named.joined(separator: ", ")); nothing of this request was stored")
            case .success(let ids):
                var filter = TrainingStore.Filter()
                filter.ids = ids
                var response = Xcert_Registry_V1_RecordTrainingsResponse()
                response.records = try await TrainingStore.records(filter, scope: .everything, connection, call.logger)
                return response
            }
        }
    }

    /// A record's own checks, each problem named under `field`.
    private static func check(_ record: Xcert_Registry_V1_TrainingRecord, _ field: String, _ checks: inout FieldChecks) {
        checks.require(record.schoolCode.isDigits(10), "\(field).school_code", "must be a school's 10-digit national code")
        checks.require(
            (1...50).contains(record.teacherName.trimmed.count), "\(field).teacher_name", "must be the teacher's name, 1 to 50 characters")
        checks.require(record.certificateCode.isCertificateCode, "\(field).certificate_code", "must be a certificate's code, e.g. AUTO")
        checks.require(CertificateLevel(wire: record.level) != nil, "\(field).level", "must be ELEMENTARY, INTERMEDIATE or ADVANCED")
        checks.require(
            (1...100).contains(record.trainingName.trimmed.count), "\(field).training_name",
            "must be the training's name, 1 to 100 characters")
        let start = LocalDate(wire: record.startOn)
        let end = LocalDate(wire: record.endOn)
        if checks.require(
            record.hasStartOn && start.map { FieldChecks.pilotYears.contains($0.year) } == true, "\(field).start_on",
            "must be the training's first day, 2019 to 2100")
        {
            if let start, checks.require(record.hasEndOn && end != nil, "\(field).end_on", "must be the training's last day"), let end {
                checks.require(
                    end >= start && end < start.adding(days: 365), "\(field).end_on",
                    "must be on or after \(start) and within 365 days of it; not \(end)")
            }
        }
        checks.require((1...2000).contains(record.hours), "\(field).hours", "must be 1 to 2000 hours; not \(record.hours)")
        if record.hasCompletion { checks.requireAttachment(record.completion, "\(field).completion") }
    }

    @Sendable
    func listTrainings(
        _ request: Xcert_Registry_V1_ListTrainingsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListTrainingsResponse {
        let scope = try Scope(try call.caller())
        let page = try Paging(request.page, field: "page")
        var filter = TrainingStore.Filter()
        filter.year = request.year == 0 ? nil : request.year
        filter.schoolCode = request.schoolCode.nonEmpty
        filter.organizationID = request.organizationID == 0 ? nil : request.organizationID
        filter.certificateCode = request.certificateCode.nonEmpty
        filter.after = page.after
        filter.limit = page.size + 1
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Registry_V1_ListTrainingsResponse()
            (response.records, response.page) = page.cut(
                try await TrainingStore.records(filter, scope: scope, connection, call.logger), id: \.id)
            return response
        }
    }

    @Sendable
    func getTrainingMeasures(
        _ request: Xcert_Registry_V1_GetTrainingMeasuresRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_GetTrainingMeasuresResponse {
        let principal = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year)
        try checks.check()
        var school = request.schoolCode.nonEmpty
        if principal.role == .school {
            guard school == nil || school == principal.party else { return .init() }
            school = principal.party ?? "-"
        }
        let only = school
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Registry_V1_GetTrainingMeasuresResponse()
            response.schools = try await TrainingStore.measures(year: request.year, school: only, connection, call.logger)
            return response
        }
    }

    @Sendable
    func getTrainingSessions(
        _ request: Xcert_Registry_V1_GetTrainingSessionsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_GetTrainingSessionsResponse {
        let principal = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year)
        try checks.check()
        var organization = request.organizationID == 0 ? nil : request.organizationID
        if principal.role == .organization {
            let own = try principal.organizationID()
            guard organization == nil || organization == own else { return .init() }
            organization = own
        }
        let only = organization
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Registry_V1_GetTrainingSessionsResponse()
            response.sessions = try await TrainingStore.sessions(year: request.year, organization: only, connection, call.logger)
            return response
        }
    }
}
