import Foundation
import Logging
import NIOSSL
import XCertStore
import XCertWire

/// How one service process runs, from `XCERT_…` environment variables, each with a
/// default that works beside the embedded database of `scripts/up`.
///
/// | variable | default |
/// | --- | --- |
/// | `XCERT_HOST` | `127.0.0.1` (containers set `0.0.0.0`) |
/// | `XCERT_PORT` | the service's port (7101–7104) |
/// | `XCERT_METRICS_PORT` | port + 1000 |
/// | `XCERT_MAX_FRAME_BYTES` | 4194304 |
/// | `XCERT_MAX_IN_FLIGHT_PER_CONNECTION` | 128 |
/// | `XCERT_MAX_CONCURRENT_REQUESTS` | 4096 |
/// | `XCERT_DEFAULT_TIMEOUT_MS` | 30000 |
/// | `XCERT_MAX_TIMEOUT_MS` | 300000 |
/// | `XCERT_GRACE_PERIOD_MS` | 10000 |
/// | `XCERT_READ_TIMEOUT_MS` | 30000: a frame begun must be finished within this |
/// | `XCERT_IDLE_TIMEOUT_MS` | 300000: a connection without traffic or requests for this long is closed |
/// | `XCERT_MAX_CONNECTIONS` | 4096 |
/// | `XCERT_MAX_CONNECTIONS_PER_ADDRESS` | 1024 |
/// | `XCERT_MIGRATE` | `true`: apply pending migrations at start |
/// | `XCERT_LOG_LEVEL` | `info` |
/// | `XCERT_<PEER>_ADDRESS` | `127.0.0.1:<the peer's port>`, e.g. `XCERT_FILING_ADDRESS` |
/// | `XCERT_SERVICE_TOKEN` | none: a token of this service's `service` principal, for calls to peers |
/// | `XCERT_SERVICE_TOKEN_FILE` | none: a file holding that token (containers mount it) |
/// | `XCERT_TLS_CERT`, `XCERT_TLS_KEY` | none: PEM certificate chain and key; set, both ports serve TLS only |
/// | `XCERT_TLS_CLIENT_CA` | none: PEM roots that callers' certificates, when presented, must chain to |
/// | `XCERT_TLS_REQUIRE_CLIENT_CERT` | `false`: refuse callers without such a certificate |
/// | `XCERT_PEER_TLS` | whether this service serves TLS: call the peers over TLS |
/// | `XCERT_TLS_CA` | the system's roots: PEM roots the peers' certificates must chain to |
/// | `XCERT_TLS_CLIENT_CERT`, `XCERT_TLS_CLIENT_KEY` | none: the certificate presented to peers that ask |
///
/// The database is configured by libpq's variables (see ``DatabaseConfiguration``).
public struct ServiceConfiguration: Sendable {
    public var name: String
    public var server: RPCServerConfiguration
    public var metricsPort: Int
    public var database: DatabaseConfiguration
    public var migrate: Bool
    public var logLevel: Logger.Level
    /// Where the other services are, by name.
    public var peers: [String: RPCClientConfiguration]
    /// The token this service presents to its peers.
    public var serviceToken: String?
    /// Calls a second per principal (schools, city bureaus, organizations).
    public var callLimits: CallLimitConfiguration

