import Foundation
import NIOCore
import Synchronization
import Testing
import XCertProto
import XCertTestSupport
import XCertWire

/// Test methods: the request's `service` field carries the test's instructions, the
/// response's `detail` field the answer.
enum TestMethods {
    static let echo = "/test.v1.Test/Echo"
    static let sleep = "/test.v1.Test/Sleep"

    /// Echo answers `detail = service`; Sleep sleeps `service` milliseconds first.
    static var basic: [RPCMethod] {
        [
            .unary(echo) { (request: Xcert_Health_V1_HealthCheckRequest, _) in
                var response = Xcert_Health_V1_HealthCheckResponse()
                response.detail = request.service
                return response
            },
            .unary(sleep) { (request: Xcert_Health_V1_HealthCheckRequest, _) in
                try await Task.sleep(for: .milliseconds(Int(request.service) ?? 0))
                var response = Xcert_Health_V1_HealthCheckResponse()
                response.detail = request.service
                return response
            },
        ]
    }

    static func request(_ text: String) -> Xcert_Health_V1_HealthCheckRequest {
        var request = Xcert_Health_V1_HealthCheckRequest()
        request.service = text
        return request
    }
}

/// Counts handlers running at once, and lets a test hold them until it opens the gate.
final class Gate: Sendable {
    private let state = Mutex((running: 0, peak: 0, started: 0, cancelled: 0, open: false))

    var peak: Int { self.state.withLock { $0.peak } }
    var started: Int { self.state.withLock { $0.started } }
    var cancelled: Int { self.state.withLock { $0.cancelled } }

    func open() { self.state.withLock { $0.open = true } }

    /// Runs until the gate opens (or the task is cancelled).
    func pass() async throws {
        self.state.withLock {
            $0.running += 1
            $0.started += 1
            $0.peak = max($0.peak, $0.running)
        }
        defer { self.state.withLock { $0.running -= 1 } }
        while !self.state.withLock({ $0.open }) {
            do {
                try await Task.sleep(for: .milliseconds(5))
            } catch {
                self.state.withLock { $0.cancelled += 1 }
                throw error
            }
        }
    }

    func method(_ name: String) -> RPCMethod {
        .unary(name) { (_: Xcert_Health_V1_HealthCheckRequest, _) in
            try await self.pass()
            return Xcert_Health_V1_HealthCheckResponse()
        }
    }

    /// Waits until `count` handlers have started.
    func waitForStarted(_ count: Int) async throws {
        try await withTimeout(.seconds(10)) {
            while self.started < count { try await Task.sleep(for: .milliseconds(5)) }
        }
    }
}

@Suite("RPC over real TCP", .timeLimit(.minutes(1)))
struct RPCServerTests {
    @Test("1,000 pipelined requests on one connection are all answered, out of order")
    func pipelinedOutOfOrder() async throws {
        try await withTestServer(TestMethods.basic) { _, port in
            let connection = try await RawConnection.connect(port: port)
            // Sent back to back without waiting; earlier requests sleep longer, so later
            // ones overtake them.
            var bytes: [UInt8] = []
            for id in 1...1000 {
                let milliseconds = (1000 - id) / 50
                bytes += RawConnection.frame(
                    RawConnection.request(
                        id: UInt64(id), method: TestMethods.sleep, payload: TestMethods.request("\(milliseconds)")
                    ))
            }
            try await connection.send(bytes: bytes)
            let responses = try await connection.receive(1000)
            #expect(responses.count == 1000)
            #expect(Set(responses.map(\.id)) == Set(1...1000))
            #expect(responses.allSatisfy { !$0.hasStatus || $0.status.code == .ok })
            let order = responses.map(\.id)
            #expect(order != order.sorted(), "responses came back in request order; expected overtaking")
            // Each response carries the answer to its own request.
            for response in responses {
                let answer = try Xcert_Health_V1_HealthCheckResponse(serializedBytes: response.payload)
                #expect(answer.detail == "\((1000 - Int(response.id)) / 50)")
            }
            await connection.close()
        }
    }

