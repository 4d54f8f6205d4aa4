import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import PostgresNIO
import Prometheus
import ServiceLifecycle
import UnixSignals
import XCertAPI
import XCertStore
import XCertWire

/// What a service's handlers are built with.
public struct ServiceContext: Sendable {
    /// `registry`, `filing`, `assessment` or `settlement`: also its schema's name.
    public let name: String
    /// The one way to reach the database (transactions as `xcert_<name>`).
    public let database: Database
    /// The one token check (the server runs it before any handler).
    public let authenticator: Authenticator
    /// This service's idempotency keys and audit log: ``IdempotencyStore/perform(_:_:)`` is
    /// the one way a mutating handler opens the transaction of its change.
    public let idempotency: IdempotencyStore
    /// The one way to call the other services.
    public let peers: Peers
    public let logger: Logger
    /// Wakes this service's feed followers early (after a rebuild, say).
    public let feedWakeUps = FeedWakeUps()
}

/// One service as a whole: its name (also its schema's), its default port, its handlers
/// and its background parts, declared once beside its handlers (`Services/*/…Parts.swift`);
/// its executable runs it with ``ServiceMain/run(_:)``.
public struct ServiceDefinition: Sendable {
    /// `registry`, `filing`, `assessment` or `settlement`.
    public let name: String
    public let defaultPort: Int
    /// Long-running parts beside the server (e.g. ``FeedFollower``s).
    public let background: @Sendable (ServiceContext) -> [any Service]
    /// The service's handlers.
    public let services: @Sendable (ServiceContext) -> [any RPCService]

    public init(
        name: String,
        defaultPort: Int,
        background: @escaping @Sendable (ServiceContext) -> [any Service] = { _ in [] },
        services: @escaping @Sendable (ServiceContext) -> [any RPCService]
    ) {
        self.name = name
        self.defaultPort = defaultPort
        self.background = background
        self.services = services
    }
}

/// The body of every service executable: configuration, logging, metrics, the database,
/// health and reflection, the service's own methods, and a lifecycle that drains on
/// SIGTERM or SIGINT and exits 0.
public enum ServiceMain {
    /// Runs the service that `definition` makes (from the process's environment) until it
    /// is told to stop; exits the process on a start-up error.
    public static func run(_ make: @autoclosure () throws -> ServiceDefinition) async -> Never {
        let definition: ServiceDefinition
        let configuration: ServiceConfiguration
        do {
            definition = try make()
            configuration = try ServiceConfiguration(name: definition.name, defaultPort: definition.defaultPort)
        } catch {
            FileHandle.standardError.write(Data("\(CommandLine.arguments.first ?? "service"): configuration error: \(error)\n".utf8))
            exit(2)
        }
        let name = definition.name
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "xcert.\(name)")

        do {
            try await self.serve(definition, configuration: configuration, metrics: registry, logger: logger)
            logger.info("exited cleanly")
            exit(0)
        } catch {
            logger.critical("stopped on an error", metadata: ["error": "\(String(reflecting: error))"])
            exit(1)
        }
    }

    /// Builds the parts of `definition` and runs them in one `ServiceGroup` until SIGTERM or
    /// SIGINT (a graceful shutdown).
    public static func serve(
        _ definition: ServiceDefinition,
        configuration: ServiceConfiguration,
        metrics: PrometheusCollectorRegistry,
        logger: Logger
    ) async throws {
        let assembly = ServiceAssembly(definition, configuration: configuration, metrics: metrics, logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: assembly.parts.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // The server bounds its own drain by the grace period; these bounds make sure the
        // process ends even if a part does not (e.g. a failed start cancelling a database
        // client that is still connecting), by escalating to cancellation, then to a crash.
        groupConfiguration.maximumGracefulShutdownDuration = configuration.server.gracePeriod + .seconds(5)
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        let database = configuration.database
        logger.info(
            "starting",
            metadata: [
                "port": "\(configuration.server.port)",
                "metrics-port": "\(configuration.metricsPort)",
                "database": "\(database.user)@\(database.host):\(database.port)/\(database.database)",
            ])
        try await group.run()
    }
}

/// A service's parts, built from its definition and configuration and not yet running:
/// what ``ServiceMain/serve(_:configuration:metrics:logger:)`` runs in its service group,
/// and what a test runs in its own process.
public struct ServiceAssembly: Sendable {
    /// What the handlers were built with.
    public let context: ServiceContext
    /// The RPC server, with the service's methods, health and reflection.
    public let server: RPCServer
    /// Every part to run, in start order: the database client, the database monitor, the
    /// background parts, the metrics server (when there is a registry) and the RPC server.
    /// Shutdown runs in reverse: the RPC server drains first, the database client goes last.
    public let parts: [any Service]

    /// Builds the parts; `metrics` nil serves no metrics port. The RPC server and the
    /// database client run on `eventLoopGroup` (a test serving services in its own process
    /// gives them threads apart from its other servers').
    public init(
        _ definition: ServiceDefinition,
        configuration: ServiceConfiguration,
        metrics: PrometheusCollectorRegistry?,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        var login = configuration.database
        // A service logs in as its own role; a login that is another (the owner, migrating)
        // acts as it from each session's start. No statement outlives the longest deadline.
        login.sessionRole = "xcert_\(configuration.name)"
        login.statementTimeout = configuration.server.maximumTimeout
        let client = PostgresClient(configuration: login.clientConfiguration, eventLoopGroup: eventLoopGroup, backgroundLogger: logger)
        let database = Database(client: client, configuration: login)
        let idempotency = IdempotencyStore(schema: configuration.name, database: database)
        let monitor = DatabaseMonitor(
            database: database,
            migratingLogin: configuration.migrate ? configuration.database : nil,
            idempotencyStore: idempotency,
            logger: logger
        )
        let context = ServiceContext(
            name: configuration.name,
            database: database,
            authenticator: Authenticator(database: database, limits: CallLimits(configuration.callLimits)),
            idempotency: idempotency,
            peers: Peers(addresses: configuration.peers, token: configuration.serviceToken),
            logger: logger
        )
        let own = definition.services(context).flatMap(\.methods) + HealthService(serviceName: configuration.name, monitor: monitor).methods
        var table = MethodTable()
        table.register(own)
        table.register(ReflectionService(serviceName: configuration.name, others: own).methods)
        let server = RPCServer(
            configuration: configuration.server, methods: table, admission: context.authenticator, changes: idempotency,
            eventLoopGroup: eventLoopGroup, logger: logger
        )
        let metricsServer = metrics.map { registry in
            MetricsServer(
                host: configuration.server.host, port: configuration.metricsPort, registry: registry, logger: logger,
                tls: configuration.server.tls
            )
        }
        self.context = context
        self.server = server
        var parts: [any Service] = [client, monitor]
        parts += definition.background(context)
        if let metricsServer { parts.append(metricsServer) }
        parts.append(server)
        self.parts = parts
    }
}
