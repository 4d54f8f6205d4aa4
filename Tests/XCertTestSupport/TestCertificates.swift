import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509
import XCertWire

/// A throwaway certificate authority for the TLS tests: it issues certificates for
/// loopback (`127.0.0.1`, `localhost`), valid now or not, and writes them as PEM files
/// the way an operator would hand them to a service.
public struct TestCertificateAuthority: Sendable {
    public let name: String
    private let key: P256.Signing.PrivateKey
    public let certificate: Certificate

    public init(name: String = "XCert test CA") throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let now = Date()
        self.name = name
        self.key = key
        self.certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now - 3600,
            notValidAfter: now + 86_400,
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key)
        )
    }

    /// A certificate for `commonName` on loopback, for servers and clients alike, valid
    /// from `notBefore` to `notAfter` (by default from an hour ago for a day).
    public func issue(_ commonName: String, notBefore: Date = Date() - 3600, notAfter: Date = Date() + 86_400) throws -> TestCertificate {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: self.certificate.subject,
            subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(self.key)
        )
        return TestCertificate(
            certificatePEM: try certificate.serializeAsPEM().pemString,
            privateKeyPEM: key.pemRepresentation,
            authorityPEM: try self.certificate.serializeAsPEM().pemString
        )
    }

    /// The authority's certificate as NIOSSL's, to trust.
    public var trustRoots: [NIOSSLCertificate] {
        get throws { try NIOSSLCertificate.fromPEMBytes(Array(self.certificate.serializeAsPEM().pemString.utf8)) }
    }

    /// Writes the authority's certificate to `folder` and returns its path.
    public func write(to folder: URL) throws -> String {
        let path = folder.appendingPathComponent("\(self.name.filter(\.isLetter))-ca.pem").path
        try self.certificate.serializeAsPEM().pemString.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// A certificate issued by a ``TestCertificateAuthority``, with its key.
public struct TestCertificate: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String
    public let authorityPEM: String

    /// As a server's TLS settings, optionally checking callers' certificates against `clientRoots`.
    public func server(
        clientRoots: TestCertificateAuthority? = nil, requireClientCertificate: Bool = false
    ) throws -> ServerTLSConfiguration {
        ServerTLSConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(self.certificatePEM.utf8)),
            privateKey: try NIOSSLPrivateKey(bytes: Array(self.privateKeyPEM.utf8), format: .pem),
            clientCertificateTrustRoots: try clientRoots?.trustRoots,
            requireClientCertificate: requireClientCertificate
        )
    }

    /// As the certificate a client presents, trusting `roots`.
    public func client(trusting roots: TestCertificateAuthority) throws -> ClientTLSConfiguration {
        ClientTLSConfiguration(
            trustRoots: try roots.trustRoots,
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(self.certificatePEM.utf8)),
            privateKey: try NIOSSLPrivateKey(bytes: Array(self.privateKeyPEM.utf8), format: .pem)
        )
    }

    /// Writes the certificate and the key to `folder` as `<name>.pem` and `<name>.key`.
    public func write(to folder: URL, as name: String) throws -> (certificate: String, key: String) {
        let certificate = folder.appendingPathComponent("\(name).pem").path
        let key = folder.appendingPathComponent("\(name).key").path
        try self.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        try self.privateKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
        return (certificate, key)
    }
}

extension ClientTLSConfiguration {
    /// A client that presents no certificate and trusts `roots`.
    public static func trusting(_ roots: TestCertificateAuthority) throws -> ClientTLSConfiguration {
        ClientTLSConfiguration(trustRoots: try roots.trustRoots)
    }
}

/// A new empty folder for certificate files; removed by the caller.
public func makeCertificateFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-tls-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// The certificate files of a TLS deployment in the tests: one authority, a certificate
/// and key for each service, written to a folder of its own, and the `XCERT_TLS_…`
/// variables that give them to a service.
public struct TestTLSDeployment: Sendable {
    public let authority: TestCertificateAuthority
    public let folder: URL
    /// The authority's certificate file (`XCERT_TLS_CA`, `XCERT_TLS_CLIENT_CA`).
    public let authorityFile: String

    public init() throws {
        self.authority = try TestCertificateAuthority()
        self.folder = try makeCertificateFolder()
        self.authorityFile = try self.authority.write(to: self.folder)
    }

    /// A service's variables: TLS on its ports with its own certificate, callers'
    /// certificates checked when presented, and TLS to its peers presenting the same certificate.
    public func environment(for service: String) throws -> [String: String] {
        let files = try self.authority.issue(service).write(to: self.folder, as: service)
        return [
            "XCERT_TLS_CERT": files.certificate, "XCERT_TLS_KEY": files.key,
            "XCERT_TLS_CLIENT_CA": self.authorityFile,
            "XCERT_TLS_CA": self.authorityFile,
            "XCERT_TLS_CLIENT_CERT": files.certificate, "XCERT_TLS_CLIENT_KEY": files.key,
        ]
    }

    /// A client that trusts the authority and presents no certificate (an organization).
    public func client() throws -> ClientTLSConfiguration {
        try .trusting(self.authority)
    }
}
