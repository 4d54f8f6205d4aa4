import Foundation
import NIOPosix
import NIOSSL
import Testing
import XCertProto
import XCertTestSupport
import XCertWire

/// TLS on a server's port (issue 9, item 5): the handshake, callers that do not speak TLS,
/// certificates that are expired or from another authority, and callers' certificates.
@Suite("TLS", .timeLimit(.minutes(2)))
struct TLSTests {
    static func echo(_ client: RPCClient, _ text: String) async throws -> String {
        try await client.unary(TestMethods.echo, TestMethods.request(text), as: Xcert_Health_V1_HealthCheckResponse.self).detail
    }

    @Test("a client that trusts the server's authority completes the handshake, and many calls share the connection")
    func handshake() async throws {
        let authority = try TestCertificateAuthority()
        let tls = try authority.issue("server").server()
        try await withTestServer(TestMethods.basic, configure: { $0.tls = tls }) { _, port in
            let client = testClient(port: port, tls: try .trusting(authority))
            let answers = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<50 { group.addTask { try await Self.echo(client, "call \(index)") } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(answers == Set((0..<50).map { "call \($0)" }))
            await client.close()
        }
    }

    @Test("a plaintext client on a TLS port is refused at once, not after the read timeout, and TLS clients are still served")
    func plaintextClientRefused() async throws {
        let authority = try TestCertificateAuthority()
        let tls = try authority.issue("server").server()
        try await withTestServer(
            TestMethods.basic,
            configure: {
                $0.tls = tls
                $0.readTimeout = .seconds(60)
            }
        ) { _, port in
            // Raw frames: the server closes the connection without answering a frame.
            let raw = try await RawConnection.connect(port: port)
            let started = ContinuousClock.now
            try await raw.send(
                bytes: RawConnection.frame(
                    RawConnection.request(
                        id: 1, method: TestMethods.echo, payload: TestMethods.request("plaintext")
                    )))
            try await raw.waitForClose()
            #expect(ContinuousClock.now - started < .seconds(10))

            // Our own client without TLS: UNAVAILABLE, well within its deadline.
            let plaintext = testClient(port: port, timeout: .seconds(30))
            let callStarted = ContinuousClock.now
            let error = try #require(await rpcRefusal { _ = try await Self.echo(plaintext, "plaintext") })
            #expect(error.code == .unavailable, "\(error)")
            #expect(ContinuousClock.now - callStarted < .seconds(10))
            await plaintext.close()

            let client = testClient(port: port, tls: try .trusting(authority))
            #expect(try await Self.echo(client, "still served") == "still served")
            await client.close()
        }
    }

    @Test("a TLS client on a plaintext port fails UNAVAILABLE with the handshake's reason")
    func tlsClientOnPlaintextPort() async throws {
        let authority = try TestCertificateAuthority()
        try await withTestServer(TestMethods.basic) { _, port in
            let client = testClient(port: port, timeout: .seconds(10), tls: try .trusting(authority))
            let error = try #require(await rpcRefusal { _ = try await Self.echo(client, "hello") })
            #expect(error.code == .unavailable, "\(error)")
            #expect(error.message.contains("TLS handshake with 127.0.0.1:\(port) failed"), "\(error.message)")
            await client.close()
        }
    }

    @Test("a server certificate that has expired, or one from another authority, is refused; the same server with a valid one is not")
    func serverCertificateRefused() async throws {
        let authority = try TestCertificateAuthority()
        let day: TimeInterval = 86_400
        let expired = try authority.issue("server", notBefore: Date() - 3 * day, notAfter: Date() - day).server()
        let foreign = try TestCertificateAuthority(name: "Another CA").issue("server").server()
        for (tls, what) in [(expired, "expired"), (foreign, "another authority's")] {
            try await withTestServer(TestMethods.basic, configure: { $0.tls = tls }) { _, port in
                let client = testClient(port: port, timeout: .seconds(10), tls: try .trusting(authority))
                let error = try #require(
                    await rpcRefusal { _ = try await Self.echo(client, "hello") }, "an \(what) certificate was accepted")
                #expect(error.code == .unavailable, "\(what): \(error)")
                #expect(error.message.contains("TLS handshake"), "\(what): \(error.message)")
                #expect(error.message.contains("CERTIFICATE_VERIFY_FAILED"), "\(what): \(error.message)")
                await client.close()
            }
        }
        let valid = try authority.issue("server").server()
        try await withTestServer(TestMethods.basic, configure: { $0.tls = valid }) { _, port in
            let client = testClient(port: port, tls: try .trusting(authority))
            #expect(try await Self.echo(client, "valid") == "valid")
            await client.close()
        }
    }

