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
    try await withFilingStackSetting { setting in
        try await withInProcessService(
            RegistryParts.definition(), database: setting.database, environment: setting.registryEnvironment
        ) { registry in
            let filingEnvironment = setting.filingEnvironment(registryPort: registry.port)
            let definition = try FilingParts.definition(environment: filingEnvironment)
            return try await withInProcessService(definition, database: setting.database, environment: filingEnvironment) { filing in
                let client = testClient(port: registry.port)
                let filingClient = testClient(port: filing.port)
                do {
                    let result = try await body(
                        setting.harness(registry: registry, client: client, filing: filing, filingClient: filingClient))
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
