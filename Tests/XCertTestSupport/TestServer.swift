import Foundation
import Logging
import NIOCore
import XCertWire

/// Runs an ``RPCServer`` on a free loopback port for the length of `body`.
public func withTestServer<Result: Sendable>(
    _ methods: [RPCMethod],
    configure: (inout RPCServerConfiguration) -> Void = { _ in },
    _ body: @Sendable (RPCServer, Int) async throws -> Result
) async throws -> Result {
    var configuration = RPCServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    var table = MethodTable()
    table.register(methods)
    let server = RPCServer(configuration: configuration, methods: table, logger: testLogger("server"))
    return try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask {
            try await server.run()
            return nil
        }
        defer { group.cancelAll() }
        let port = try await server.listeningAddress.port!
        return try await body(server, port)
    }
}

/// A logger for tests: warnings and worse to standard error, or `XCERT_TEST_LOG_LEVEL`.
public func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: "test.\(label)", factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = ProcessInfo.processInfo.environment["XCERT_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}

/// A client of a test server on loopback.
public func testClient(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(20)) -> RPCClient {
    RPCClient(configuration: RPCClientConfiguration(host: host, port: port, defaultTimeout: timeout))
}