    public init(name: String, defaultPort: Int, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let reader = EnvironmentReader(environment)
        let port = try reader.int("XCERT_PORT", default: defaultPort, in: 0...65535)
        var server = RPCServerConfiguration(host: environment["XCERT_HOST"] ?? "127.0.0.1", port: port)
        server.maximumFrameLength = try reader.int("XCERT_MAX_FRAME_BYTES", default: server.maximumFrameLength, in: 0...Int(UInt32.max))
        server.maximumInFlightPerConnection = try reader.int("XCERT_MAX_IN_FLIGHT_PER_CONNECTION", default: 128, in: 1...100_000)
        server.maximumConcurrentRequests = try reader.int("XCERT_MAX_CONCURRENT_REQUESTS", default: 4096, in: 1...1_000_000)
        server.defaultTimeout = .milliseconds(try reader.int("XCERT_DEFAULT_TIMEOUT_MS", default: 30_000, in: 1...3_600_000))
        server.maximumTimeout = .milliseconds(try reader.int("XCERT_MAX_TIMEOUT_MS", default: 300_000, in: 1...3_600_000))
        server.gracePeriod = .milliseconds(try reader.int("XCERT_GRACE_PERIOD_MS", default: 10_000, in: 0...600_000))
        server.readTimeout = .milliseconds(try reader.int("XCERT_READ_TIMEOUT_MS", default: 30_000, in: 1...3_600_000))
        server.idleTimeout = .milliseconds(try reader.int("XCERT_IDLE_TIMEOUT_MS", default: 300_000, in: 1...86_400_000))
        server.maximumConnections = try reader.int("XCERT_MAX_CONNECTIONS", default: 4096, in: 1...1_000_000)
        server.maximumConnectionsPerAddress = try reader.int("XCERT_MAX_CONNECTIONS_PER_ADDRESS", default: 1024, in: 1...1_000_000)
        server.tls = try TLSEnvironment.server(environment)
        let peerTLS =
            try reader.bool("XCERT_PEER_TLS", default: server.tls != nil)
            ? try TLSEnvironment.client(environment) : nil
        self.name = name
        self.server = server
        self.metricsPort = try reader.int("XCERT_METRICS_PORT", default: port == 0 ? 0 : port + 1000, in: 0...65535)
        self.database = try DatabaseConfiguration(environment: environment)
        self.migrate = try reader.bool("XCERT_MIGRATE", default: true)
        let level = environment["XCERT_LOG_LEVEL"] ?? "info"
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw ConfigurationError("XCERT_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical; not \(level)")
        }
        self.logLevel = logLevel
        var peers: [String: RPCClientConfiguration] = [:]
        for (peer, peerPort) in Peers.defaultPorts where peer != name {
            let variable = "XCERT_\(peer.uppercased())_ADDRESS"
            let address = environment[variable].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1:\(peerPort)"
            guard var client = RPCClientConfiguration(address: address) else {
                throw ConfigurationError("\(variable) must be host:port, not \(address)")
            }
            client.connectTimeout = .seconds(2)
            client.tls = peerTLS
            peers[peer] = client
        }
        self.peers = peers
        self.callLimits = CallLimitConfiguration(
            readsPerSecond: Double(try reader.int("XCERT_LIMIT_READS_PER_SECOND", default: 200, in: 0...1_000_000)),
            readBurst: Double(try reader.int("XCERT_LIMIT_READ_BURST", default: 400, in: 0...1_000_000)),
            writesPerSecond: Double(try reader.int("XCERT_LIMIT_WRITES_PER_SECOND", default: 50, in: 0...1_000_000)),
            writeBurst: Double(try reader.int("XCERT_LIMIT_WRITE_BURST", default: 100, in: 0...1_000_000)),
            unauthenticatedPerSecond: Double(try reader.int("XCERT_LIMIT_UNAUTHENTICATED_PER_SECOND", default: 20, in: 0...1_000_000)),
            unauthenticatedBurst: Double(try reader.int("XCERT_LIMIT_UNAUTHENTICATED_BURST", default: 200, in: 0...1_000_000))
        )
        self.serviceToken = try EnvironmentSecret.value("XCERT_SERVICE_TOKEN", in: environment)
    }
}

/// A secret a service is given: the variable itself, or the file named by the variable with
/// `_FILE` appended (how containers pass secrets), its text trimmed.
public enum EnvironmentSecret {
    /// The secret `name` of `environment`; nil when neither `name` nor `name_FILE` is set.
    /// - Throws: ``ConfigurationError`` when `name_FILE` names a file that cannot be read or is empty.
    public static func value(_ name: String, in environment: [String: String]) throws -> String? {
        if let value = environment[name], !value.isEmpty { return value }
        guard let file = environment[name + "_FILE"], !file.isEmpty else { return nil }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigurationError("\(name)_FILE names \(file), which cannot be read")
        }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw ConfigurationError("\(name)_FILE names \(file), which is empty") }
        return value
    }
}

