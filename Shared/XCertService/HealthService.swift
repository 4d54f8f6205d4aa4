import XCertAPI
import XCertProto
import XCertWire

/// `/xcert.health.v1.Health/Check`: SERVING while the service and its database are
/// usable, NOT_SERVING otherwise. Answers from the monitor's last reading, so it stays
/// fast when the database hangs. Public, so its `detail` is a fixed phrase and never
/// error text (that goes to the log).
public struct HealthService: Xcert_Health_V1_Health.Handler {
    public let serviceName: String
    public let monitor: DatabaseMonitor

    public init(serviceName: String, monitor: DatabaseMonitor) {
        self.serviceName = serviceName
        self.monitor = monitor
    }

    public func check(
        _ request: Xcert_Health_V1_HealthCheckRequest, _ call: RequestContext
    ) async throws -> Xcert_Health_V1_HealthCheckResponse {
        var response = Xcert_Health_V1_HealthCheckResponse()
        response.service = self.serviceName
        response.version = XCertVersion.current
        let state = self.monitor.state
        response.status = state.isServing ? .serving : .notServing
        response.detail = state.detail
        return response
    }
}

/// The version string of this build.
public enum XCertVersion {
    public static let current = "0.1.0"
}
