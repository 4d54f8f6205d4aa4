import XCertProto
import XCertService
import XCertWire

/// Who calls the filing service, as its methods need to know: organizations act only
/// for themselves, the province and services see everything.
enum Callers {
    /// The certificate `code` from the registry, refused unless `organization` owns it: an
    /// organization acts only for its own certificates.
    static func ownedCertificate(_ code: String, organization: Int64, field: String, _ context: ServiceContext, _ call: RequestContext) async throws -> Xcert_Registry_V1_Certificate {
        let certificate = try await RegistryLookups.certificate(code, field: field, context, call)
        guard certificate.organizationID == organization else {
            throw RPCError(.permissionDenied, "certificate \(certificate.code) \(certificate.name) is not this organization's; an organization acts only for its own certificates")
        }
        return certificate
    }

    /// The organization a reader is limited to; nil for the province and services.
    static func readerOrganization(_ context: ServiceContext, _ call: RequestContext) async throws -> Int64? {
        try await context.authenticator.readScope(call, allowing: [.provinceAdmin, .service, .organization]).organization
    }
}