/// TLS settings from `XCERT_TLS_…` variables (see ``ServiceConfiguration``); files are read
/// at once, so a missing, unreadable or expired one stops the start with the variable's name.
public enum TLSEnvironment {
    /// The server's TLS (`XCERT_TLS_CERT`, `XCERT_TLS_KEY`, `XCERT_TLS_CLIENT_CA`,
    /// `XCERT_TLS_REQUIRE_CLIENT_CERT`); nil when neither certificate nor key is set.
    public static func server(_ environment: [String: String]) throws -> ServerTLSConfiguration? {
        let reader = EnvironmentReader(environment)
        let certificate = reader.path("XCERT_TLS_CERT"), key = reader.path("XCERT_TLS_KEY")
        let clientRoots = try reader.certificates("XCERT_TLS_CLIENT_CA")
        let requireClientCertificate = try reader.bool("XCERT_TLS_REQUIRE_CLIENT_CERT", default: false)
        guard certificate != nil || key != nil else {
            if clientRoots != nil || requireClientCertificate {
                throw ConfigurationError("XCERT_TLS_CLIENT_CA and XCERT_TLS_REQUIRE_CLIENT_CERT need XCERT_TLS_CERT and XCERT_TLS_KEY")
            }
            return nil
        }
        guard certificate != nil, key != nil else {
            throw ConfigurationError(
                "XCERT_TLS_CERT and XCERT_TLS_KEY go together; only \(certificate != nil ? "XCERT_TLS_CERT" : "XCERT_TLS_KEY") is set")
        }
        if requireClientCertificate && clientRoots == nil {
            throw ConfigurationError(
                "XCERT_TLS_REQUIRE_CLIENT_CERT needs XCERT_TLS_CLIENT_CA, the roots to check callers' certificates against")
        }
        let tls = ServerTLSConfiguration(
            certificateChain: try reader.certificates("XCERT_TLS_CERT")!,
            privateKey: try reader.privateKey("XCERT_TLS_KEY")!,
            clientCertificateTrustRoots: clientRoots,
            requireClientCertificate: requireClientCertificate
        )
        do {
            _ = try tls.makeContext()
        } catch {
            throw ConfigurationError("XCERT_TLS_CERT and XCERT_TLS_KEY cannot be used together: \(error)")
        }
        return tls
    }

    /// A tool's TLS (xctl's): on when `XCERT_TLS` is true, or by default when `XCERT_TLS_CA`
    /// is set; then as ``client(_:)``.
    public static func tool(_ environment: [String: String]) throws -> ClientTLSConfiguration? {
        let reader = EnvironmentReader(environment)
        guard try reader.bool("XCERT_TLS", default: reader.path("XCERT_TLS_CA") != nil) else { return nil }
        return try self.client(environment)
    }

    /// A client's TLS (`XCERT_TLS_CA`, `XCERT_TLS_CLIENT_CERT`, `XCERT_TLS_CLIENT_KEY`): for
    /// a service's calls to its peers, and for xctl.
    public static func client(_ environment: [String: String]) throws -> ClientTLSConfiguration {
        let reader = EnvironmentReader(environment)
        let certificate = reader.path("XCERT_TLS_CLIENT_CERT"), key = reader.path("XCERT_TLS_CLIENT_KEY")
        guard (certificate == nil) == (key == nil) else {
            throw ConfigurationError(
                """
                XCERT_TLS_CLIENT_CERT and XCERT_TLS_CLIENT_KEY go together; only \
                \(certificate != nil ? "XCERT_TLS_CLIENT_CERT" : "XCERT_TLS_CLIENT_KEY") is set
                """
            )
        }
        let tls = ClientTLSConfiguration(
            trustRoots: try reader.certificates("XCERT_TLS_CA"),
            certificateChain: try reader.certificates("XCERT_TLS_CLIENT_CERT") ?? [],
            privateKey: try reader.privateKey("XCERT_TLS_CLIENT_KEY")
        )
        do {
            _ = try tls.makeContext()
        } catch {
            throw ConfigurationError("XCERT_TLS_CA, XCERT_TLS_CLIENT_CERT and XCERT_TLS_CLIENT_KEY cannot be used together: \(error)")
        }
        return tls
    }
}

/// Typed reads of environment variables with errors that name the variable.
struct EnvironmentReader {
    let environment: [String: String]

    init(_ environment: [String: String]) { self.environment = environment }

    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = self.environment[name], !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(text)")
        }
        return number
    }

    /// A path, or nil when the variable is unset or empty.
    func path(_ name: String) -> String? {
        self.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The certificates of the PEM file the variable names; nil when it is unset.
    func certificates(_ name: String) throws -> [NIOSSLCertificate]? {
        guard let path = self.path(name) else { return nil }
        do {
            return try TLSFiles.certificates(at: path)
        } catch {
            throw ConfigurationError("\(name): \(error)")
        }
    }

    /// The private key of the PEM file the variable names; nil when it is unset.
    func privateKey(_ name: String) throws -> NIOSSLPrivateKey? {
        guard let path = self.path(name) else { return nil }
        do {
            return try TLSFiles.privateKey(at: path)
        } catch {
            throw ConfigurationError("\(name): \(error)")
        }
    }

    func bool(_ name: String, default value: Bool) throws -> Bool {
        guard let text = self.environment[name], !text.isEmpty else { return value }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError("\(name) must be true or false, not \(text)")
        }
    }
}
