import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Who calls the filing service, as its methods need to know: organizations act only
/// for themselves, the province and services see everything.
enum Callers {
    /// The certificate `code` from the registry (or from `certificates`, what it said in
    /// the last ``CertificateCache/lifetime``), refused unless `organization` owns it: an
    /// organization acts only for its own certificates.
    static func ownedCertificate(
        _ code: String, organization: Int64, field: String, certificates: CertificateCache, _ context: ServiceContext,
        _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Certificate {
        let certificate = try await certificates.certificate(code, field: field, context, call)
        guard certificate.organizationID == organization else {
            throw RPCError(
                .permissionDenied,
                """
                certificate \(certificate.code) \(certificate.name) is not this organization's; \
                an organization acts only for its own certificates
                """
            )
        }
        return certificate
    }

    /// Refuses `what` (approving a filing, opening a roster) unless the registry has
    /// organization `id` active: the province may have suspended it or made it exit (004
    /// 第22条). Asked afresh each time, as such decisions apply at once.
    static func requireWorking(
        organization id: Int64, for what: String, _ context: ServiceContext, _ call: RequestContext
    ) async throws {
        var request = Xcert_Registry_V1_GetOrganizationRequest()
        request.id = id
        let organization = try await context.referenceData(for: call).getOrganization(request)
        guard let standing = OrganizationStanding(wire: organization.standing) else {
            throw RPCError(.internal, "the registry gave organization \(id) no standing")
        }
        let decision = organization.hasStandingChange ? organization.standingChange : nil
        if let refusal = standing.refusal(
            of: what, organization: organization.name, since: decision.flatMap { LocalDate(wire: $0.effectiveOn) },
            reason: decision?.reason ?? "")
        {
            throw refusal
        }
    }

    /// The organization a reader is limited to; nil for the province and services.
    static func readerOrganization(_ context: ServiceContext, _ call: RequestContext) async throws -> Int64? {
        try call.readScope().organization
    }
}

/// The registry's certificates as the filing service last heard them, so that a burst of
/// submissions does not ask the registry the same question for each: a certificate's
/// answer is trusted for ``lifetime`` (the same bound as the token check's), so a
/// certificate given to another organization, or whose levels change, is seen so within
/// that time. An unknown certificate is never cached: a new one can be filed for at once.
final class CertificateCache: Sendable {
    /// How long the registry's answer is trusted.
    static let lifetime = Authenticator.cacheLifetime

    private let cache = ExpiringCache<String, Xcert_Registry_V1_Certificate>(lifetime: CertificateCache.lifetime, capacity: 10_000)

    /// The certificate `code`; the registry not knowing it is INVALID_ARGUMENT on `field`.
    func certificate(
        _ code: String, field: String, _ context: ServiceContext, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_Certificate {
        // Trusted from when the question was asked, not from when the answer came.
        let asked = ContinuousClock.now
        if let certificate = self.cache.value(for: code, now: asked) { return certificate }
        let certificate = try await context.referenceData(for: call).certificate(code, field: field)
        self.cache.insert(certificate, for: code, now: asked)
        return certificate
    }
}
