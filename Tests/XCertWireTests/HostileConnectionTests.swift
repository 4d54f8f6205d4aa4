import Foundation
import Testing
import XCertProto
import XCertTestSupport
import XCertWire

/// Peers that hold sockets without using them: stalled frames, idle connections, too many
/// connections (issue 9, "hostile connections").
@Suite("Hostile connections", .timeLimit(.minutes(2)))
struct HostileConnectionTests {
    /// A frame header announcing 100 bytes, and 10 of them.
    static let partialFrame: [UInt8] = [0, 0, 0, 100] + [UInt8](repeating: 7, count: 10)

    static func echo(id: UInt64, _ text: String) -> [UInt8] {
        RawConnection.frame(RawConnection.request(id: id, method: TestMethods.echo, payload: TestMethods.request(text)))
    }

    @Test("a frame begun and not finished within the read timeout closes the connection; one finished in time is answered")
    func stalledFrame() async throws {
        try await withTestServer(TestMethods.basic, configure: { $0.readTimeout = .seconds(2) }) { _, port in
            let stalled = try await RawConnection.connect(port: port)
            let started = ContinuousClock.now
            try await stalled.send(bytes: Self.partialFrame)

            // A slow but steady peer: its frame arrives in two parts, 100 ms apart.
            let steady = try await RawConnection.connect(port: port)
            let frame = Self.echo(id: 1, "in time")
            try await steady.send(bytes: Array(frame.prefix(6)))
            try await Task.sleep(for: .milliseconds(100))
            try await steady.send(bytes: Array(frame.dropFirst(6)))
            let answers = try await steady.receive(1)
            #expect(answers.first?.id == 1)

            try await stalled.waitForClose()
            #expect(ContinuousClock.now - started >= .seconds(2))

            // The steady connection is still open and served.
            try await steady.send(bytes: Self.echo(id: 2, "still here"))
            #expect(try await steady.receive(1).first?.id == 2)
            await steady.close()
        }
    }

    @Test("a connection with no traffic for the idle time is closed; one waiting for a slow answer is not")
    func idleConnections() async throws {
        try await withTestServer(TestMethods.basic, configure: { $0.idleTimeout = .seconds(1) }) { _, port in
            // The idle time counts from the connection, so the clock starts before it.
            let started = ContinuousClock.now
            let idle = try await RawConnection.connect(port: port)
            let waiting = try await RawConnection.connect(port: port)
            // Sleeps three idle times before answering.
            try await waiting.send(
                bytes: RawConnection.frame(
                    RawConnection.request(
                        id: 1, method: TestMethods.sleep, payload: TestMethods.request("3000")
                    )))
            try await idle.waitForClose()
            #expect(ContinuousClock.now - started >= .milliseconds(900))

            let answers = try await waiting.receive(1)
            #expect(answers.first?.id == 1)
            #expect(answers.first.map { !$0.hasStatus || $0.status.code == .ok } == true)
            // Once answered and quiet, it goes the same way.
            try await waiting.waitForClose()
        }
    }

    @Test("past the cap per client address, a connection is answered RESOURCE_EXHAUSTED and closed; a freed place is taken again")
    func capPerAddress() async throws {
        try await withTestServer(TestMethods.basic, configure: { $0.maximumConnectionsPerAddress = 2 }) { _, port in
            let first = try await RawConnection.connect(port: port)
            let second = try await RawConnection.connect(port: port)
            // Both are counted once they have been served.
            for (id, connection) in [(1, first), (2, second)] {
                try await connection.send(bytes: Self.echo(id: UInt64(id), "hello"))
                #expect(try await connection.receive(1).first?.id == UInt64(id))
            }
            let excess = try await RawConnection.connect(port: port)
            let refusal = try await excess.receive(1)
            #expect(refusal.first?.id == 0)
            #expect(refusal.first?.status.code == .resourceExhausted)
            #expect(refusal.first?.status.message.contains("limit per address") == true)
            try await excess.waitForClose()

            await first.close()
            try await Self.servedEventually(port: port)
            await second.close()
        }
    }

    @Test("past the cap of the whole server, a connection is answered RESOURCE_EXHAUSTED and closed")
    func capPerServer() async throws {
        try await withTestServer(TestMethods.basic, configure: { $0.maximumConnections = 3 }) { _, port in
            var open: [RawConnection] = []
            for id in 1...3 {
                let connection = try await RawConnection.connect(port: port)
                try await connection.send(bytes: Self.echo(id: UInt64(id), "hello"))
                #expect(try await connection.receive(1).first?.id == UInt64(id))
                open.append(connection)
            }
            let excess = try await RawConnection.connect(port: port)
            let refusal = try await excess.receive(1)
            #expect(refusal.first?.status.code == .resourceExhausted)
            #expect(refusal.first?.status.message.contains("limit of 3 connections") == true)
            try await excess.waitForClose()
            for connection in open { await connection.close() }
        }
    }

    @Test("1,000 connections stalled in the middle of a frame do not stop other clients from being served")
    func thousandSlowConnections() async throws {
        try await withTestServer(TestMethods.basic) { _, port in
            var slow: [RawConnection] = []
            for _ in 1...1000 {
                let connection = try await RawConnection.connect(port: port)
                try await connection.send(bytes: Self.partialFrame)
                slow.append(connection)
            }
            // Over a fresh connection, through the client library, and pipelined on a raw one.
            let client = testClient(port: port, timeout: .seconds(5))
            let answer = try await client.unary(
                TestMethods.echo, TestMethods.request("served"), as: Xcert_Health_V1_HealthCheckResponse.self
            )
            #expect(answer.detail == "served")
            await client.close()

            let raw = try await RawConnection.connect(port: port)
            try await raw.send(bytes: (1...100).flatMap { Self.echo(id: UInt64($0), "\($0)") })
            let answers = try await raw.receive(100)
            #expect(Set(answers.map(\.id)) == Set(1...100))
            await raw.close()
            for connection in slow { await connection.close() }
        }
    }

    /// Retries an echo on new connections until one is served (the server counts a closed
    /// connection out once it has seen the close).
    static func servedEventually(port: Int) async throws {
        let giveUp = ContinuousClock.now + .seconds(10)
        while true {
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(bytes: Self.echo(id: 9, "again"))
            let answer = try await connection.receive(1).first
            await connection.close()
            if answer?.id == 9, answer.map({ !$0.hasStatus || $0.status.code == .ok }) == true { return }
            #expect(ContinuousClock.now < giveUp, "a freed place was not taken again within 10 s")
            if ContinuousClock.now >= giveUp { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
