import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xcert.filing.v1.CertificateService`: the province as issuer (its public key), and the
/// certificates issued when sessions' results became final (issued by
/// ``ResultNoticeService/closeNotice(_:_:)``).
struct CertificateService: Xcert_Filing_V1_CertificateService.Handler {
    let context: ServiceContext
    let issuance: CertificateIssuance

    /// Public: anyone may fetch the key that checks the province's certificates (limited per
    /// address, as every public method here that does work is).
    @Sendable
    func getIssuer(_ request: Xcert_Filing_V1_GetIssuerRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_Issuer {
        try self.context.authenticator.limitWithoutToken(call)
        let issuer = try await self.issuance.issuer(self.context, call)
        var answer = Xcert_Filing_V1_Issuer()
        answer.id = issuer.id
        answer.name = issuer.name
        answer.keyID = issuer.keyID
        answer.publicJwk = issuer.publicJWK
        return answer
    }

    @Sendable
    func getCertificate(
        _ request: Xcert_Filing_V1_GetCertificateRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_Certificate {
        let reader = try call.readScope()
        var checks = FieldChecks()
        Self.requireNumber(request.number, &checks)
        try checks.check()
        var filter = CertificateStore.Filter()
        filter.numbers = [request.number]
        filter.organization = reader.organization
        filter.school = reader.school
        filter.withCredential = true
        return try await self.context.database.read(call) { connection in
            guard let certificate = try await CertificateStore.certificates(filter, connection, call.logger).first else {
                throw RPCError.notFound("certificate \(request.number)")
            }
            return certificate
        }
    }

    @Sendable
    func listCertificates(
        _ request: Xcert_Filing_V1_ListCertificatesRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListCertificatesResponse {
        let reader = try call.readScope()
        let page = try Paging(request.page, field: "page", key: .code)
        var checks = FieldChecks()
        checks.requireYear(request.year, "year", "an exam year")
        try checks.check()
        if let own = reader.school, !request.schoolCode.isEmpty, request.schoolCode != own { return .init() }
        var filter = CertificateStore.Filter()
        filter.year = request.year
        filter.certificate = request.certificateCode.nonEmpty
        filter.school = reader.school ?? request.schoolCode.nonEmpty
        filter.organization = reader.organization
        filter.afterNumber = page.afterCode
        filter.limit = page.size + 1
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_ListCertificatesResponse()
            (response.certificates, response.page) = page.cut(
                try await CertificateStore.certificates(filter, connection, call.logger), key: \.number)
            return response
        }
    }

    @Sendable
    func revokeCertificate(
        _ request: Xcert_Filing_V1_RevokeCertificateRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_Certificate {
        let admin = try call.caller()
        var checks = FieldChecks()
        Self.requireNumber(request.number, &checks)
        checks.require((1...500).contains(request.reason.trimmed.count), "reason", "must say why it is revoked, 1 to 500 characters")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            var filter = CertificateStore.Filter()
            filter.numbers = [request.number]
            guard let certificate = try await CertificateStore.certificates(filter, connection, call.logger).first else {
                throw RPCError.notFound("certificate \(request.number)")
            }
            guard try await CertificateStore.revoke(request.number, reason: request.reason.trimmed, by: admin.name, connection, call.logger)
            else {
                throw RPCError(
                    .failedPrecondition, "certificate \(certificate.number) was revoked already: \(certificate.revocationReason)")
            }
            return try await CertificateStore.certificates(filter, connection, call.logger).first ?? certificate
        }
    }

    /// Public: the revocation list as a signed credential, made afresh from the records.
    @Sendable
    func getStatusList(_ request: Xcert_Filing_V1_GetStatusListRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_StatusList {
        try self.context.authenticator.limitWithoutToken(call)
        var checks = FieldChecks()
        checks.require((0...16_383).contains(request.list), "list", "must be a status list's number, from 0")
        try checks.check()
        let issuer = try await self.issuance.issuer(self.context, call)
        let revoked = try await self.context.database.read(call) { connection in
            try await CertificateStore.revokedPositions(list: request.list, connection, call.logger)
        }
        let validFrom = LocalDate.provinceTimestamp(Int64(Date().timeIntervalSince1970))
        var list = Xcert_Filing_V1_StatusList()
        list.list = request.list
        list.revoked = Int32(revoked.count)
        list.credential = try issuer.sign(
            CertificateStatusList.payload(issuer: issuer, list: Int(request.list), revoked: revoked, validFrom: validFrom))
        return list
    }

    /// Public, limited per address as calls without a token are: valid, revoked or unknown,
    /// and nothing else.
    @Sendable
    func verifyCertificate(
        _ request: Xcert_Filing_V1_VerifyCertificateRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_VerifyCertificateResponse {
        try self.context.authenticator.limitWithoutToken(call)
        var checks = FieldChecks()
        Self.requireNumber(request.number, &checks)
        checks.require((1...50).contains(request.holderName.trimmed.count), "holder_name", "must be the holder's name, 1 to 50 characters")
        try checks.check()
        let revoked = try await self.context.database.read(call) { connection in
            try await CertificateStore.isRevoked(request.number, holderName: request.holderName.trimmed, connection, call.logger)
        }
        var response = Xcert_Filing_V1_VerifyCertificateResponse()
        response.result = revoked.map { $0 ? .revoked : .valid } ?? .unknown
        return response
    }

    /// A certificate number is 1 to 60 characters (numbers are made as
    /// `<province>-<year>-<certificate>-<level>-<sequence>`).
    private static func requireNumber(_ number: String, _ checks: inout FieldChecks) {
        checks.require((1...60).contains(number.count), "number", "must be a certificate number, e.g. 36-2026-AUTO-1-000001")
    }
}
