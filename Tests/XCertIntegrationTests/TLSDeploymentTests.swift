import Foundation
import Testing
import XCertAPI
import XCertProto
import XCertStore
import XCertTestSupport
import XCertWire

@testable import XCertService

/// A service process with TLS on by configuration (issue 9, item 5): both its ports serve
/// TLS only, its calls to a peer present its client certificate, and TLS settings that
/// cannot work stop it at start with the variable's name.
@Suite("TLS deployment", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct TLSDeploymentTests {
    @Test("the registry over TLS: its callers, its metrics over HTTPS, and its call to a filing service that requires its certificate")
    func registryOverTLS() async throws {
        let tls = try TestTLSDeployment()
        defer { try? FileManager.default.removeItem(at: tls.folder) }
        try await withRegistryProcess(tls: tls) { registry, process in
            // Every call of the fixtures goes over TLS; applying asks the filing fake, which
            // serves only callers with a certificate from the deployment's authority.
            try await registry.seedReference()
            try await registry.createSchool("4136010001")
            registry.filing.approve("BIM", year: 2020)
            let application = try await registry.apply("4136010001", "BIM")
            #expect(application.schoolCode == "4136010001")
            #expect(registry.filing.questionCount == 1)

            // The RPC port refuses a plaintext caller.
            let plaintext = testClient(port: registry.registry.port, timeout: .seconds(10))
            await #expect(throws: RPCError.self) {
                _ = try await Xcert_Health_V1_Health.Client(plaintext).check()
            }
            await plaintext.close()

            // The metrics port serves HTTPS with the same certificate, and not HTTP.
            let metricsPort = process.metricsPort
            let https = try await runCommand(
                "/usr/bin/env",
                [
                    "curl", "--silent", "--show-error", "--fail", "--max-time", "10", "--cacert", tls.authorityFile,
                    "https://127.0.0.1:\(metricsPort)/metrics",
                ])
            #expect(https.status == 0, "\(https.output)")
            #expect(https.output.contains("xcert_rpc_requests_total"), "\(https.output.prefix(500))")
            let http = try await runCommand(
                "/usr/bin/env",
                [
                    "curl", "--silent", "--max-time", "10", "http://127.0.0.1:\(metricsPort)/metrics",
                ])
            #expect(http.status != 0, "plain HTTP was answered: \(http.output.prefix(200))")
            #expect(process.log.contains("tls=on"), "the log does not say TLS is on")

            // xctl: over TLS when XCERT_TLS_CA names the authority; without it, refused.
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let address = "127.0.0.1:\(registry.registry.port)"
            let withTLS = try await runCommand(xctl, ["health", "--address", address], environment: ["XCERT_TLS_CA": tls.authorityFile])
            #expect(withTLS.status == 0 && withTLS.output.contains("SERVING"), "\(withTLS.output)")
            let withoutTLS = try await runCommand(xctl, ["health", "--address", address], environment: ["XCERT_TLS_CA": ""])
            #expect(withoutTLS.status != 0 && withoutTLS.output.contains("UNREACHABLE"), "\(withoutTLS.output)")
        }
    }

    @Test("TLS settings that cannot work stop the service at start, naming the variable")
    func unusableSettingsStopTheStart() async throws {
        let tls = try TestTLSDeployment()
        defer { try? FileManager.default.removeItem(at: tls.folder) }
        let day: TimeInterval = 86_400
        let expired = try tls.authority.issue("registry", notBefore: Date() - 3 * day, notAfter: Date() - day)
            .write(to: tls.folder, as: "expired")
        let valid = try tls.authority.issue("registry").write(to: tls.folder, as: "valid")
        let other = try TestCertificateAuthority(name: "Other").issue("registry").write(to: tls.folder, as: "other")
        let cases: [(environment: [String: String], says: String)] = [
            (
                ["XCERT_TLS_CERT": expired.certificate, "XCERT_TLS_KEY": expired.key],
                "XCERT_TLS_CERT: \(expired.certificate) holds a certificate that expired"
            ),
            (["XCERT_TLS_CERT": valid.certificate], "XCERT_TLS_CERT and XCERT_TLS_KEY go together"),
            (
                ["XCERT_TLS_CERT": valid.certificate, "XCERT_TLS_KEY": tls.folder.appendingPathComponent("missing.key").path],
                "XCERT_TLS_KEY: "
            ),
            (["XCERT_TLS_CERT": valid.certificate, "XCERT_TLS_KEY": other.key], "cannot be used together"),
            (
                ["XCERT_TLS_CERT": valid.certificate, "XCERT_TLS_KEY": valid.key, "XCERT_TLS_REQUIRE_CLIENT_CERT": "true"],
                "needs XCERT_TLS_CLIENT_CA"
            ),
            (["XCERT_TLS_CLIENT_CERT": valid.certificate], "XCERT_TLS_CLIENT_CERT and XCERT_TLS_CLIENT_KEY go together"),
        ]
        for (environment, says) in cases {
            let error = #expect(throws: ConfigurationError.self, "\(environment)") {
                _ = try ServiceConfiguration(
                    name: "registry", defaultPort: 7101, environment: environment.merging(["XCERT_PEER_TLS": "true"]) { $1 })
            }
            #expect(error?.description.contains(says) == true, "\(error?.description ?? "nothing thrown"), expected: \(says)")
        }

        // The executable itself: exit status 2 and the reason on standard error.
        let binary = ServiceProcess.binDirectory.appendingPathComponent("registry").path
        let run = try await runCommand(
            binary, [],
            environment: [
                "XCERT_PORT": "0", "XCERT_METRICS_PORT": "0", "XCERT_TLS_CERT": expired.certificate, "XCERT_TLS_KEY": expired.key,
            ])
        #expect(run.status == 2, "\(run.output)")
        #expect(run.output.contains("XCERT_TLS_CERT"), "\(run.output)")

        // And the settings that work: TLS on both ports, peers over TLS by default.
        let configuration = try ServiceConfiguration(name: "registry", defaultPort: 7101, environment: tls.environment(for: "registry"))
        #expect(configuration.server.tls?.clientCertificateTrustRoots?.count == 1)
        #expect(configuration.server.tls?.requireClientCertificate == false)
        #expect(configuration.peers["filing"]?.tls?.certificateChain.count == 1)
        let plain = try ServiceConfiguration(name: "registry", defaultPort: 7101, environment: [:])
        #expect(plain.server.tls == nil && plain.peers["filing"]?.tls == nil, "the embedded stack stays plaintext")
    }
}
