import Foundation
import Testing
import XCertProto
import XCertStore
import XCertTestSupport

@Suite(
    "Health follows the database", .enabled(if: TestCluster.isConfigured, "needs PostgreSQL, as scripts/test provides"),
    .timeLimit(.minutes(3)))
struct HealthTests {
    @Test("NOT_SERVING while PostgreSQL is down, SERVING again when it returns, without a restart")
    func followsPostgres() async throws {
        // A cluster of its own: stopping the shared one would fail the other tests.
        try await PrivateCluster.with { cluster in
            let service = try await ServiceProcess.start("registry", database: cluster.database, migrating: true)
            try await service.waitForHealth(.serving)

            try await cluster.stop()
            try await service.waitForHealth(.notServing, within: .seconds(15))
            let down = await service.health()
            #expect(down?.detail.isEmpty == false)

            try await cluster.start()
            try await service.waitForHealth(.serving, within: .seconds(30))
            #expect(service.isRunning)
            #expect(try await service.terminate() == 0)
        }
    }
}
