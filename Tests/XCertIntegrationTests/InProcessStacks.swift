import Foundation
import XCertTestSupport

@testable import Filing
@testable import Registry

// The stacks of the handler tests, served in this test process: the registry's and the
// filing service's handlers as their executables build them (`RegistryParts`,
// `FilingParts`), against the test database, over loopback TCP.

/// Starts a fresh database, a filing fake and a registry that asks it (served in this test
/// process), runs `body`, and stops them. With `tls`, every port is TLS
/// (`withRegistrySetting(tls:_:)`).
func withRegistry<Result: Sendable>(
    tls: TestTLSDeployment? = nil, _ body: @Sendable (RegistryHarness) async throws -> Result
) async throws -> Result {
    try await withRegistrySetting(tls: tls) { setting in
        try await withInProcessService(
            RegistryParts.definition(), database: setting.database, environment: setting.environment, tls: setting.clientTLS
        ) { registry in
            let client = testClient(port: registry.port, tls: registry.tls)
            do {
                let result = try await body(setting.harness(registry: registry, client: client))
                await client.close()
                return result
            } catch {
                await client.close()
                throw error
            }
        }
    }
}

/// Starts a fresh database, a registry and a filing service that ask each other (both
/// served in this test process), and a settlement fake the filing service asks; runs
/// `body`, and stops them. Where the filing process is the subject (killed, restarted,
/// its log), ``withFilingStackProcesses(_:)`` runs them as processes.
func withFilingStack<Result: Sendable>(_ body: @Sendable (RegistryHarness) async throws -> Result) async throws -> Result {
    try await withTestDatabase { database, postgres in
        let settlement = SettlementFake()
        return try await withTestServer(settlement.methods) { _, settlementPort in
            let registryToken = try await makeToken(postgres, role: "service", party: "registry", name: "registry service")
            let filingToken = try await makeToken(postgres, role: "service", party: "filing", name: "filing service")
            let admin = try await makeToken(postgres, role: "province_admin", party: nil, name: "省厅管理员")
            // Each is told the other's address before it starts: the filing port is picked first.
            let filingPort = try freePort()
            let registryEnvironment = ["XCERT_FILING_ADDRESS": "127.0.0.1:\(filingPort)", "XCERT_SERVICE_TOKEN": registryToken]
            return try await withInProcessService(RegistryParts.definition(), database: database, environment: registryEnvironment) {
                registry in
                let filingEnvironment = [
                    "XCERT_PORT": "\(filingPort)",
                    "XCERT_REGISTRY_ADDRESS": "127.0.0.1:\(registry.port)",
                    "XCERT_SETTLEMENT_ADDRESS": "127.0.0.1:\(settlementPort)",
                    "XCERT_SERVICE_TOKEN": filingToken,
                    "XCERT_NATIONAL_ID_KEY": nationalIDKey,
                ]
                let definition = try FilingParts.definition(environment: filingEnvironment)
                return try await withInProcessService(definition, database: database, environment: filingEnvironment) { filing in
                    let client = testClient(port: registry.port)
                    let filingClient = testClient(port: filing.port)
                    var harness = RegistryHarness(
                        registry: registry, client: client, postgres: postgres, database: database,
                        filing: FilingApprovalsFake(serviceToken: registryToken), admin: admin
                    )
                    harness.filingAddress = filing
                    harness.filingClient = filingClient
                    harness.settlement = settlement
                    harness.filingEnvironment = filingEnvironment
                    do {
                        let result = try await body(harness)
                        await client.close()
                        await filingClient.close()
                        return result
                    } catch {
                        await client.close()
                        await filingClient.close()
                        throw error
                    }
                }
            }
        }
    }
}