    @Test("the client pipelines 1,000 calls on one connection")
    func clientPipelining() async throws {
        try await withTestServer(TestMethods.basic) { _, port in
            let client = testClient(port: port)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        let response = try await client.unary(
                            TestMethods.echo, TestMethods.request("call \(index)"), as: Xcert_Health_V1_HealthCheckResponse.self
                        )
                        #expect(response.detail == "call \(index)")
                    }
                }
                try await group.waitForAll()
            }
            await client.close()
        }
    }

    @Test("a request whose id is already in flight gets INVALID_ARGUMENT with that id")
    func duplicateInFlightID() async throws {
        let gate = Gate()
        try await withTestServer([gate.method("/test.v1.Test/Hold")]) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(RawConnection.request(id: 7, method: "/test.v1.Test/Hold"))
            try await gate.waitForStarted(1)
            try await connection.send(RawConnection.request(id: 7, method: "/test.v1.Test/Hold"))
            let duplicate = try await connection.receive(1)
            #expect(duplicate.first?.id == 7)
            #expect(duplicate.first?.status.code == .invalidArgument)
            #expect(duplicate.first?.status.fieldViolations.first?.field == "id")
            gate.open()
            let first = try await connection.receive(1)
            #expect(first.first?.id == 7)
            #expect(first.first?.hasStatus == false || first.first?.status.code == .ok)
            #expect(gate.started == 1)
            await connection.close()
        }
    }

    @Test("an unknown method is UNIMPLEMENTED")
    func unknownMethod() async throws {
        try await withTestServer(TestMethods.basic) { _, port in
            let client = testClient(port: port)
            let response = try await client.call("/xcert.nothing.v1.Nothing/Here", payload: Data())
            #expect(response.status.code == .unimplemented)
            #expect(response.status.message.contains("/xcert.nothing.v1.Nothing/Here"))
            await client.close()
        }
    }

    @Test("a payload that does not parse as the method's request is INVALID_ARGUMENT")
    func undecodablePayload() async throws {
        try await withTestServer(TestMethods.basic) { _, port in
            let client = testClient(port: port)
            let response = try await client.call(TestMethods.echo, payload: Data([0xFF, 0xFF, 0xFF]))
            #expect(response.status.code == .invalidArgument)
            #expect(response.status.message.contains("xcert.health.v1.HealthCheckRequest"))
            await client.close()
        }
    }

    @Test("a frame that is not a Request gets INVALID_ARGUMENT with id 0, and the connection stays usable")
    func garbageFrame() async throws {
        try await withTestServer(TestMethods.basic) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(bytes: [0, 0, 0, 3, 0xFF, 0xFF, 0xFF])
            let answer = try await connection.receive(1)
            #expect(answer.first?.id == 0)
            #expect(answer.first?.status.code == .invalidArgument)
            try await connection.send(RawConnection.request(id: 1, method: TestMethods.echo, payload: TestMethods.request("still here")))
            let next = try await connection.receive(1)
            #expect(next.first?.id == 1)
            #expect(try Xcert_Health_V1_HealthCheckResponse(serializedBytes: next.first?.payload ?? Data()).detail == "still here")
            await connection.close()
        }
    }

    @Test("request id 0 is refused")
    func idZero() async throws {
        try await withTestServer(TestMethods.basic) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(RawConnection.request(id: 0, method: TestMethods.echo))
            let answer = try await connection.receive(1)
            #expect(answer.first?.id == 0)
            #expect(answer.first?.status.code == .invalidArgument)
            await connection.close()
        }
    }

    @Test("an oversized frame gets RESOURCE_EXHAUSTED naming the length and the limit, then the connection closes; others are still served")
    func oversizedFrame() async throws {
        try await withTestServer(TestMethods.basic, configure: { $0.maximumFrameLength = 1024 }) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(bytes: [0x80, 0, 0, 0])
            let answer = try await connection.receive(1)
            #expect(answer.first?.id == 0)
            #expect(answer.first?.status.code == .resourceExhausted)
            #expect(answer.first?.status.message.contains("2147483648") == true)
            #expect(answer.first?.status.message.contains("1024") == true)
            try await connection.waitForClose()

            let client = testClient(port: port)
            let response = try await client.unary(
                TestMethods.echo, TestMethods.request("fine"), as: Xcert_Health_V1_HealthCheckResponse.self)
            #expect(response.detail == "fine")
            await client.close()
        }
    }

    @Test("an HTTP request is refused and the connection closed")
    func httpRequest() async throws {
        try await withTestServer(TestMethods.basic) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(bytes: Array("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            let answer = try await connection.receive(1)
            #expect(answer.first?.status.code == .resourceExhausted)
            try await connection.waitForClose()
        }
    }

    @Test("past its deadline a request gets DEADLINE_EXCEEDED and its handler is cancelled")
    func deadlineExceeded() async throws {
        let gate = Gate()
        try await withTestServer([gate.method("/test.v1.Test/Hold")]) { _, port in
            let client = testClient(port: port)
            let start = ContinuousClock.now
            let response = try await client.call("/test.v1.Test/Hold", payload: Data(), timeout: .milliseconds(200))
            #expect(response.status.code == .deadlineExceeded)
            #expect(response.status.message.contains("200 ms"))
            #expect(ContinuousClock.now - start < .seconds(30))
            #expect(gate.cancelled == 1, "the answer must come after the handler was cancelled")
            await client.close()
        }
    }

    @Test("the server's maximum timeout caps what a request asks for")
    func maximumTimeout() async throws {
        let gate = Gate()
        try await withTestServer([gate.method("/test.v1.Test/Hold")], configure: { $0.maximumTimeout = .milliseconds(150) }) { _, port in
            let client = testClient(port: port)
            let response = try await client.call("/test.v1.Test/Hold", payload: Data(), timeout: .seconds(60))
            #expect(response.status.code == .deadlineExceeded)
            await client.close()
        }
    }

    @Test("a client that disconnects mid-request has its requests cancelled")
    func disconnectCancels() async throws {
        let gate = Gate()
        try await withTestServer([gate.method("/test.v1.Test/Hold")]) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(RawConnection.request(id: 1, method: "/test.v1.Test/Hold"))
            try await connection.send(RawConnection.request(id: 2, method: "/test.v1.Test/Hold"))
            try await gate.waitForStarted(2)
            // Half a frame, then gone.
            try await connection.send(bytes: [0, 0, 0, 50, 1, 2])
            await connection.close()
            try await withTimeout(.seconds(10)) {
                while gate.cancelled < 2 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(gate.cancelled == 2)
        }
    }

    @Test("at the per-connection in-flight cap the server stops reading, then catches up")
    func inFlightCapBackPressure() async throws {
        let gate = Gate()
        try await withTestServer([gate.method("/test.v1.Test/Hold")], configure: { $0.maximumInFlightPerConnection = 4 }) { _, port in
            let connection = try await RawConnection.connect(port: port)
            var bytes: [UInt8] = []
            for id in 1...40 { bytes += RawConnection.frame(RawConnection.request(id: UInt64(id), method: "/test.v1.Test/Hold")) }
            try await connection.send(bytes: bytes)
            try await gate.waitForStarted(4)
            try await Task.sleep(for: .milliseconds(200))
            #expect(gate.started == 4, "no more than the cap may run on one connection")
            gate.open()
            let responses = try await connection.receive(40)
            #expect(Set(responses.map(\.id)) == Set(1...40))
            #expect(gate.peak <= 4)
            await connection.close()
        }
    }

    @Test("beyond the server-wide cap new requests get RESOURCE_EXHAUSTED")
    func serverWideCap() async throws {
        let gate = Gate()
        try await withTestServer([gate.method("/test.v1.Test/Hold")], configure: { $0.maximumConcurrentRequests = 3 }) { _, port in
            let connection = try await RawConnection.connect(port: port)
            for id in 1...3 { try await connection.send(RawConnection.request(id: UInt64(id), method: "/test.v1.Test/Hold")) }
            try await gate.waitForStarted(3)
            try await connection.send(RawConnection.request(id: 4, method: "/test.v1.Test/Hold"))
            let refused = try await connection.receive(1)
            #expect(refused.first?.id == 4)
            #expect(refused.first?.status.code == .resourceExhausted)
            gate.open()
            let rest = try await connection.receive(3)
            #expect(Set(rest.map(\.id)) == [1, 2, 3])
            await connection.close()
        }
    }

    @Test("request-id is echoed, or made up when absent")
    func requestID() async throws {
        try await withTestServer(TestMethods.basic) { _, port in
            let client = testClient(port: port)
            let echoed = try await client.call(TestMethods.echo, payload: Data(), metadata: ["request-id": "trace-123"])
            #expect(echoed.metadata["request-id"] == "trace-123")
            let made = try await client.call(TestMethods.echo, payload: Data())
            #expect(made.metadata["request-id"]?.isEmpty == false)
            await client.close()
        }
    }

    @Test("a handler's RPCError reaches the client with its field violations")
    func fieldViolations() async throws {
        let method = RPCMethod.unary("/test.v1.Test/Refuse") {
            (_: Xcert_Health_V1_HealthCheckRequest, _) -> Xcert_Health_V1_HealthCheckResponse in
            throw RPCError.invalidArgument([.init(field: "fees[1].amount_fen", description: "must not be negative")])
        }
        try await withTestServer([method]) { _, port in
            let client = testClient(port: port)
            do {
                _ = try await client.unary("/test.v1.Test/Refuse", TestMethods.request(""), as: Xcert_Health_V1_HealthCheckResponse.self)
                Issue.record("expected an error")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.fieldViolations == [.init(field: "fees[1].amount_fen", description: "must not be negative")])
            }
            await client.close()
        }
    }

    @Test("an unexpected error is INTERNAL without its text")
    func internalErrorHidesText() async throws {
        struct Secret: Error {}
        let method = RPCMethod.unary("/test.v1.Test/Fail") {
            (_: Xcert_Health_V1_HealthCheckRequest, _) -> Xcert_Health_V1_HealthCheckResponse in
            throw Secret()
        }
        try await withTestServer([method]) { _, port in
            let client = testClient(port: port)
            let response = try await client.call("/test.v1.Test/Fail", payload: Data())
            #expect(response.status.code == .internal)
            #expect(!response.status.message.contains("Secret"))
            await client.close()
        }
    }
}
