import XCertAPI
import XCertProto

import XCertWire

/// What the other services read from the registry when they answer: one school or
/// certificate (unknown is INVALID_ARGUMENT on the caller's field), or every page of them.
public enum RegistryLookups {
    /// The school `code`; the registry not knowing it is INVALID_ARGUMENT on `field`.
    public static func school(_ code: String, field: String, _ context: ServiceContext, _ call: RequestContext) async throws -> Xcert_Registry_V1_School {
        var request = Xcert_Registry_V1_GetSchoolRequest()
        request.code = code
        do {
            return try await context.peers.call("registry", Xcert_Registry_V1_ReferenceDataService.Method.getSchool, request, context: call)
        } catch let error as RPCError where error.code == .notFound {
            throw RPCError.invalidArgument([.init(field: field, description: "the registry has no school \(code)")])
        }
    }

    /// The certificate `code`; the registry not knowing it is INVALID_ARGUMENT on `field`.
    public static func certificate(_ code: String, field: String, _ context: ServiceContext, _ call: RequestContext) async throws -> Xcert_Registry_V1_Certificate {
        var request = Xcert_Registry_V1_GetCertificateRequest()
        request.code = code
        do {
            return try await context.peers.call("registry", Xcert_Registry_V1_ReferenceDataService.Method.getCertificate, request, context: call)
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
            let page = try await context.peers.call("registry", Xcert_Registry_V1_ReferenceDataService.Method.listSchools, request, context: call
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
            let page = try await context.peers.call("registry", Xcert_Registry_V1_ReferenceDataService.Method.listCities, request, context: call
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
            let page = try await context.peers.call("registry", Xcert_Registry_V1_ReferenceDataService.Method.listCertificates, request, context: call
            )
            certificates += page.certificates
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return certificates
    }
}
