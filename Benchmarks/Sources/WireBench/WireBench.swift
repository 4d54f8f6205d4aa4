import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOPosix
import Synchronization
import XCertAPI
import XCertProto
import XCertWire

/// Load generator for the wire protocol: unary Health/Check calls against a running
/// service, over C connections with W calls kept in flight on each (pipelined), for a
/// fixed time. Prints throughput and latency percentiles, and one `RESULT` line.
@main
struct WireBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire-bench",
        abstract: "Pipelined Health/Check calls against a running XCert service."
    )

    @Option(help: "The service, host:port.") var address: String = "127.0.0.1:7101"
    @Option(help: "Connections (one RPCClient each).") var connections: Int = 1
    @Option(help: "Calls kept in flight per connection.") var inFlight: Int = 16
    @Option(help: "Seconds to measure, after a one-second warm-up.") var seconds: Double = 5

    func run() async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        guard let configuration = RPCClientConfiguration(address: self.address) else {
            throw ValidationError("--address must be host:port")
        }
        let clients = (0..<self.connections).map { _ in RPCClient(configuration: configuration) }
        let payload = try Xcert_Health_V1_HealthCheckRequest().serializedData()
        let stats = Stats()
        let warmUpEnds = ContinuousClock.now + .seconds(1)
        let ends = warmUpEnds + .milliseconds(Int(self.seconds * 1000))

        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                for _ in 0..<self.inFlight {
                    group.addTask {
                        while true {
                            let start = ContinuousClock.now
                            if start >= ends { return }
                            let response = try await client.call(Xcert_Health_V1_Health.Method.check.name, payload: payload)
                            let end = ContinuousClock.now
                            guard end >= warmUpEnds, end < ends else { continue }
                            if response.hasStatus && response.status.code != .ok {
                                stats.failed.add(1, ordering: .relaxed)
                                continue
                            }
                            let microseconds =
                                (end - start).components.attoseconds / 1_000_000_000_000 + (end - start).components.seconds * 1_000_000
                            stats.latencies.withLock { _ = $0.record(UInt64(max(1, microseconds))) }
                            stats.completed.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        for client in clients { await client.close() }

        let count = stats.completed.load(ordering: .relaxed)
        let throughput = Double(count) / self.seconds
        let (p50, p99, p999) = stats.latencies.withLock {
            ($0.valueAtPercentile(50), $0.valueAtPercentile(99), $0.valueAtPercentile(99.9))
        }
        print(
            """
            scenario      unary Health/Check, \(self.connections) connection(s) x \(self.inFlight) in flight, \(self.seconds) s
            completed     \(count) calls (\(stats.failed.load(ordering: .relaxed)) failed)
            throughput    \(Int(throughput)) calls/s
            latency       p50 \(p50) µs   p99 \(p99) µs   p99.9 \(p999) µs
            RESULT wire-health connections=\(self.connections) in_flight=\(self.inFlight) calls_per_s=\(Int(throughput)) p50_us=\(p50) \
            p99_us=\(p99)
            """)
    }
}

/// What the load tasks share.
final class Stats: Sendable {
    let latencies = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))
    let completed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
}
