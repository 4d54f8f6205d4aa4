import XCertProto
import XCertService
import XCertWire

/// What the assessment service reads from the registry when it answers: every page of
/// its schools and certificates.
enum RegistryLookups {
    /// The registry's schools by code.
    static func schools(_ context: ServiceContext, _ call: RequestContext) async throws -> [String: Xcert_Registry_V1_School] {
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

    /// The registry's certificates, of one organization or all.
    static func certificates(of organization: Int64?, _ context: ServiceContext, _ call: RequestContext) async throws -> [Xcert_Registry_V1_Certificate] {
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
