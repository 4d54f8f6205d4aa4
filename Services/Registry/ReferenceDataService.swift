import Foundation
import PostgresNIO
import SwiftProtobuf
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.registry.v1.ReferenceDataService`: the province, its cities, schools,
/// organizations and certificates. Every authenticated principal reads; province
/// admins write. Nothing is deleted.
struct ReferenceDataService: Xcert_Registry_V1_ReferenceDataService.Handler {
    let context: ServiceContext

    /// Runs a province admin's change in one transaction, once per idempotency key.
    private func change<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ call: RequestContext, _ request: Request, _ body: @escaping (PostgresConnection, Principal) async throws -> Response
    ) async throws -> Response {
        let admin = try call.caller()
        return try await self.context.idempotency.perform(call) { connection in
            try await body(connection, admin)
        }
    }

    // MARK: - Province and cities

    @Sendable
    func getProvince(_ request: Xcert_Registry_V1_GetProvinceRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_Province {
        try await self.context.database.read(call) { connection in
            guard let province = try await ReferenceStore.province(connection, call.logger) else {
                throw RPCError(.notFound, "the province is not set yet; a province admin sets it with SetProvince")
            }
            return province
        }
    }

    @Sendable
    func setProvince(_ request: Xcert_Registry_V1_SetProvinceRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_Province {
        var checks = FieldChecks()
        let code = request.province.code.trimmed
        let name = request.province.name.trimmed
        checks.require(code.isDigits(2), "province.code", "must be the province's 2-digit code, e.g. 36; not \"\(code)\"")
        checks.require((1...50).contains(name.count), "province.name", "must be 1 to 50 characters")
        try checks.check()
        return try await self.change(call, request) { connection, _ in
            let cities = try await ReferenceStore.cities(connection, call.logger)
            if let stray = cities.first(where: { !$0.code.hasPrefix(code) }) {
                throw RPCError(.failedPrecondition, "city \(stray.code) \(stray.name) is not in province \(code)")
            }
            try await ReferenceStore.setProvince(code: code, name: name, connection, call.logger)
            var province = Xcert_Registry_V1_Province()
            province.code = code
            province.name = name
            return province
        }
    }

    @Sendable
    func createCity(_ request: Xcert_Registry_V1_CreateCityRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_City {
        try await self.saveCity(request.city, creating: true, call, request)
    }

    @Sendable
    func updateCity(_ request: Xcert_Registry_V1_UpdateCityRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_City {
        try await self.saveCity(request.city, creating: false, call, request)
    }

    private func saveCity<Request: SwiftProtobuf.Message>(
        _ city: Xcert_Registry_V1_City, creating: Bool, _ call: RequestContext, _ request: Request
    ) async throws -> Xcert_Registry_V1_City {
        let record = try CityRecord.checked(city, prefix: "city")
        return try await self.change(call, request) { connection, _ in
            try await ReferenceStore.checkInProvince(record.code, "city", field: "city.code", connection, call.logger)
            _ = try await ReferenceStore.saveCity(record, creating: creating, connection, call.logger)
            return try await ReferenceStore.cities(codes: [record.code], connection, call.logger)[0]
        }
    }

    @Sendable
    func getCity(_ request: Xcert_Registry_V1_GetCityRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_City {
        try await self.context.database.read(call) { connection in
            guard let city = try await ReferenceStore.cities(codes: [request.code], connection, call.logger).first else {
                throw RPCError(.notFound, "there is no city \(request.code)")
            }
            return city
        }
    }

    @Sendable
    func listCities(
        _ request: Xcert_Registry_V1_ListCitiesRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListCitiesResponse {
        let page = try Paging(request.page, field: "page", key: .code)
        return try await self.context.database.read(call) { connection in
            let cities = try await ReferenceStore.cities(after: page.afterCode, limit: page.size + 1, connection, call.logger)
            var response = Xcert_Registry_V1_ListCitiesResponse()
            (response.cities, response.page) = page.cut(cities, key: \.code)
            return response
        }
    }

    // MARK: - Reviewing units

    @Sendable
    func createReviewingBureau(
        _ request: Xcert_Registry_V1_CreateReviewingBureauRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ReviewingUnit {
        try await self.saveReviewingBureau(request.bureau, creating: true, call, request)
    }

    @Sendable
    func updateReviewingBureau(
        _ request: Xcert_Registry_V1_UpdateReviewingBureauRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ReviewingUnit {
        try await self.saveReviewingBureau(request.bureau, creating: false, call, request)
    }

    private func saveReviewingBureau<Request: SwiftProtobuf.Message>(
        _ bureau: Xcert_Registry_V1_ReviewingUnit, creating: Bool, _ call: RequestContext, _ request: Request
    ) async throws -> Xcert_Registry_V1_ReviewingUnit {
        let record = try ReviewingBureauRecord.checked(bureau, prefix: "bureau")
        return try await self.change(call, request) { connection, _ in
            try await ReferenceStore.checkInProvince(record.code, "reviewing bureau", field: "bureau.code", connection, call.logger)
            _ = try await ReferenceStore.saveReviewingBureau(
                record, creating: creating, field: { "bureau.\($0)" }, connection, call.logger)
            return try await ReferenceStore.reviewingUnits(codes: [record.code], connection, call.logger)[0]
        }
    }

    @Sendable
    func listReviewingUnits(
        _ request: Xcert_Registry_V1_ListReviewingUnitsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListReviewingUnitsResponse {
        let page = try Paging(request.page, field: "page", key: .code)
        return try await self.context.database.read(call) { connection in
            let units = try await ReferenceStore.reviewingUnits(after: page.afterCode, limit: page.size + 1, connection, call.logger)
            var response = Xcert_Registry_V1_ListReviewingUnitsResponse()
            (response.units, response.page) = page.cut(units, key: \.code)
            return response
        }
    }

    // MARK: - Working-day calendar

    @Sendable
    func setCalendarDays(
        _ request: Xcert_Registry_V1_SetCalendarDaysRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_SetCalendarDaysResponse {
        var checks = FieldChecks()
        checks.require(!request.days.isEmpty, "days", "must list at least one day")
        var days: [WorkingDayCalendar.Exception] = []
        for (index, day) in request.days.enumerated() {
            let note = day.note.trimmed
            guard let date = LocalDate(wire: day.day) else {
                checks.fail("days[\(index)].day", "must be a real date (year, month, day)")
                continue
            }
            checks.require(note.count <= 100, "days[\(index)].note", "must be at most 100 characters")
            if days.contains(where: { $0.day == date }) { checks.fail("days[\(index)].day", "\(date) is listed twice") }
            days.append(.init(day: date, working: day.working, note: note))
        }
        try checks.check()
        return try await self.change(call, request) { connection, admin in
            var response = Xcert_Registry_V1_SetCalendarDaysResponse()
            let (created, updated) = try await CalendarStore.set(days, setBy: admin.name, connection, call.logger)
            response.set = Int32(created + updated)
            return response
        }
    }

    @Sendable
    func listCalendarDays(
        _ request: Xcert_Registry_V1_ListCalendarDaysRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListCalendarDaysResponse {
        try FieldChecks.checkYear(request.year, "year", "a year")
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Registry_V1_ListCalendarDaysResponse()
            response.days = try await CalendarStore.days(year: request.year, connection, call.logger).map { day in
                var message = Xcert_Registry_V1_CalendarDay()
                message.day = day.day.wire
                message.working = day.working
                message.note = day.note
                return message
            }
            return response
        }
    }

    // MARK: - Schools

    @Sendable
    func createSchool(_ request: Xcert_Registry_V1_CreateSchoolRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_School {
        try await self.saveSchool(request.school, creating: true, expectedVersion: 0, call, request)
    }

    @Sendable
    func updateSchool(_ request: Xcert_Registry_V1_UpdateSchoolRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_School {
        try await self.saveSchool(request.school, creating: false, expectedVersion: request.expectedVersion, call, request)
    }

    private func saveSchool<Request: SwiftProtobuf.Message>(
        _ school: Xcert_Registry_V1_School, creating: Bool, expectedVersion: Int64, _ call: RequestContext, _ request: Request
    ) async throws -> Xcert_Registry_V1_School {
        let record = try SchoolRecord.checked(school, prefix: "school")
        return try await self.change(call, request) { connection, _ in
            _ = try await ReferenceStore.saveSchool(
                record, creating: creating, expectedVersion: expectedVersion, field: { "school.\($0)" }, connection, call.logger)
            return try await ReferenceStore.school(record.code, connection, call.logger)
        }
    }

    @Sendable
    func getSchool(_ request: Xcert_Registry_V1_GetSchoolRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_School {
        let reader = try call.caller()
        return try await self.context.database.read(call) { connection in
            Self.school(try await ReferenceStore.school(request.code, connection, call.logger), as: reader)
        }
    }

    /// `school` as `reader` may see it: its irregularities are shown to the province, the
    /// services, the school itself and the reviewing unit that reviews it (a secondary
    /// school's city or designated bureau); to everyone else the school comes without them.
    static func school(_ school: Xcert_Registry_V1_School, as reader: Principal) -> Xcert_Registry_V1_School {
        switch reader.role {
        case .provinceAdmin, .service:
            return school
        case .school where reader.party == school.code:
            return school
        case .cityReviewer where reader.party == school.reviewingUnitCode && school.type == .secondaryVocational:
            return school
        default:
            var shown = school
            shown.irregularities = []
            return shown
        }
    }

    @Sendable
    func listSchools(
        _ request: Xcert_Registry_V1_ListSchoolsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListSchoolsResponse {
        let page = try Paging(request.page, field: "page", key: .code)
        let type = request.type == .unspecified ? nil : SchoolType(wire: request.type)?.rawValue
        let reader = try call.caller()
        return try await self.context.database.read(call) { connection in
            let schools = try await ReferenceStore.schools(
                cityCode: request.cityCode.nonEmpty, reviewingUnitCode: request.reviewingUnitCode.nonEmpty, type: type,
                nameContains: request.nameContains.isEmpty ? nil : request.nameContains,
                after: page.afterCode, limit: page.size + 1, withIrregularities: true, connection, call.logger
            )
            var response = Xcert_Registry_V1_ListSchoolsResponse()
            (response.schools, response.page) = page.cut(schools.map { Self.school($0, as: reader) }, key: \.code)
            return response
        }
    }

    @Sendable
    func recordIrregularity(
        _ request: Xcert_Registry_V1_RecordIrregularityRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_School {
        var checks = FieldChecks()
        let kind = IrregularityKinds.stored(request.kind)
        checks.require(kind != nil, "kind", "must be TRAINING_OR_FACILITIES, FUNDS_MISUSED, REFORM_DEFECTS or OTHER")
        let description = request.description_p.trimmed
        checks.require((1...1000).contains(description.count), "description", "must say what happened, 1 to 1000 characters")
        checks.requireYear(request.year, "year", "the pilot year it happened in")
        try checks.check()
        return try await self.change(call, request) { connection, admin in
            _ = try await ReferenceStore.school(request.schoolCode, connection, call.logger)
            try await ReferenceStore.addIrregularity(
                school: request.schoolCode, kind: kind, description: description, year: request.year, recordedBy: admin.name,
                connection, call.logger
            )
            return try await ReferenceStore.school(request.schoolCode, connection, call.logger)
        }
    }

    // MARK: - Organizations

    @Sendable
    func createOrganization(
        _ request: Xcert_Registry_V1_CreateOrganizationRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Organization {
        try await self.saveOrganization(request.organization, id: 0, expectedVersion: 0, call, request)
    }

    @Sendable
    func updateOrganization(
        _ request: Xcert_Registry_V1_UpdateOrganizationRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Organization {
        guard request.organization.id > 0 else {
            throw RPCError.invalidArgument([
                .init(field: "organization.id", description: "must name the organization to update (a positive id)")
            ])
        }
        return try await self.saveOrganization(
            request.organization, id: request.organization.id, expectedVersion: request.expectedVersion, call, request)
    }

    private func saveOrganization<Request: SwiftProtobuf.Message>(
        _ organization: Xcert_Registry_V1_Organization, id: Int64, expectedVersion: Int64, _ call: RequestContext, _ request: Request
    ) async throws -> Xcert_Registry_V1_Organization {
        let record = try OrganizationRecord.checked(organization, prefix: "organization")
        return try await self.change(call, request) { connection, _ in
            let (_, savedID) = try await ReferenceStore.saveOrganization(
                record, id: id, expectedVersion: expectedVersion, connection, call.logger)
            return try await ReferenceStore.organizations(ids: [savedID], connection, call.logger)[0]
        }
    }

    @Sendable
    func getOrganization(
        _ request: Xcert_Registry_V1_GetOrganizationRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Organization {
        try await self.context.database.read(call) { connection in
            guard let organization = try await ReferenceStore.organizations(ids: [request.id], connection, call.logger).first else {
                throw RPCError(.notFound, "there is no organization \(request.id)")
            }
            return organization
        }
    }

    @Sendable
    func listOrganizations(
        _ request: Xcert_Registry_V1_ListOrganizationsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListOrganizationsResponse {
        let page = try Paging(request.page, field: "page")
        return try await self.context.database.read(call) { connection in
            let organizations = try await ReferenceStore.organizations(
                nameContains: request.nameContains.isEmpty ? nil : request.nameContains,
                after: page.after, limit: page.size + 1, connection, call.logger
            )
            var response = Xcert_Registry_V1_ListOrganizationsResponse()
            (response.organizations, response.page) = page.cut(organizations, id: \.id)
            return response
        }
    }

    // MARK: - Certificates

    @Sendable
    func createCertificate(
        _ request: Xcert_Registry_V1_CreateCertificateRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Certificate {
        try await self.saveCertificate(request.certificate, creating: true, expectedVersion: 0, call, request)
    }

    @Sendable
    func updateCertificate(
        _ request: Xcert_Registry_V1_UpdateCertificateRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Certificate {
        try await self.saveCertificate(request.certificate, creating: false, expectedVersion: request.expectedVersion, call, request)
    }

    private func saveCertificate<Request: SwiftProtobuf.Message>(
        _ certificate: Xcert_Registry_V1_Certificate, creating: Bool, expectedVersion: Int64, _ call: RequestContext, _ request: Request
    ) async throws -> Xcert_Registry_V1_Certificate {
        let record = try CertificateRecord.checked(certificate, prefix: "certificate")
        return try await self.change(call, request) { connection, _ in
            _ = try await ReferenceStore.saveCertificate(
                record, creating: creating, expectedVersion: expectedVersion, field: { "certificate.\($0)" }, connection, call.logger)
            return try await ReferenceStore.certificate(record.code, connection, call.logger)
        }
    }

    @Sendable
    func getCertificate(
        _ request: Xcert_Registry_V1_GetCertificateRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Certificate {
        try await self.context.database.read(call) { connection in
            try await ReferenceStore.certificate(request.code, connection, call.logger)
        }
    }

    @Sendable
    func listCertificates(
        _ request: Xcert_Registry_V1_ListCertificatesRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListCertificatesResponse {
        let page = try Paging(request.page, field: "page", key: .code)
        return try await self.context.database.read(call) { connection in
            let certificates = try await ReferenceStore.certificates(
                organizationID: request.organizationID == 0 ? nil : request.organizationID,
                batch: request.batch == 0 ? nil : request.batch,
                nameContains: request.nameContains.isEmpty ? nil : request.nameContains,
                after: page.afterCode, limit: page.size + 1, connection, call.logger
            )
            var response = Xcert_Registry_V1_ListCertificatesResponse()
            (response.certificates, response.page) = page.cut(certificates, key: \.code)
            return response
        }
    }

    // MARK: - Import

    @Sendable
    func `import`(_ request: Xcert_Registry_V1_ImportRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_ImportResponse {
        let table = try ReferenceImport.parse(request.csv, kind: request.kind)
        do {
            return try await self.change(call, request) { connection, admin in
                let counts = try await ReferenceImport.apply(table, by: admin.name, connection, call.logger)
                // A dry run rolls the whole import back by throwing, and answers the counts.
                if request.dryRun { throw ReferenceImport.DryRun(counts: counts) }
                return counts
            }
        } catch let dryRun as ReferenceImport.DryRun {
            return dryRun.counts
        }
    }
}
