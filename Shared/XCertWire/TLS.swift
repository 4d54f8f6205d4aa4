import Foundation
import NIOCore
import NIOSSL
import NIOTLS

/// TLS on a server's ports: the same frames of docs/protocol.md, inside TLS 1.2 or later.
///
/// Callers' certificates are optional by default: organizations reach the filing service
/// with a token and no certificate. With ``clientCertificateTrustRoots`` set, a certificate
/// that a caller presents must chain to those roots and be valid now, or the handshake
/// fails; with ``requireClientCertificate`` a caller without one is refused too (a port
/// that only the other services call).
public struct ServerTLSConfiguration: Sendable {
    /// The server's certificate first, then any intermediates.
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey
    /// The roots callers' certificates must chain to; nil: callers' certificates are not asked for.
    public var clientCertificateTrustRoots: [NIOSSLCertificate]?
    /// Refuse callers that present no certificate (needs ``clientCertificateTrustRoots``).
    public var requireClientCertificate: Bool

    public init(
        certificateChain: [NIOSSLCertificate],
        privateKey: NIOSSLPrivateKey,
        clientCertificateTrustRoots: [NIOSSLCertificate]? = nil,
        requireClientCertificate: Bool = false
    ) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.clientCertificateTrustRoots = clientCertificateTrustRoots
        self.requireClientCertificate = requireClientCertificate
    }

    /// NIOSSL's context for these settings; throws if the key does not fit the certificate
    /// or a client certificate is required without roots to check it against.
    public func makeContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: self.certificateChain.map { .certificate($0) },
            privateKey: .privateKey(self.privateKey)
        )
        tls.minimumTLSVersion = .tlsv12
        if let roots = self.clientCertificateTrustRoots {
            tls.trustRoots = .certificates(roots)
            tls.certificateVerification = self.requireClientCertificate ? .noHostnameVerification : .optionalVerification
        } else if self.requireClientCertificate {
            throw TLSConfigurationError(file: nil, problem: "a client certificate is required, but no roots are given to check it against")
        }
        return try NIOSSLContext(configuration: tls)
    }
}

/// TLS of a client's connection: which servers it trusts, and the certificate it presents
/// when a server asks (a service's own calls to its peers).
public struct ClientTLSConfiguration: Sendable {
    /// The roots the server's certificate must chain to; nil: the system's.
    public var trustRoots: [NIOSSLCertificate]?
    /// Presented to servers that ask; empty: none.
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey?
    /// The name the server's certificate must carry, also sent as SNI; nil: the host
    /// connected to (for an IP address, the certificate must name that address).
    public var serverName: String?

    public init(
        trustRoots: [NIOSSLCertificate]? = nil,
        certificateChain: [NIOSSLCertificate] = [],
        privateKey: NIOSSLPrivateKey? = nil,
        serverName: String? = nil
    ) {
        self.trustRoots = trustRoots
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.serverName = serverName
    }

    /// NIOSSL's context for these settings: TLS 1.2 or later, the server's certificate
    /// checked against the roots and its name.
    public func makeContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let roots = self.trustRoots { tls.trustRoots = .certificates(roots) }
        if let key = self.privateKey, !self.certificateChain.isEmpty {
            tls.certificateChain = self.certificateChain.map { .certificate($0) }
            tls.privateKey = .privateKey(key)
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// The name to send as SNI for a connection to `host`: none for an IP address (TLS
    /// forbids it; NIOSSL then checks the certificate against the address connected to).
    func serverName(connectingTo host: String) -> String? {
        let name = self.serverName ?? host
        return name.isIPAddress ? nil : name
    }
}

/// PEM files read for TLS, with errors that name the file and what is wrong with it.
public enum TLSFiles {
    /// Every certificate of a PEM file (a chain, or a set of roots); refuses a file that
    /// holds none, or a certificate that is expired or not yet valid.
    public static func certificates(at path: String, now: Date = Date()) throws -> [NIOSSLCertificate] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSConfigurationError(file: path, problem: "cannot be read")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw TLSConfigurationError(file: path, problem: "is not a PEM certificate file (\(error))")
        }
        guard !certificates.isEmpty else { throw TLSConfigurationError(file: path, problem: "holds no certificate") }
        for certificate in certificates {
            let notBefore = Date(timeIntervalSince1970: TimeInterval(certificate.notValidBefore))
            let notAfter = Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
            if notAfter < now {
                throw TLSConfigurationError(file: path, problem: "holds a certificate that expired on \(notAfter)")
            }
            if notBefore > now {
                throw TLSConfigurationError(file: path, problem: "holds a certificate not valid before \(notBefore)")
            }
        }
        return certificates
    }

    /// The private key of a PEM file.
    public static func privateKey(at path: String) throws -> NIOSSLPrivateKey {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSConfigurationError(file: path, problem: "cannot be read")
        }
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw TLSConfigurationError(file: path, problem: "is not a PEM private key (\(error))")
        }
    }
}

/// TLS settings that cannot be used: a file that cannot be read or holds the wrong thing,
/// or settings that contradict each other.
public struct TLSConfigurationError: Error, CustomStringConvertible {
    /// The file at fault, if one is.
    public var file: String?
    public var problem: String

    public init(file: String?, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { self.file.map { "\($0) \(self.problem)" } ?? self.problem }
}

/// Completes ``handshake`` when the client's TLS handshake is done, or fails it with
/// UNAVAILABLE and the reason the handshake failed, so that a connection counts as made only
/// once TLS is up (a refused certificate is then a failed connection attempt, with its reason).
final class TLSHandshakeObserver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let handshake: EventLoopPromise<Void>
    private let address: String
    private var done = false

    init(address: String, handshake: EventLoopPromise<Void>) {
        self.address = address
        self.handshake = handshake
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !self.done, let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            self.done = true
            self.handshake.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail("\(error)")
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail("the server closed the connection")
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.fail("the connection was closed")
    }

    private func fail(_ reason: String) {
        guard !self.done else { return }
        self.done = true
        self.handshake.fail(RPCError(.unavailable, "TLS handshake with \(self.address) failed: \(reason)"))
    }
}

@available(*, unavailable)
extension TLSHandshakeObserver: Sendable {}

extension String {
    /// An IPv4 or IPv6 literal (not a name to resolve).
    var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}
