import Foundation
import NIOCore
import NIOPosix
import Testing
import XCertAPI
import XCertProto
import XCertStore
import XCertTestSupport
import XCertWire

@Suite(
    "The four service executables", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(3)))
struct ServiceProcessTests {
    static let names = ["registry", "filing", "assessment", "settlement"]

    @Test("four services started together on an empty database migrate once, serve health and reflection, and exit 0 on SIGTERM")
    func fourServices() async throws {
        try await withTestDatabase(migrated: false) { configuration, client in
            let services = try await withThrowingTaskGroup(of: ServiceProcess.self) { group in
                for name in Self.names {
                    group.addTask { try await ServiceProcess.start(name, database: configuration, migrating: true) }
                }
                var started: [ServiceProcess] = []
                for try await service in group { started.append(service) }
                return started
            }
            for service in services {
                try await service.waitForHealth(.serving)
            }
            #expect(
                try await client.scalar("SELECT count(*) FROM xcert_meta.schema_migrations", as: Int.self) == MigrationHistory.all.count)

            // xctl health and xctl call, as an operator would use them.
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let health = try await runCommand(xctl, ["health"] + services.flatMap { ["--address", "127.0.0.1:\($0.port)"] })
            #expect(health.status == 0, "\(health.output)")
            #expect(health.output.components(separatedBy: "SERVING").count - 1 == 4, "\(health.output)")
            for service in services {
                let listed = try await runCommand(
                    xctl, ["call", "127.0.0.1:\(service.port)", Xcert_Reflection_V1_Reflection.Method.listMethods.name, "{}"])
                #expect(listed.status == 0)
                #expect(listed.output.contains("\"service\":\"\(service.name)\""))
                #expect(listed.output.contains(Xcert_Health_V1_Health.Method.check.name))
                #expect(listed.output.contains("fileDescriptorSet"))
            }
            let unknown = try await runCommand(xctl, ["call", "127.0.0.1:\(services[0].port)", "/xcert.none.v1.None/Nothing", "{}"])
            #expect(unknown.status != 0)
            #expect(unknown.output.contains("UNIMPLEMENTED"))
            let badJSON = try await runCommand(
                xctl, ["call", "127.0.0.1:\(services[0].port)", Xcert_Health_V1_Health.Method.check.name, "{\"nope\": 1}"])
            #expect(badJSON.status != 0)
            #expect(badJSON.output.contains("xcert.health.v1.HealthCheckRequest"))

            let exits = try await withThrowingTaskGroup(of: Int32.self) { group in
                for service in services { group.addTask { try await service.terminate() } }
                var codes: [Int32] = []
                for try await code in group { codes.append(code) }
                return codes
            }
            #expect(exits == [0, 0, 0, 0])
        }
    }

    @Test("an HTTP request or a 2 GiB length prefix is refused without harming the service; metrics are served")
    func hostileBytes() async throws {
        try await withTestDatabase { configuration, _ in
            let service = try await ServiceProcess.start("filing", database: configuration)
            try await service.waitForHealth(.serving)
            for bytes in [Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8), [0x80, 0, 0, 0] as [UInt8]] {
                let connection = try await RawConnection.connect(port: service.port)
                try await connection.send(bytes: bytes)
                let answer = try await connection.receive(1)
                #expect(answer.first?.id == 0)
                #expect(answer.first?.status.code == .resourceExhausted)
                try await connection.waitForClose()
            }
            #expect(await service.health()?.status == .serving)

            let metrics = try await runCommand("/usr/bin/curl", ["-s", "http://127.0.0.1:\(service.metricsPort)/metrics"])
            #expect(metrics.output.contains("xcert_rpc_requests_total{method=\"\(Xcert_Health_V1_Health.Method.check.name)\",code=\"OK\"}"))
            #expect(metrics.output.contains("xcert_rpc_duration_seconds_bucket"))
            #expect(metrics.output.contains("xcert_rpc_connections"))
            let other = try await runCommand(
                "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(service.metricsPort)/"])
            #expect(other.output == "404")
            #expect(try await service.terminate() == 0)
        }
    }
}
