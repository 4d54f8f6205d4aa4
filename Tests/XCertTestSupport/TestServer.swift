import Foundation
import Logging
import NIOCore
import XCertWire

/// Runs an ``RPCServer`` (with `admission` as its token check and `changes` around its
/// mutating methods, if any) on a free loopback port (or the port `configure` names) for
/// the length of `body`. A named port that the kernel still holds from a server just
/// closed is tried again for up to ten seconds.
public func withTestServer<Result: Sendable>(
    _ methods: [RPCMethod],
    admission: (any CallAdmission)? = nil,
    changes: (any ChangeRecording)? = nil,
    configure: (inout RPCServerConfiguration) -> Void = { _ in },
    _ body: @Sendable (RPCServer, Int) async throws -> Result
) async throws -> Result {
    var configuration = RPCServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    var table = MethodTable()
    table.register(methods)
    let giveUp = ContinuousClock.now + .seconds(10)
    while true {
        let server = RPCServer(
            configuration: configuration, methods: table, admission: admission, changes: changes, logger: testLogger("server"))
        let outcome: Result? = try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await server.run()
                return nil
            }
            defer { group.cancelAll() }
            let port: Int
            do {
                port = try await server.listeningAddress.port!
            } catch  where configuration.port != 0 && ContinuousClock.now < giveUp {
                return nil
            }
            return try await body(server, port)
        }
        if let outcome { return outcome }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// The error `body` ends with; nil if it succeeds.
public func rpcRefusal(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.unknown, "\(error)")
    }
}

/// A logger for tests: warnings and worse to standard error, or `XCERT_TEST_LOG_LEVEL`.
public func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: "test.\(label)", factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = ProcessInfo.processInfo.environment["XCERT_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}

/// A client of a test server on loopback. It waits for the server's own answer up to
/// `localDeadlineSlack` past a call's deadline (tests pin the server's behaviour, and
/// this machine may be busy), not the one second of the default. Over TLS with `tls`.
public func testClient(
    host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(20), localDeadlineSlack: Duration = .seconds(30),
    tls: ClientTLSConfiguration? = nil
) -> RPCClient {
    RPCClient(
        configuration: RPCClientConfiguration(
            host: host, port: port, defaultTimeout: timeout, localDeadlineSlack: localDeadlineSlack, tls: tls
        ))
}
