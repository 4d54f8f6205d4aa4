import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xctl certificates …`: the certificates issued when sessions' results became final, the
/// province's public key, and an offline check of a certificate file.
struct Certificates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: """
            Certificates issued on final results: the issuer's key, list, show, export, revoke, the revocation list, verify offline, \
            check online.
            """,
        subcommands: [Issuer.self, List.self, Show.self, Export.self, Revoke.self, StatusList.self, Verify.self, Check.self]
    )

    struct Issuer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The province's public key as a JWK (no token needed).")
        @Option(help: "Write the JWK to this file instead of standard output.") var out: String?
        @OptionGroup var options: FilingOptions
        func run() async throws {
            let issuer = try await self.options.call(
                Xcert_Filing_V1_CertificateService.Method.getIssuer, Xcert_Filing_V1_GetIssuerRequest())
            if let out = self.out {
                try Data((issuer.publicJwk + "\n").utf8).write(to: URL(fileURLWithPath: out))
                print("\(issuer.name) (\(issuer.id)): key \(issuer.keyID) written to \(out)")
            } else {
                print(issuer.publicJwk)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The certificates of an exam year.")
        @Option(help: "The exam year.") var year: Int32
        @Option(help: "Only this certificate.") var certificate: String = ""
        @Option(help: "Only this school's candidates.") var school: String = ""
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @Flag(help: "Chinese column headers.") var chineseHeaders = false
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_ListCertificatesRequest()
            request.year = self.year
            request.certificateCode = self.certificate
            request.schoolCode = self.school
            request.page.pageSize = Int32(Paging.maximumSize)
            let certificates = try await allPages { token in
                request.page.pageToken = token
                let page = try await self.options.call(Xcert_Filing_V1_CertificateService.Method.listCertificates, request)
                return (page.certificates, page.page.nextPageToken)
            }
            let rows = certificates.map { certificate in
                [
                    certificate.number, certificate.holderName, certificate.nationalIDMasked, certificate.certificateName,
                    CertificateLevel(wire: certificate.level)?.chineseName ?? "", certificate.organizationName,
                    dateText(certificate.examDate), dateText(certificate.issuedOn), certificate.schoolCode,
                ]
            }
            emit(
                self.chineseHeaders
                    ? ["证书编号", "姓名", "身份证号", "证书名称", "等级", "培训评价组织", "考核日期", "发证日期", "所在院校"]
                    : ["number", "holder", "national_id", "certificate", "level", "organization", "exam_date", "issued_on", "school"],
                rows, format: self.format)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One certificate, with its signed credential.")
        @Argument(help: "The certificate number.") var number: String
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_GetCertificateRequest()
            request.number = self.number
            try emit(try await self.options.call(Xcert_Filing_V1_CertificateService.Method.getCertificate, request))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes a certificate's signed credential (a compact JWS, W3C VC 2.0) to a file, for its holder.")
        @Argument(help: "The certificate number.") var number: String
        @Option(help: "The file to write.") var out: String
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_GetCertificateRequest()
            request.number = self.number
            let certificate = try await self.options.call(Xcert_Filing_V1_CertificateService.Method.getCertificate, request)
            try Data((certificate.credential + "\n").utf8).write(to: URL(fileURLWithPath: self.out))
            print("certificate \(certificate.number) of \(certificate.holderName) written to \(self.out)")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Checks a certificate file offline: its form, the issuer's signature, and (given the ID) that it is its holder's.")
        @Argument(help: "The certificate file (a compact JWS).") var file: String
        @Option(help: "The issuer's public key, a JWK file (xctl certificates issuer --out).") var issuerKey: String
        @Option(help: "The holder's national ID number, to check the credential is theirs.") var nationalId: String?
        @Option(help: "The revocation status list, a file (xctl certificates status-list --out).") var statusList: String?
        func run() async throws {
            guard let jws = FileManager.default.contents(atPath: self.file), let jwk = FileManager.default.contents(atPath: self.issuerKey)
            else { throw CLIError("cannot read \(self.file) or \(self.issuerKey)") }
            let key = String(decoding: jwk, as: UTF8.self)
            switch CertificateCredential.verify(String(decoding: jws, as: UTF8.self), jwk: key) {
            case .invalid(let reason):
                print("invalid: \(reason)")
                throw ExitCode(1)
            case .valid(let payload):
                if let nationalID = self.nationalId, !CertificateCredential.holds(payload, nationalID: nationalID) {
                    print("invalid: the credential is not the holder's of this national ID")
                    throw ExitCode(1)
                }
                if let statusList = self.statusList {
                    guard let listFile = FileManager.default.contents(atPath: statusList) else {
                        throw CLIError("cannot read \(statusList)")
                    }
                    guard case .valid(let list) = CertificateCredential.verify(String(decoding: listFile, as: UTF8.self), jwk: key) else {
                        print("invalid: the status list is not the issuer's")
                        throw ExitCode(1)
                    }
                    switch CertificateStatusList.isRevoked(certificate: payload, list: list) {
                    case nil:
                        print("invalid: the status list is not the one the certificate names")
                        throw ExitCode(1)
                    case true?:
                        print("revoked: \(CertificateCredential.subject(of: payload)["certificateNumber"] ?? "")")
                        throw ExitCode(2)
                    case false?: break
                    }
                }
                let subject = CertificateCredential.subject(of: payload)
                print(
                    "valid: \(subject["certificateNumber"] ?? "") \(subject["name"] ?? "") \(subject["certificateName"] ?? "") "
                        + "\(subject["level"] ?? "")\(self.nationalId == nil ? "" : ", the holder's")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The province revokes a certificate, with its reason.")
        @Argument(help: "The certificate number.") var number: String
        @Option(help: "Why, e.g. 名册更正后成绩未通过 or 监测发现违规发证.") var reason: String
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_RevokeCertificateRequest()
            request.number = self.number
            request.reason = self.reason
            let certificate = try await self.options.call(
                Xcert_Filing_V1_CertificateService.Method.revokeCertificate, request, idempotencyKey: self.change.idempotencyKey)
            print("certificate \(certificate.number) revoked: \(certificate.revocationReason)")
        }
    }

    struct StatusList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status-list", abstract: "The revocation status list, a signed credential (no token needed), to a file.")
        @Option(help: "The list's number (a certificate's status_index / 131072).") var list: Int32 = 0
        @Option(help: "The file to write.") var out: String
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_GetStatusListRequest()
            request.list = self.list
            let list = try await self.options.call(Xcert_Filing_V1_CertificateService.Method.getStatusList, request)
            try Data((list.credential + "\n").utf8).write(to: URL(fileURLWithPath: self.out))
            print("status list \(list.list): \(list.revoked) revoked, written to \(self.out)")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Asks the province whether a certificate of that number and holder is valid, revoked or unknown (no token).")
        @Argument(help: "The certificate number.") var number: String
        @Option(help: "The holder's name.") var holder: String
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_VerifyCertificateRequest()
            request.number = self.number
            request.holderName = self.holder
            let answer = try await self.options.call(Xcert_Filing_V1_CertificateService.Method.verifyCertificate, request)
            let text: [Xcert_Filing_V1_VerificationResult: String] = [.valid: "valid", .revoked: "revoked", .unknown: "unknown"]
            print(text[answer.result] ?? "unknown")
            if answer.result != .valid { throw ExitCode(answer.result == .revoked ? 2 : 1) }
        }
    }
}
