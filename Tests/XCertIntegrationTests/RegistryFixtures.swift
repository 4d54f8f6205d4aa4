import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

/// Reference data the registry tests share, made through the API as a province admin.
extension RegistryHarness {
    /// The organizations' ids, after ``seedReference()``.
    struct Seeded {
        var carOrganization: Int64
        var bimOrganization: Int64
    }

    /// Jiangxi with three cities, two organizations and three certificates:
    /// BIM (organization "bim"), AUTO and NEV (organization "car"); an application window
    /// open now for every year from 2019 to 2030.
    @discardableResult
    func seedReference() async throws -> Seeded {
        var province = Xcert_Registry_V1_SetProvinceRequest()
        province.province.code = "36"
        province.province.name = "江西省"
        _ = try await self.call(Xcert_Registry_V1_ReferenceDataService.Method.setProvince, province, token: self.admin)
        for (code, name) in [("360100", "南昌市"), ("360400", "九江市"), ("360700", "赣州市")] {
            var city = Xcert_Registry_V1_CreateCityRequest()
            city.city.code = code
            city.city.name = name
            _ = try await self.call(Xcert_Registry_V1_ReferenceDataService.Method.createCity, city, token: self.admin)
        }
        try await self.openApplicationWindows(years: 2019...2030)
        var ids: [Int64] = []
        for name in ["北京中车行高新技术有限公司", "廊坊市中科建筑产业化创新研究中心"] {
            var organization = Xcert_Registry_V1_CreateOrganizationRequest()
            organization.organization.name = name
            var contact = Xcert_Registry_V1_Contact()
            contact.name = "陈学峰"
            contact.mobile = "13051681116"
            contact.email = "1681116@163.com"
            organization.organization.contacts = [contact]
            ids.append(
                try await self.call(Xcert_Registry_V1_ReferenceDataService.Method.createOrganization, organization, token: self.admin).id)
        }
        for (code, name, organization) in [("BIM", "建筑信息模型（BIM）", ids[1]), ("AUTO", "汽车运用与维修", ids[0]), ("NEV", "智能新能源汽车", ids[0])] {
            var certificate = Xcert_Registry_V1_CreateCertificateRequest()
            certificate.certificate.code = code
            certificate.certificate.name = name
            certificate.certificate.batch = 1
            certificate.certificate.levels = [.elementary, .intermediate, .advanced]
            certificate.certificate.organizationID = organization
            _ = try await self.call(Xcert_Registry_V1_ReferenceDataService.Method.createCertificate, certificate, token: self.admin)
        }
        return Seeded(carOrganization: ids[0], bimOrganization: ids[1])
    }

    /// Window 1 of each year, open from yesterday to 60 days from now (Asia/Shanghai).
    func openApplicationWindows(years: ClosedRange<Int32>) async throws {
        let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
        for year in years {
            try await self.setApplicationWindow(year: year, number: 1, opens: today.adding(days: -1), closes: today.adding(days: 60))
        }
    }

    @discardableResult
    func setApplicationWindow(
        year: Int32, number: Int32, opens: LocalDate, closes: LocalDate
    ) async throws -> Xcert_Registry_V1_ApplicationWindow {
        var window = Xcert_Registry_V1_SetApplicationWindowRequest()
        window.year = year
        window.number = number
        window.opens = opens.wire
        window.closes = closes.wire
        return try await self.call(Xcert_Registry_V1_PilotService.Method.setApplicationWindow, window, token: self.admin)
    }

    /// Registers an elementary-level assessment site of `certificate` at `school`, opened in `year`.
    @discardableResult
    func registerSite(
        _ school: String, _ certificate: String, opened year: Int32, token: String
    ) async throws -> Xcert_Registry_V1_AssessmentSite {
        var site = Xcert_Registry_V1_RegisterSiteRequest()
        site.schoolCode = school
        site.certificateCode = certificate
        site.levels = [.elementary]
        site.capacity = 40
        site.yearOpened = year
        return try await self.call(Xcert_Registry_V1_SiteService.Method.registerSite, site, token: token)
    }

