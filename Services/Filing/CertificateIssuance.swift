import Foundation
import Logging
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Issues a session's certificates when its results become final: one per candidate who
/// passed in the roster in force, numbered by the year's, certificate's and level's
/// sequence and signed by the province's key (``CertificateIssuer``).
struct CertificateIssuance: Sendable {
    /// The issuer key from the environment (base64); nil when the service has none.
    let issuerKey: String?
    /// The issuer as the registry last named the province: the public GetIssuer and
    /// GetStatusList would otherwise ask the registry on every call, for anyone who calls.
    private let issuers = ExpiringCache<String, CertificateIssuer>(lifetime: CertificateCache.lifetime, capacity: 1)

    /// - Throws: when `environment` names an issuer key that is not one.
    init(environment: [String: String]) throws {
        let key = try CertificateIssuer.privateKey(environment: environment)
        if let key { _ = try CertificateIssuer(provinceCode: "00", provinceName: "", privateKey: key) }
        self.issuerKey = key
    }

    /// The province as issuer, from the registry (its answer trusted for
    /// ``CertificateCache/lifetime``); FAILED_PRECONDITION without a key.
    func issuer(_ context: ServiceContext, _ call: RequestContext) async throws -> CertificateIssuer {
        guard let key = self.issuerKey else {
            throw RPCError(
                .failedPrecondition,
                "the filing service has no issuer key (XCERT_ISSUER_KEY_FILE): it cannot issue the certificates that final results bring")
        }
        let asked = ContinuousClock.now
        if let issuer = self.issuers.value(for: "province", now: asked) { return issuer }
        let province = try await context.referenceData(for: call).getProvince(Xcert_Registry_V1_GetProvinceRequest())
        let issuer = try CertificateIssuer(provinceCode: province.code, provinceName: province.name, privateKey: key)
        self.issuers.insert(issuer, for: "province", now: asked)
        return issuer
    }

    /// What every certificate of a session says of its certificate and organization.
    struct Names: Sendable {
        var certificate: String
        var organization: String
    }

    func names(of notice: Xcert_Filing_V1_ResultNotice, _ context: ServiceContext, _ call: RequestContext) async throws -> Names {
        let registry = context.referenceData(for: call)
        var certificate = Xcert_Registry_V1_GetCertificateRequest()
        certificate.code = notice.certificateCode
        var organization = Xcert_Registry_V1_GetOrganizationRequest()
        organization.id = notice.organizationID
        return Names(
            certificate: try await registry.getCertificate(certificate).name,
            organization: try await registry.getOrganization(organization).name)
    }

    /// Issues the certificates of final session `notice` on `issuedOn`; returns how many.
    func issue(
        _ notice: Xcert_Filing_V1_ResultNotice, issuer: CertificateIssuer, names: Names, issuedOn: LocalDate,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int {
        let holders = try await CertificateStore.passedCandidates(roster: notice.rosterID, connection, logger)
        guard !holders.isEmpty, let exam = LocalDate(wire: notice.examDate) else { return 0 }
        let level = Int32(notice.level.rawValue)
        let first = try await CertificateStore.allocate(
            holders.count, year: Int32(exam.year), certificate: notice.certificateCode, level: level, connection, logger)
        let statusIndices = try await CertificateStore.statusIndices(holders.count, connection, logger)
        let levelName = CertificateLevel(wire: notice.level)?.chineseName ?? ""
        var certificates: [Xcert_Filing_V1_Certificate] = []
        certificates.reserveCapacity(holders.count)
        for (offset, holder) in holders.enumerated() {
            var certificate = Xcert_Filing_V1_Certificate()
            certificate.number =
                "\(issuer.provinceCode)-\(exam.year)-\(notice.certificateCode)-\(level)-" + Self.sequence(Int(first) + offset)
            certificate.holderName = holder.name
            certificate.nationalIDMasked = CertificateCredential.masked(first4: holder.first4 ?? "****", last4: holder.last4)
            certificate.certificateCode = notice.certificateCode
            certificate.certificateName = names.certificate
            certificate.level = notice.level
            certificate.organizationID = notice.organizationID
            certificate.organizationName = names.organization
            certificate.examDate = notice.examDate
            certificate.issuedOn = issuedOn.wire
            certificate.schoolCode = holder.schoolCode
            certificate.candidateNumber = holder.candidateNumber
            certificate.sessionRosterID = notice.sessionRosterID
            certificate.rosterID = notice.rosterID
            certificate.statusIndex = statusIndices[offset]
            certificate.credential = try issuer.sign(
                CertificateCredential.payload(
                    issuer: issuer, number: certificate.number, holderName: holder.name, nationalIDMasked: certificate.nationalIDMasked,
                    holderSalt: holder.salt, holderDigest: holder.digest, certificateCode: notice.certificateCode,
                    certificateName: names.certificate, level: levelName, organization: names.organization, examDate: exam.description,
                    issuedOn: issuedOn.description, status: CertificateStatusList.entry(issuer: issuer, index: Int(statusIndices[offset]))))
            certificates.append(certificate)
        }
        try await CertificateStore.insert(certificates, connection, logger)
        return certificates.count
    }

    /// A sequence number as six digits (more when a year has more than 999,999).
    private static func sequence(_ value: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}
