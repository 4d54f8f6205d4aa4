import Foundation
import Histogram

#if canImport(Glibc)
    import Glibc
#endif

/// Nanoseconds on the monotonic clock (CLOCK_MONOTONIC, through the vDSO: tens of ns).
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// Sleeps the calling thread until `deadline` (monotonic nanoseconds).
public func sleep(until deadline: UInt64) {
    while true {
        let now = monotonicNanoseconds()
        if now >= deadline { return }
        let left = deadline - now
        var request = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
        var remaining = timespec()
        _ = nanosleep(&request, &remaining)
    }
}

/// A latency histogram in nanoseconds, from 1 µs to 60 s, three significant digits.
public func makeLatencyHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
}

/// CPU time and memory of a process, from /proc.
public struct ProcessSample: Sendable {
    /// User plus system CPU time, in seconds.
    public var cpuSeconds: Double
    public var at: UInt64

    /// Reads /proc/<pid>/stat (`self` for this process); nil when the process is gone.
    public static func read(pid: String) -> ProcessSample? {
        let at = monotonicNanoseconds()
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3; utime and stime are 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessSample(cpuSeconds: (user + system) / ticks, at: at)
    }

    /// Cores in use on average from `self` to `later` (1.0 = one core all the time).
    public func cores(until later: ProcessSample) -> Double {
        let wall = Double(later.at &- self.at) / 1e9
        return wall > 0 ? (later.cpuSeconds - self.cpuSeconds) / wall : 0
    }
}

/// A field of /proc/<pid>/status in MiB (`VmHWM`: peak resident set; `VmRSS`: now).
public func procStatusMiB(pid: String, field: String) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        if parts.count >= 2, let kib = Double(parts[1]) { return kib / 1024 }
    }
    return nil
}

/// What one load generator measured in one cell (connections × in flight), printed as a
/// `CELL {json}` line that the scenario scripts collect.
public struct CellReport: Codable, Sendable {
    public var target: String
    public var connections: Int
    public var inFlight: Int
    public var seconds: Double
    public var completed: Int
    public var failed: Int
    public var rps: Double
    public var p50Us: Double
    public var p99Us: Double
    public var p999Us: Double
    public var maxUs: Double
    /// Cores the load generator used during the measured window.
    public var clientCores: Double
    /// Cores the server used during the measured window (nil without --server-pid).
    public var serverCores: Double?
    /// The server's peak resident set so far (VmHWM), MiB.
    public var serverPeakRSSMiB: Double?
    /// The server's resident set at the end of the cell (VmRSS), MiB.
    public var serverRSSMiB: Double?
    public var note: String

    enum CodingKeys: String, CodingKey {
        case target, connections, seconds, completed, failed, rps, note
        case inFlight = "in_flight"
        case p50Us = "p50_us", p99Us = "p99_us", p999Us = "p999_us", maxUs = "max_us"
        case clientCores = "client_cores", serverCores = "server_cores"
        case serverPeakRSSMiB = "server_peak_rss_mib", serverRSSMiB = "server_rss_mib"
    }

    public init(
        target: String, connections: Int, inFlight: Int, seconds: Double, completed: Int, failed: Int,
        latencies: Histogram<UInt64>, client: (ProcessSample, ProcessSample)?, server: (ProcessSample, ProcessSample)?,
        serverPID: String?, note: String
    ) {
        self.target = target
        self.connections = connections
        self.inFlight = inFlight
        self.seconds = seconds
        self.completed = completed
        self.failed = failed
        self.rps = Double(completed) / seconds
        func micro(_ value: UInt64) -> Double { (Double(value) / 100).rounded() / 10 }
        self.p50Us = latencies.totalCount > 0 ? micro(latencies.valueAtPercentile(50)) : 0
        self.p99Us = latencies.totalCount > 0 ? micro(latencies.valueAtPercentile(99)) : 0
        self.p999Us = latencies.totalCount > 0 ? micro(latencies.valueAtPercentile(99.9)) : 0
        self.maxUs = latencies.totalCount > 0 ? micro(latencies.max) : 0
        self.clientCores = client.map { $0.0.cores(until: $0.1) } ?? 0
        self.serverCores = server.map { $0.0.cores(until: $0.1) }
        self.serverPeakRSSMiB = serverPID.flatMap { procStatusMiB(pid: $0, field: "VmHWM") }
        self.serverRSSMiB = serverPID.flatMap { procStatusMiB(pid: $0, field: "VmRSS") }
        self.note = note
    }

    /// One human line and one `CELL {json}` line on standard output.
    public func print() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
        let server = self.serverCores.map { String(format: "%.2f", $0) } ?? "?"
        writeLine(
            String(
                format:
                    """
                    %@ %dx%d: %.0f req/s, p50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, %d failed; cores: client %.2f, server %@; server peak \
                    RSS %@ MiB
                    """,
                self.target, self.connections, self.inFlight, self.rps, self.p50Us, self.p99Us, self.p999Us, self.failed,
                self.clientCores, server, self.serverPeakRSSMiB.map { String(format: "%.1f", $0) } ?? "?"
            ))
        writeLine("CELL \(json)")
    }
}

/// Writes one line to standard output at once (no stdio buffering: scripts wait for it).
public func writeLine(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(1, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

/// `host:port` split.
public func parseAddress(_ address: String) -> (host: String, port: Int)? {
    guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
    return (String(address[..<colon]), port)
}

/// The command line of an echo server: `--host H` (default 127.0.0.1), `--port P` (default
/// 0: any) and the whole-number options in `numbers` with their defaults (e.g. `--threads`).
/// Anything else prints the usage and exits 2.
public struct EchoServerOptions {
    public var host = "127.0.0.1"
    public var port = 0
    public var numbers: [String: Int]

    public init(program: String, numbers: [String: Int] = [:], arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        self.numbers = numbers
        var remaining = arguments.makeIterator()
        while let argument = remaining.next() {
            switch argument {
            case "--host":
                self.host = remaining.next() ?? self.host
            case "--port":
                self.port = remaining.next().flatMap { Int($0) } ?? self.port
            case let option where numbers[option] != nil:
                self.numbers[option] = remaining.next().flatMap { Int($0) } ?? numbers[option]
            default:
                let extra = numbers.keys.sorted().map { " [\($0) N]" }.joined()
                print("usage: \(program) [--host H] [--port P]\(extra)")
                exit(2)
            }
        }
    }
}
