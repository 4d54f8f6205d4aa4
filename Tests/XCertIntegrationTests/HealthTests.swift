import Foundation
import Testing
import XCertProto
import XCertStore
import XCertTestSupport

@Suite("Health follows the database", .enabled(if: TestCluster.isConfigured, "needs PostgreSQL, as scripts/test provides"), .timeLimit(.minutes(3)))
struct HealthTests {
    @Test("NOT_SERVING while PostgreSQL is down, SERVING again when it returns, without a restart")
    func followsPostgres() async throws {
        // A cluster of its own: stopping the shared one would fail the other tests.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-health-\(UInt32.random(in: 0...UInt32.max))").path
        let port = try freePort()
        let password = "health-\(UInt32.random(in: 0...UInt32.max))"
        let init_ = try await runCommand("/bin/bash", ["scripts/pg", "init", folder, "\(port)", password])
        try #require(init_.status == 0, "\(init_.output)")
        do {
            try await self.check(folder: folder, port: port, password: password)
        } catch {
            _ = try? await runCommand("/bin/bash", ["scripts/pg", "destroy", folder])
            throw error
        }
        _ = try await runCommand("/bin/bash", ["scripts/pg", "destroy", folder])
    }

    private func check(folder: String, port: Int, password: String) async throws {
        let database = DatabaseConfiguration(host: "127.0.0.1", port: port, user: "xcert_owner", password: password, database: "xcert")
        let service = try await ServiceProcess.start("registry", database: database)
        try await service.waitForHealth(.serving)

        let stop = try await runCommand("/bin/bash", ["scripts/pg", "stop", folder])
        try #require(stop.status == 0, "\(stop.output)")
        try await service.waitForHealth(.notServing, within: .seconds(15))
        let down = await service.health()
        #expect(down?.detail.isEmpty == false)

        let start = try await runCommand("/bin/bash", ["scripts/pg", "start", folder])
        try #require(start.status == 0, "\(start.output)")
        try await service.waitForHealth(.serving, within: .seconds(30))
        #expect(service.isRunning)
        #expect(try await service.terminate() == 0)
    }
}
