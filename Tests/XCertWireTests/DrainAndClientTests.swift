import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import XCertProto
import XCertTestSupport
import XCertWire

@Suite("Graceful shutdown", .timeLimit(.minutes(1)))
struct DrainTests {
    /// On an address of its own (all of 127/8 is loopback), so that a port it gives up
    /// cannot be taken over by a test server running in parallel on 127.0.0.1.
    static let host = "127.0.0.2"

    private func server(_ methods: [RPCMethod], grace: Duration) -> RPCServer {
        var table = MethodTable()
        table.register(methods)
        return RPCServer(
            configuration: RPCServerConfiguration(host: Self.host, port: 0, gracePeriod: grace),
            methods: table,
            logger: testLogger("drain")
        )
    }

    @Test("on shutdown: no new connections, new requests UNAVAILABLE, in-flight ones finish, then the server returns")
    func drainsInFlight() async throws {
        let gate = Gate()
        let server = self.server([gate.method("/test.v1.Test/Hold")] + TestMethods.basic, grace: .seconds(20))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try await server.listeningAddress.port!
                let connection = try await RawConnection.connect(host: Self.host, port: port)
                try await connection.send(RawConnection.request(id: 1, method: "/test.v1.Test/Hold"))
                try await gate.waitForStarted(1)

                trigger.triggerGracefulShutdown()
                try await Task.sleep(for: .milliseconds(100))
                try await connection.send(RawConnection.request(id: 2, method: TestMethods.echo))
                let refused = try await connection.receive(1)
                #expect(refused.first?.id == 2)
                #expect(refused.first?.status.code == .unavailable)

                await #expect(throws: (any Error).self) {
                    let late = try await RawConnection.connect(host: Self.host, port: port)
                    await late.close()
                }

                gate.open()
                let finished = try await connection.receive(1)
                #expect(finished.first?.id == 1)
                #expect(finished.first?.hasStatus == false)
                try await connection.waitForClose()
                try await group.next()
                #expect(gate.cancelled == 0)
            }
        }
    }

    @Test("requests still running when the grace period ends are cancelled and the server returns")
    func gracePeriodBoundsTheDrain() async throws {
        let gate = Gate()
        let server = self.server([gate.method("/test.v1.Test/Hold")], grace: .milliseconds(300))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try await server.listeningAddress.port!
                let connection = try await RawConnection.connect(host: Self.host, port: port)
                try await connection.send(RawConnection.request(id: 1, method: "/test.v1.Test/Hold"))
                try await gate.waitForStarted(1)
                let start = ContinuousClock.now
                trigger.triggerGracefulShutdown()
                try await group.next()
                #expect(ContinuousClock.now - start >= .milliseconds(250))
                #expect(gate.cancelled == 1)
                await connection.close()
            }
        }
    }
}

/// Calls Echo until a call succeeds (the client reconnecting after its backoff).
private func echoOnceReconnected(_ client: RPCClient, _ text: String) async throws -> Xcert_Health_V1_HealthCheckResponse {
    try await withTimeout(.seconds(10)) {
        while true {
            if let answer = try? await client.unary(
                TestMethods.echo, TestMethods.request(text), as: Xcert_Health_V1_HealthCheckResponse.self)
            {
                return answer
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

private final class HangUpOnRead: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.close(promise: nil) }
}

@Suite("RPC client", .serialized, .timeLimit(.minutes(1)))
struct RPCClientTests {
    /// These tests give ports up and take them again: an address of their own keeps
    /// servers of tests running in parallel on 127.0.0.1 from taking them meanwhile.
    static let host = "127.0.0.3"

    @Test("no server: UNAVAILABLE quickly, naming the address")
    func connectionRefused() async throws {
        // A port that was free a moment ago.
        let port = try await withTestServer(TestMethods.basic, configure: { $0.host = Self.host }) { _, port in port }
        let client = testClient(host: Self.host, port: port)
        await #expect(throws: RPCError.self) {
            _ = try await client.call(TestMethods.echo, payload: Data(), timeout: .seconds(2))
        }
        do {
            _ = try await client.call(TestMethods.echo, payload: Data(), timeout: .seconds(2))
        } catch let error as RPCError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("\(Self.host):\(port)"))
        }
        await client.close()
    }

    @Test("after the server comes back, the client reconnects (with backoff)")
    func reconnects() async throws {
        let port = try await withTestServer(TestMethods.basic, configure: { $0.host = Self.host }) { _, port in port }
        let client = RPCClient(
            configuration: RPCClientConfiguration(
                host: Self.host, port: port, defaultTimeout: .seconds(5), initialBackoff: .milliseconds(20),
                maximumBackoff: .milliseconds(200)
            ))
        _ = try? await client.call(TestMethods.echo, payload: Data(), timeout: .milliseconds(500))
        try await withTestServer(
            TestMethods.basic,
            configure: {
                $0.host = Self.host
                $0.port = port
            }
        ) { _, _ in
            let response = try await echoOnceReconnected(client, "back")
            #expect(response.detail == "back")
        }
        await client.close()
    }

    @Test("calls in flight when the connection drops fail with UNAVAILABLE; the next call reconnects")
    func connectionLoss() async throws {
        let port = try await withTestServer(TestMethods.basic, configure: { $0.host = Self.host }) { _, port in port }
        let client = testClient(host: Self.host, port: port, timeout: .seconds(10))
        // A peer that reads the request and hangs up without answering, on the port the
        // test server just gave up (retried briefly: the kernel may still hold it a moment).
        let hangUp = try await withTimeout(.seconds(10)) {
            while true {
                do {
                    return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                        .childChannelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(HangUpOnRead()) }
                        }
                        .bind(host: Self.host, port: port).get()
                } catch {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        }
        do {
            _ = try await client.call("/test.v1.Test/Hold", payload: Data())
            Issue.record("the call should have failed")
        } catch let error as RPCError {
            #expect(error.code == .unavailable)
        }
        try await hangUp.close()
        try await withTestServer(
            TestMethods.basic,
            configure: {
                $0.host = Self.host
                $0.port = port
            }
        ) { _, _ in
            let response = try await echoOnceReconnected(client, "again")
            #expect(response.detail == "again")
        }
        await client.close()
    }

    @Test("a server that never answers: the call fails with DEADLINE_EXCEEDED")
    func silentServer() async throws {
        // A listener that accepts and reads but never writes.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        // The client's own guard is under test here: the default slack of one second.
        let client = testClient(port: channel.localAddress!.port!, localDeadlineSlack: .seconds(1))
        let start = ContinuousClock.now
        do {
            _ = try await client.call(TestMethods.echo, payload: Data(), timeout: .milliseconds(300))
            Issue.record("expected a deadline error")
        } catch let error as RPCError {
            #expect(error.code == .deadlineExceeded)
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        await client.close()
        try await channel.close()
    }
}

@Suite("withTimeout")
struct WithTimeoutTests {
    @Test("a body that ends quietly when the deadline cancels it still gives DEADLINE_EXCEEDED; one done in time gives its result")
    func quietBody() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let started = ContinuousClock.now
        // Iterating a stream ends without an error on cancellation: the loop never saw its end.
        let error = await #expect(throws: RPCError.self) {
            try await withTimeout(.milliseconds(200)) {
                for await _ in stream {}
            }
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        continuation.finish()
        #expect(try await withTimeout(.seconds(10)) { 42 } == 42)
    }
}
