import XCertProto
import XCertWire

/// `/xcert.health.v1.Health/Check`: SERVING while the service and its database are
/// usable, NOT_SERVING otherwise. Answers from the monitor's last reading, so it stays
/// fast when the database hangs. No authorization needed.
public struct HealthService: RPCService {
    public let serviceName: String
    public let monitor: DatabaseMonitor

    public init(serviceName: String, monitor: DatabaseMonitor) {
        self.serviceName = serviceName
        self.monitor = monitor
    }

    public var methods: [RPCMethod] {
        [
            .unary("/xcert.health.v1.Health/Check") { (_: Xcert_Health_V1_HealthCheckRequest, _) in
                var response = Xcert_Health_V1_HealthCheckResponse()
                response.service = self.serviceName
                response.version = XCertVersion.current
                let state = self.monitor.state
                response.status = state.isServing ? .serving : .notServing
                response.detail = state.detail
                return response
            }
        ]
    }
}

/// The version string of this build.
public enum XCertVersion {
    public static let current = "0.1.0"
}
