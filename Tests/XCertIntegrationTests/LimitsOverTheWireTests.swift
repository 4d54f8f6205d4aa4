import Foundation
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

@Suite(
    "Limits per principal over the wire", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(2)))
struct LimitsOverTheWireTests {
    @Test(
        """
        a school past 5 reads a second gets RESOURCE_EXHAUSTED with retry-after-ms, and is served after waiting; the province is never \
        starved
        """
    )
    func schoolLimitedProvinceNot() async throws {
        try await withTestDatabase { database, postgres in
            let registry = try await ServiceProcess.start(
                "registry", database: database,
                environment: [
                    "XCERT_LIMIT_READS_PER_SECOND": "5", "XCERT_LIMIT_READ_BURST": "5",
                ])
            try await registry.waitForHealth(.serving)
            let admin = try await makeToken(postgres, role: "province_admin", party: nil, name: "省厅管理员")
            let school = try await makeToken(postgres, role: "school", party: "4136010001", name: "学校")
            let client = testClient(port: registry.port)
            func ask(_ token: String) async -> RPCError? {
                do {
                    _ = try await Xcert_Registry_V1_PrincipalService.Client(client.authorized(token: token)).whoAmI()
                    return nil
                } catch {
                    return error as? RPCError ?? RPCError(.unknown, "\(error)")
                }
            }
            var refusals: [RPCError] = []
            for _ in 0..<20 {
                if let refusal = await ask(school) { refusals.append(refusal) }
            }
            #expect(refusals.count >= 10, "20 reads at once past a burst of 5 at 5 a second: \(refusals.count) refused")
            #expect(refusals.allSatisfy { $0.code == .resourceExhausted })
            let wait = try #require(refusals.last.flatMap { Int($0.metadata["retry-after-ms"] ?? "") })
            #expect((1...1000).contains(wait), "retry after \(wait) ms")
            #expect(refusals.last?.message.contains("5 read calls a second") == true, "\(refusals.last?.message ?? "")")
            // Meanwhile the province's token is served every time.
            for _ in 0..<50 { #expect(await ask(admin) == nil) }
            try await Task.sleep(for: .milliseconds(wait + 50))
            #expect(await ask(school) == nil, "served again after waiting as told")
            await client.close()
            _ = try await registry.terminate()
        }
    }
}