    @Test("client certificates required: none, an expired one and another authority's are refused; a valid one is served")
    func clientCertificatesRequired() async throws {
        let authority = try TestCertificateAuthority()
        let day: TimeInterval = 86_400
        let tls = try authority.issue("server").server(clientRoots: authority, requireClientCertificate: true)
        try await withTestServer(TestMethods.basic, configure: { $0.tls = tls }) { _, port in
            let refused: [(String, ClientTLSConfiguration)] = [
                ("no certificate", try .trusting(authority)),
                (
                    "an expired certificate",
                    try authority.issue("filing", notBefore: Date() - 3 * day, notAfter: Date() - day).client(trusting: authority)
                ),
                (
                    "another authority's certificate",
                    try TestCertificateAuthority(name: "Another CA").issue("filing").client(trusting: authority)
                ),
            ]
            for (what, clientTLS) in refused {
                let client = testClient(port: port, timeout: .seconds(10), tls: clientTLS)
                let error = try #require(await rpcRefusal { _ = try await Self.echo(client, what) }, "\(what) was served")
                #expect(error.code == .unavailable, "\(what): \(error)")
                await client.close()
            }
            let client = testClient(port: port, tls: try authority.issue("filing").client(trusting: authority))
            #expect(try await Self.echo(client, "with a certificate") == "with a certificate")
            await client.close()
        }
    }

    @Test("client certificates optional: a caller without one is served, one presenting an expired one is refused")
    func clientCertificatesOptional() async throws {
        let authority = try TestCertificateAuthority()
        let day: TimeInterval = 86_400
        let tls = try authority.issue("server").server(clientRoots: authority)
        try await withTestServer(TestMethods.basic, configure: { $0.tls = tls }) { _, port in
            let anonymous = testClient(port: port, tls: try .trusting(authority))
            #expect(try await Self.echo(anonymous, "token only") == "token only")
            await anonymous.close()

            let expired = try authority.issue("filing", notBefore: Date() - 3 * day, notAfter: Date() - day).client(trusting: authority)
            let client = testClient(port: port, timeout: .seconds(10), tls: expired)
            let error = try #require(await rpcRefusal { _ = try await Self.echo(client, "expired") })
            #expect(error.code == .unavailable, "\(error)")
            await client.close()
        }
    }

    @Test("a connection that does not finish its TLS handshake within the read timeout is closed")
    func stalledHandshake() async throws {
        let authority = try TestCertificateAuthority()
        let tls = try authority.issue("server").server()
        try await withTestServer(
            TestMethods.basic,
            configure: {
                $0.tls = tls
                $0.readTimeout = .seconds(1)
            }
        ) { _, port in
            let silent = try await RawConnection.connect(port: port)
            let started = ContinuousClock.now
            try await silent.waitForClose()
            #expect(ContinuousClock.now - started >= .milliseconds(900))

            // A connection whose handshake completed stays open, idle, past the same timer.
            let context = try ClientTLSConfiguration.trusting(authority).makeContext()
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            try await Task.sleep(for: .milliseconds(2500))
            #expect(channel.isActive, "the server closed a connection whose handshake was done")
            try await channel.close()
        }
    }
}
