import CoreMetrics

/// The server's swift-metrics instruments, made once so that recording a request costs
/// no lookup: a counter per method and code, a latency timer per method, and gauges of
/// requests in flight and open connections.
struct WireMetrics: Sendable {
    private struct MethodInstruments: Sendable {
        let counters: [Counter]  // indexed by code number
        let latency: Timer
    }

    private let byMethod: [String: MethodInstruments]
    private let unknownMethods: Counter
    private let connections: Meter
    private let inFlight: Meter

    init(methods: [String]) {
        var byMethod: [String: MethodInstruments] = [:]
        for method in methods {
            byMethod[method] = MethodInstruments(
                counters: RPCError.Code.all.map {
                    Counter(label: "xcert_rpc_requests_total", dimensions: [("method", method), ("code", $0.description)])
                },
                latency: Timer(label: "xcert_rpc_duration_seconds", dimensions: [("method", method)], preferredDisplayUnit: .seconds)
            )
        }
        self.byMethod = byMethod
        self.unknownMethods = Counter(
            label: "xcert_rpc_requests_total",
            dimensions: [("method", "unknown"), ("code", RPCError.Code.unimplemented.description)]
        )
        self.connections = Meter(label: "xcert_rpc_connections")
        self.inFlight = Meter(label: "xcert_rpc_in_flight")
    }

    func started() { self.inFlight.increment() }

    func record(method: String, code: RPCError.Code, duration: Duration) {
        self.inFlight.decrement()
        guard let instruments = self.byMethod[method] else { return }
        instruments.counters[code.rawValue].increment()
        instruments.latency.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    func unknownMethod() { self.unknownMethods.increment() }
    func connectionOpened() { self.connections.increment() }
    func connectionClosed() { self.connections.decrement() }
}
