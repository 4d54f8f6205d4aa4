import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import XCertService
import XCertStore
import XCertWire

/// Where a test reaches a service it started, in its own process or as a child process.
public struct ServiceAddress: Sendable {
    public let port: Int
    /// How its clients reach it: over TLS when set.
    public let tls: ClientTLSConfiguration?

    public init(port: Int, tls: ClientTLSConfiguration? = nil) {
        self.port = port
        self.tls = tls
    }
}

extension ServiceProcess {
    /// Where its clients reach it.
    public var address: ServiceAddress { ServiceAddress(port: self.port, tls: self.tls) }
}

/// A service's handlers served inside the test process, against a test database, on a free
/// loopback port (or `XCERT_PORT` of its environment): the parts a service executable runs
/// (database client, database monitor, background parts such as feed followers, the RPC
/// server with the token check, idempotency and audit), without a process or a metrics
/// port. Its environment is read as the executable reads its own (`XCERT_…_ADDRESS` of its
/// peers, `XCERT_SERVICE_TOKEN`, TLS files); the database and the port come from the test.
///
/// For handler tests. Where the process is the subject (signals, kills, its log, its
/// metrics port, hostile bytes against its limits), start a ``ServiceProcess``.
public final class InProcessService: Sendable {
    /// Where its clients reach it.
    public let address: ServiceAddress
    public var port: Int { self.address.port }
    private let running: Task<Void, any Error>

    private init(address: ServiceAddress, running: Task<Void, any Error>) {
        self.address = address
        self.running = running
    }

    /// Starts `definition`'s parts and returns once the service listens and has found its
    /// database; `tls` is how its clients reach it when `environment` makes it serve TLS.
    /// The caller stops it with ``terminate()``.
    public static func start(
        _ definition: ServiceDefinition,
        database: DatabaseConfiguration,
        environment extra: [String: String] = [:],
        tls: ClientTLSConfiguration? = nil
    ) async throws -> InProcessService {
        let database = try await ServiceLogins.shared.login(definition.name, on: database)
        var environment = extra
        environment["XCERT_MIGRATE"] = "false"
        environment["XCERT_PORT"] = extra["XCERT_PORT"] ?? "0"
        environment["PGHOST"] = database.host
        environment["PGPORT"] = "\(database.port)"
        environment["PGUSER"] = database.user
        environment["PGPASSWORD"] = database.password ?? ""
        environment["PGDATABASE"] = database.database
        // Many test stacks share one cluster: small pools keep them under its max_connections.
        environment["XCERT_DB_MAX_CONNECTIONS"] = environment["XCERT_DB_MAX_CONNECTIONS"] ?? "4"
        let configuration = try ServiceConfiguration(name: definition.name, defaultPort: definition.defaultPort, environment: environment)
        let assembly = ServiceAssembly(
            definition, configuration: configuration, metrics: nil, eventLoopGroup: inProcessServiceThreads,
            logger: testLogger(definition.name)
        )
        // Every part ends on cancellation: the RPC server closes its connections, the
        // followers and the monitor stop between steps, the database client closes its pool.
        // A part that fails (a port taken, say) ends the others.
        let running = Task {
            try await withThrowingDiscardingTaskGroup { group in
                for part in assembly.parts {
                    group.addTask { try await part.run() }
                }
            }
        }
        do {
            let port = try await assembly.server.listeningAddress.port ?? 0
            try await waitUntilServing(assembly.context)
            return InProcessService(address: ServiceAddress(port: port, tls: tls), running: running)
        } catch {
            running.cancel()
            _ = await running.result
            throw error
        }
    }

    /// Stops it, as a process ends: its parts are cancelled, and this returns once all have
    /// ended.
    public func terminate() async {
        self.running.cancel()
        _ = await self.running.result
    }
}

/// Serves `definition` in the test process (``InProcessService``) for the length of `body`.
public func withInProcessService<Result: Sendable>(
    _ definition: ServiceDefinition,
    database: DatabaseConfiguration,
    environment: [String: String] = [:],
    tls: ClientTLSConfiguration? = nil,
    _ body: @Sendable (ServiceAddress) async throws -> Result
) async throws -> Result {
    let service = try await InProcessService.start(definition, database: database, environment: environment, tls: tls)
    do {
        let result = try await body(service.address)
        await service.terminate()
        return result
    } catch {
        await service.terminate()
        throw error
    }
}

/// The threads of the services served in the test process, apart from the shared ones of
/// NIO that the tests' own servers and clients use: a handler's long synchronous work (a
/// chunk of 2,000 roster rows checked and hashed, say) then delays no other test's timers,
/// as it would not in a process of its own.
private let inProcessServiceThreads = MultiThreadedEventLoopGroup(numberOfThreads: 2)

/// Waits until the service's database monitor has found its database (and so the
/// followers run and the health answer is SERVING), at most 30 seconds.
private func waitUntilServing(_ context: ServiceContext) async throws {
    let giveUp = ContinuousClock.now + .seconds(30)
    while !context.database.availability.isReachable {
        guard ContinuousClock.now < giveUp else {
            throw RPCError(.unavailable, "the in-process \(context.name) service found no database within 30 s")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
