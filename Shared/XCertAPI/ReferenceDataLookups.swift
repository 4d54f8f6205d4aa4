import XCertProto
import XCertWire

/// What the other services read from the registry when they answer: one school or
/// certificate (unknown is INVALID_ARGUMENT on the caller's field), or every page of a list.
/// Written by hand beside the generated client it extends.
extension Xcert_Registry_V1_ReferenceDataService.Client {
    /// The largest page a list method serves (the service kit's `Paging.maximumSize`).
    static let largestPage: Int32 = 1000

    /// The school `code`; the registry not knowing it is INVALID_ARGUMENT on `field`.
    public func school(_ code: String, field: String) async throws -> Xcert_Registry_V1_School {
        var request = Xcert_Registry_V1_GetSchoolRequest()
        request.code = code
        do {
            return try await self.getSchool(request)
        } catch let error as RPCError where error.code == .notFound {
            throw RPCError.invalidArgument([.init(field: field, description: "the registry has no school \(code)")])
        }
    }

    /// The certificate `code`; the registry not knowing it is INVALID_ARGUMENT on `field`.
    public func certificate(_ code: String, field: String) async throws -> Xcert_Registry_V1_Certificate {
        var request = Xcert_Registry_V1_GetCertificateRequest()
        request.code = code
        do {
            return try await self.getCertificate(request)
        } catch let error as RPCError where error.code == .notFound {
            throw RPCError.invalidArgument([.init(field: field, description: "the registry has no certificate \(code)")])
        }
    }

    /// Every school of the registry, by code.
    public func allSchools() async throws -> [String: Xcert_Registry_V1_School] {
        var request = Xcert_Registry_V1_ListSchoolsRequest()
        request.page.pageSize = Self.largestPage
        var schools: [String: Xcert_Registry_V1_School] = [:]
        repeat {
            let page = try await self.listSchools(request)
            for school in page.schools { schools[school.code] = school }
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return schools
    }

    /// Every city of the province.
    public func allCities() async throws -> [Xcert_Registry_V1_City] {
        var request = Xcert_Registry_V1_ListCitiesRequest()
        request.page.pageSize = Self.largestPage
        var cities: [Xcert_Registry_V1_City] = []
        repeat {
            let page = try await self.listCities(request)
            cities += page.cities
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return cities
    }

    /// Every certificate of the registry, of one organization or all.
    public func allCertificates(of organization: Int64?) async throws -> [Xcert_Registry_V1_Certificate] {
        var request = Xcert_Registry_V1_ListCertificatesRequest()
        request.organizationID = organization ?? 0
        request.page.pageSize = Self.largestPage
        var certificates: [Xcert_Registry_V1_Certificate] = []
        repeat {
            let page = try await self.listCertificates(request)
            certificates += page.certificates
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return certificates
    }
}

extension Xcert_Registry_V1_SiteService.Client {
    /// Every assessment site of the certificates of `organization`, every page.
    public func allSites(of organization: Int64) async throws -> [Xcert_Registry_V1_AssessmentSite] {
        var request = Xcert_Registry_V1_ListSitesRequest()
        request.organizationID = organization
        request.page.pageSize = Xcert_Registry_V1_ReferenceDataService.Client.largestPage
        var sites: [Xcert_Registry_V1_AssessmentSite] = []
        repeat {
            let page = try await self.listSites(request)
            sites += page.sites
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return sites
    }
}
