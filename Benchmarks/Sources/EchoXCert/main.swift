import BenchSupport
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals
import XCertProto
import XCertWire

// XCert's side of scenario B1: XCertWire's RPCServer, set up the way ServiceMain sets up
// every service (NIO's event loops as Swift concurrency's executor, a stderr log handler at
// info, swift-metrics bootstrapped with Prometheus, one ServiceGroup that drains on
// SIGTERM/SIGINT, the default RPCServerConfiguration: deadlines, in-flight caps), serving
// one unary method that answers its request message:
//
//   /xcert.bench.v1.Echo/Echo   xcert.health.v1.HealthCheckRequest -> the same message
//
// No database, no token check: B1 measures the wire runtime, not a service.
//
//   echo-xcert [--host 127.0.0.1] [--port 0]
// Prints `LISTENING <port>` once bound.

_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

let options = EchoServerOptions(program: "echo-xcert")

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
let registry = PrometheusCollectorRegistry()
MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
let logger = Logger(label: "xcert.echo")

var table = MethodTable()
table.register([
    .unary("/xcert.bench.v1.Echo/Echo") { (request: Xcert_Health_V1_HealthCheckRequest, _) in request }
])
let server = RPCServer(configuration: RPCServerConfiguration(host: options.host, port: options.port), methods: table, logger: logger)
let group = ServiceGroup(
    configuration: ServiceGroupConfiguration(
        services: [.init(service: server)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    ))
// The main thread waits on a semaphore rather than running an async top-level main: the
// services' `await` at top level parks it in dispatch_main's sigsuspend loop, which
// valgrind 3.19 (Debian 12) crashes on, and B1's profiles are taken with callgrind. The
// work runs on NIO's event loops either way (a detached task: not on the main actor).
let finished = DispatchSemaphore(value: 0)
let status = Mutex<Int32>(0)
Task.detached {
    do {
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            let address = try await server.listeningAddress
            writeLine("LISTENING \(address.port ?? 0)")
        }
    } catch {
        logger.critical("stopped on an error", metadata: ["error": "\(error)"])
        status.withLock { $0 = 1 }
    }
    finished.signal()
}
finished.wait()
exit(status.withLock { $0 })