    /// A school with `specialties` listed specialties S001… (its specialty count), each with an
    /// eligible teaching team recorded unless `teams` is false.
    @discardableResult
    func createSchool(
        _ code: String, type: Xcert_Common_V1_SchoolType = .higherVocational, city: String = "360100",
        specialties: Int32 = 10, enrolled: Int32 = 10_000, name: String? = nil, reviewingUnit: String = "", teams: Bool = true
    ) async throws -> Xcert_Registry_V1_School {
        var request = Xcert_Registry_V1_CreateSchoolRequest()
        request.school.code = code
        request.school.name = name ?? "学校\(code)"
        request.school.type = type
        request.school.cityCode = city
        request.school.reviewingUnitCode = reviewingUnit
        request.school.specialtyCount = specialties
        request.school.enrolledStudents = enrolled
        request.school.specialties = (1...max(1, specialties)).map { index in
            var specialty = Xcert_Registry_V1_Specialty()
            specialty.code = String(format: "S%03d", index)
            specialty.name = "专业\(index)"
            return specialty
        }
        let school = try await self.call(Xcert_Registry_V1_ReferenceDataService.Method.createSchool, request, token: self.admin)
        if teams { try await self.recordTeams(code, specialties: school.specialties.map(\.code)) }
        return school
    }

    /// Records a teaching team for each of `specialties` of `school`: 10 teachers, 5 双师型, 2
    /// industry experts, 3 years of enrolment (exactly eligible) unless told otherwise.
    @discardableResult
    func recordTeams(
        _ school: String, specialties: [String], teachers: Int32 = 10, dual: Int32 = 5, experts: Int32 = 2, years: Int32 = 3,
        token: String? = nil
    ) async throws -> Xcert_Registry_V1_ListTeachingTeamsResponse {
        var request = Xcert_Registry_V1_SetTeachingTeamsRequest()
        request.schoolCode = school
        request.teams = specialties.map { code in
            var team = Xcert_Registry_V1_TeachingTeam()
            team.specialtyCode = code
            team.teachers = teachers
            team.dualQualifiedTeachers = dual
            team.industryExperts = experts
            team.continuousEnrolmentYears = years
            return team
        }
        return try await self.call(Xcert_Registry_V1_PilotService.Method.setTeachingTeams, request, token: token ?? self.admin)
    }

    /// A school's pilot work plan as an application attaches it.
    static func workPlan(_ school: String, _ certificate: String) -> Xcert_Filing_V1_Attachment {
        var plan = Xcert_Filing_V1_Attachment()
        plan.name = "\(school)-\(certificate)-实施方案.pdf"
        plan.sizeBytes = 204_800
        plan.sha256 = String(repeating: "ab", count: 32)
        return plan
    }

    /// A pilot application of a school, as that school.
    func apply(
        _ school: String, _ certificate: String, year: Int32 = 2020, scale: Int32 = 50,
        levels: [Xcert_Common_V1_CertificateLevel] = [.elementary], specialties: [String] = ["S001"], token: String? = nil
    ) async throws -> Xcert_Registry_V1_PilotApplication {
        var request = Xcert_Registry_V1_SubmitApplicationRequest()
        request.schoolCode = school
        request.certificateCode = certificate
        request.year = year
        request.levels = levels
        request.specialtyCodes = specialties
        request.studentScale = scale
        request.workPlan = Self.workPlan(school, certificate)
        return try await self.call(Xcert_Registry_V1_PilotService.Method.submitApplication, request, token: token ?? self.admin)
    }

    /// A decision on an application's current step.
    func review(_ application: Int64, approve: Bool, reason: String = "", token: String) async throws -> Xcert_Registry_V1_PilotApplication
    {
        var request = Xcert_Registry_V1_ReviewApplicationRequest()
        request.applicationID = application
        request.approve = approve
        request.reason = reason
        return try await self.call(Xcert_Registry_V1_PilotService.Method.reviewApplication, request, token: token)
    }

    /// A qualification of a higher-vocational school, through application and the province's approval.
    @discardableResult
    func qualify(
        _ school: String, _ certificate: String, year: Int32 = 2020, scale: Int32 = 50
    ) async throws -> Xcert_Registry_V1_PilotApplication {
        let application = try await self.apply(school, certificate, year: year, scale: scale)
        return try await self.review(application.id, approve: true, token: self.admin)
    }
}
