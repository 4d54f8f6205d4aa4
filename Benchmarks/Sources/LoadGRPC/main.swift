import ArgumentParser
import BenchSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import Histogram
import NIOCore
import NIOPosix
import Synchronization
import XCertProto

/// The load generator for the gRPC peer: C grpc-swift-2 clients (one HTTP/2 connection
/// each, plaintext), each with W tasks calling `/xcert.bench.v1.Echo/Echo` back to back, so
/// W calls are in flight per connection. Reports the same figures as load-frames.
/// (Arguments only: the async entry point is this file's top-level code, which first puts
/// Swift concurrency on NIO's event loops.)
struct LoadGRPC: ParsableArguments {

    @Option(help: "The server, host:port.") var address: String
    @Option(help: "The label of this target in the report.") var target: String = "grpc-swift-2"
    @Option(help: "Bytes of the message's string field.") var payloadBytes: Int = 64
    @Option(help: "Connections (one GRPCClient each).") var connections: Int = 1
    @Option(help: "Calls kept in flight on each connection.") var inFlight: Int = 16
    @Option(help: "Seconds to measure.") var seconds: Double = 5
    @Option(help: "Seconds of warm-up before measuring.") var warmup: Double = 1
    @Option(help: "The server's pid, to report its CPU and peak RSS.") var serverPID: String?

    func validate() throws {
        guard self.connections > 0, self.inFlight > 0 else { throw ValidationError("--connections and --in-flight must be positive") }
        guard parseAddress(self.address) != nil else { throw ValidationError("--address must be host:port") }
    }

    static let echo = MethodDescriptor(fullyQualifiedService: "xcert.bench.v1.Echo", method: "Echo")

    /// One connection's counts, shared by its calling tasks.
    final class Tally: Sendable {
        struct State {
            var histogram = makeLatencyHistogram()
            var completed = 0
            var failed = 0
        }
        let state = Mutex(State())
    }

    func run() async throws {
        let (host, port) = parseAddress(self.address)!
        var message = Xcert_Health_V1_HealthCheckRequest()
        message.service = String(repeating: "x", count: self.payloadBytes)
        let clients = try (0..<self.connections).map { _ in
            GRPCClient(
                transport: try HTTP2ClientTransport.Posix(
                    target: .ipv4(address: host, port: port),
                    transportSecurity: .plaintext
                ))
        }
        let tallies = clients.map { _ in Tally() }
        let start = monotonicNanoseconds() + 50_000_000
        let windowStart = start + UInt64(self.warmup * 1e9)
        let windowEnd = windowStart + UInt64(self.seconds * 1e9)
        let inFlight = self.inFlight
        let serverPID = self.serverPID
        let request = ClientRequest(message: message)
        let expectedCount = message.service.utf8.count

        let samples = try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { try await client.runConnections() }
            }
            let samples = try await withThrowingTaskGroup(of: Void.self) { callers in
                for (client, tally) in zip(clients, tallies) {
                    for _ in 0..<inFlight {
                        callers.addTask {
                            while true {
                                let sent = monotonicNanoseconds()
                                if sent >= windowEnd { return }
                                let ok: Bool
                                do {
                                    let echoed = try await client.unary(
                                        request: request,
                                        descriptor: Self.echo,
                                        serializer: ProtobufSerializer<Xcert_Health_V1_HealthCheckRequest>(),
                                        deserializer: ProtobufDeserializer<Xcert_Health_V1_HealthCheckRequest>(),
                                        options: .defaults
                                    ) { try $0.message }
                                    ok = echoed.service.utf8.count == expectedCount
                                } catch {
                                    ok = false
                                }
                                let answered = monotonicNanoseconds()
                                guard answered >= windowStart, answered < windowEnd else { continue }
                                tally.state.withLock { state in
                                    if ok {
                                        _ = state.histogram.record(answered &- sent)
                                        state.completed += 1
                                    } else {
                                        state.failed += 1
                                    }
                                }
                            }
                        }
                    }
                }
                try await Task.sleep(nanoseconds: windowStart &- monotonicNanoseconds())
                let client0 = ProcessSample.read(pid: "self")
                let server0 = serverPID.flatMap { ProcessSample.read(pid: $0) }
                let left = windowEnd > monotonicNanoseconds() ? windowEnd - monotonicNanoseconds() : 0
                try await Task.sleep(nanoseconds: left)
                let client1 = ProcessSample.read(pid: "self")
                let server1 = serverPID.flatMap { ProcessSample.read(pid: $0) }
                try await callers.waitForAll()
                return (client0, client1, server0, server1)
            }
            for client in clients { client.beginGracefulShutdown() }
            try await group.waitForAll()
            return samples
        }

        var latencies = makeLatencyHistogram()
        var completed = 0
        var failed = 0
        for tally in tallies {
            tally.state.withLock { state in
                latencies.add(state.histogram)
                completed += state.completed
                failed += state.failed
            }
        }
        let report = CellReport(
            target: self.target, connections: self.connections, inFlight: self.inFlight, seconds: self.seconds,
            completed: completed, failed: failed, latencies: latencies,
            client: samples.0.flatMap { c0 in samples.1.map { (c0, $0) } },
            server: samples.2.flatMap { s0 in samples.3.map { (s0, $0) } },
            serverPID: self.serverPID,
            note: "load-grpc: grpc-swift-2 GRPCClient per connection, one task per call in flight"
        )
        report.print()
        if completed == 0 { throw ExitCode(1) }
    }
}

// Swift concurrency on NIO's event loops, as in the servers.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
do {
    let command = LoadGRPC.parseOrExit()
    try await command.run()
} catch {
    LoadGRPC.exit(withError: error)
}
