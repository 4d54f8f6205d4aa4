import XCertProto
import XCertService
import XCertWire

/// What the other services read from the registry when they answer: one school or
/// certificate (unknown is INVALID_ARGUMENT on the caller's field), or every page of them.
public enum RegistryLookups {
    /// The school `code`; the registry not knowing it is INVALID_ARGUMENT on `field`.
    public static func school(_ code: String, field: String, _ context: ServiceContext, _ call: RequestContext) async throws -> Xcert_Registry_V1_School {
        var request = Xcert_Registry_V1_GetSchoolRequest()
        request.code = code
        do {
            return try await context.peers.call("registry", "/xcert.registry.v1.ReferenceDataService/GetSchool", request, as: Xcert_Registry_V1_School.self, context: call)
        } catch let error as RPCError where error.code == .notFound {
            throw RPCError.invalidArgument([.init(field: field, description: "the registry has no school \(code)")])
        }
    }

    /// The certificate `code`; the registry not knowing it is INVALID_ARGUMENT on `field`.
    public static func certificate(_ code: String, field: String, _ context: ServiceContext, _ call: RequestContext) async throws -> Xcert_Registry_V1_Certificate {
        var request = Xcert_Registry_V1_GetCertificateRequest()
        request.code = code
        do {
            return try await context.peers.call("registry", "/xcert.registry.v1.ReferenceDataService/GetCertificate", request, as: Xcert_Registry_V1_Certificate.self, context: call)
        } catch let error as RPCError where error.code == .notFound {
            throw RPCError.invalidArgument([.init(field: field, description: "the registry has no certificate \(code)")])
        }
    }

    /// The registry's schools by code.
    public static func schools(_ context: ServiceContext, _ call: RequestContext) async throws -> [String: Xcert_Registry_V1_School] {
        var request = Xcert_Registry_V1_ListSchoolsRequest()
        request.page.pageSize = Int32(Paging.maximumSize)
        var schools: [String: Xcert_Registry_V1_School] = [:]
        repeat {
            let page = try await context.peers.call(
                "registry", "/xcert.registry.v1.ReferenceDataService/ListSchools", request, as: Xcert_Registry_V1_ListSchoolsResponse.self, context: call
            )
            for school in page.schools { schools[school.code] = school }
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return schools
    }

    /// The province's cities, by code.
    public static func cities(_ context: ServiceContext, _ call: RequestContext) async throws -> [Xcert_Registry_V1_City] {
        var request = Xcert_Registry_V1_ListCitiesRequest()
        request.page.pageSize = Int32(Paging.maximumSize)
        var cities: [Xcert_Registry_V1_City] = []
        repeat {
            let page = try await context.peers.call(
                "registry", "/xcert.registry.v1.ReferenceDataService/ListCities", request, as: Xcert_Registry_V1_ListCitiesResponse.self, context: call
            )
            cities += page.cities
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return cities
    }

    /// The registry's certificates, of one organization or all.
    public static func certificates(of organization: Int64?, _ context: ServiceContext, _ call: RequestContext) async throws -> [Xcert_Registry_V1_Certificate] {
        var request = Xcert_Registry_V1_ListCertificatesRequest()
        request.organizationID = organization ?? 0
        request.page.pageSize = Int32(Paging.maximumSize)
        var certificates: [Xcert_Registry_V1_Certificate] = []
        repeat {
            let page = try await context.peers.call(
                "registry", "/xcert.registry.v1.ReferenceDataService/ListCertificates", request, as: Xcert_Registry_V1_ListCertificatesResponse.self, context: call
            )
            certificates += page.certificates
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return certificates
    }
}
