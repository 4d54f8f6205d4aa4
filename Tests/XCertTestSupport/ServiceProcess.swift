import Foundation
import NIOCore
import NIOPosix
import XCertAPI
import XCertProto
import XCertStore
import XCertWire

/// A real service executable started by a test, on free ports, against a test database.
public final class ServiceProcess: @unchecked Sendable {
    // @unchecked: `process` is a Foundation.Process, used from one test at a time and
    // only through its thread-safe methods (terminate, waitUntilExit, processIdentifier).
    public let name: String
    public let port: Int
    public let metricsPort: Int
    /// How its clients reach it: over TLS when set.
    public let tls: ClientTLSConfiguration?
    private let process: Process
    public let logFile: URL

    /// The folder of the built executables: `XCERT_BIN_DIR`, else `.build/debug`.
    public static var binDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["XCERT_BIN_DIR"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug")
    }

    /// Starts `name` (`registry`, `filing`, …) and waits until it listens. Ports are
    /// picked free just before the start (unless `port` names one a peer was told of); should another process take one meanwhile, the
    /// service fails to start and is started again on other ports (three tries).
    ///
    /// It logs in as its own role (``ServiceLogins``), to a database already migrated; with
    /// `migrating`, as `database`'s user (the owner), and migrates at start.
    public static func start(
        _ name: String,
        database: DatabaseConfiguration,
        migrating: Bool = false,
        port: Int? = nil,
        environment extra: [String: String] = [:],
        tls: ClientTLSConfiguration? = nil
    ) async throws -> ServiceProcess {
        let database = migrating ? database : try await ServiceLogins.shared.login(name, on: database)
        var extra = extra
        extra["XCERT_MIGRATE"] = extra["XCERT_MIGRATE"] ?? "\(migrating)"
        var attempt = 1
        while true {
            do {
                return try await self.startOnce(name, database: database, port: port, environment: extra, tls: tls)
            } catch let failure as ProcessFailure where attempt < 3 {
                attempt += 1
                FileHandle.standardError.write(Data("\(failure); trying other ports\n".utf8))
            }
        }
    }

    private static func startOnce(
        _ name: String,
        database: DatabaseConfiguration,
        port fixedPort: Int?,
        environment extra: [String: String],
        tls: ClientTLSConfiguration?
    ) async throws -> ServiceProcess {
        let port = try fixedPort ?? freePort()
        let metricsPort = try freePort()
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent(name)
        var environment = ProcessInfo.processInfo.environment
        environment["XCERT_PORT"] = "\(port)"
        environment["XCERT_METRICS_PORT"] = "\(metricsPort)"
        // Filing needs its national ID key; the tests' is public (``nationalIDKey``).
        environment["XCERT_NATIONAL_ID_KEY"] = nationalIDKey
        environment["XCERT_ISSUER_KEY"] = issuerKey
        environment["XCERT_ID_ENCRYPTION_KEY"] = idEncryptionKey
        // Many test stacks share one cluster: small pools keep them under its max_connections.
        environment["XCERT_DB_MAX_CONNECTIONS"] = "4"
        environment["PGHOST"] = database.host
        environment["PGPORT"] = "\(database.port)"
        environment["PGUSER"] = database.user
        environment["PGPASSWORD"] = database.password ?? ""
        environment["PGDATABASE"] = database.database
        environment["XCERT_LOG_LEVEL"] = "info"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-\(name)-\(port).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let service = ServiceProcess(name: name, port: port, metricsPort: metricsPort, tls: tls, process: process, logFile: logFile)
        try await service.waitUntilListening()
        return service
    }

    private init(name: String, port: Int, metricsPort: Int, tls: ClientTLSConfiguration?, process: Process, logFile: URL) {
        self.name = name
        self.port = port
        self.metricsPort = metricsPort
        self.tls = tls
        self.process = process
        self.logFile = logFile
    }

    public var pid: Int32 { self.process.processIdentifier }
    public var isRunning: Bool { self.process.isRunning }

    /// The health status the service reports now (nil when it does not answer).
    public func health() async -> Xcert_Health_V1_HealthCheckResponse? {
        let client = testClient(port: self.port, timeout: .seconds(2), tls: self.tls)
        defer { Task { await client.close() } }
        return try? await Xcert_Health_V1_Health.Client(client).check()
    }

    /// Polls health until it reports `status`; throws after `timeout`.
    public func waitForHealth(
        _ status: Xcert_Health_V1_HealthCheckResponse.ServingStatus, within timeout: Duration = .seconds(30)
    ) async throws {
        try await withTimeout(timeout) {
            while await self.health()?.status != status {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private func waitUntilListening() async throws {
        try await withTimeout(.seconds(30)) {
            while await self.health() == nil {
                guard self.process.isRunning else {
                    throw ProcessFailure("\(self.name) exited during start-up: \(self.log)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Sends SIGTERM and returns the exit status.
    public func terminate(within timeout: Duration = .seconds(30)) async throws -> Int32 {
        kill(self.process.processIdentifier, SIGTERM)
        return try await self.waitForExit(within: timeout)
    }

    public func waitForExit(within timeout: Duration) async throws -> Int32 {
        let process = self.process
        try await withTimeout(timeout) {
            while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        }
        return process.terminationStatus
    }

    /// Whatever the process logged.
    public var log: String {
        (try? String(contentsOf: self.logFile, encoding: .utf8)) ?? ""
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }
}

public struct ProcessFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A loopback port that was free a moment ago.
public func freePort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).wait()
    defer { try? channel.close().wait() }
    return channel.localAddress!.port!
}

/// Runs a command to completion and returns its exit status and output (standard output
/// and error together).
///
/// Spawned with `posix_spawn` and reaped by polling `waitpid`, without blocking a thread:
/// tests run on Swift's small cooperative pool, and a blocked pool would stall the
/// in-process database work the command may be waiting for. (Foundation's `Process` was
/// seen never to report the exit of `scripts/pg`, whose postmaster outlives it.) A command
/// still running after `timeout`, or when the test is cancelled, is killed: a hung child
/// never holds a test beyond its bound.
public func runCommand(
    _ executable: String, _ arguments: [String], environment extra: [String: String] = [:], timeout: Duration = .seconds(300)
) async throws -> (status: Int32, output: String) {
    var environment = ProcessInfo.processInfo.environment
    for (key, value) in extra { environment[key] = value }
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-command-\(UUID().uuidString).log").path
    defer { try? FileManager.default.removeItem(atPath: outputPath) }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard spawned == 0 else { throw ProcessFailure("cannot start \(executable): error \(spawned)") }

    var status: Int32 = 0
    let deadline = ContinuousClock.now + timeout
    while true {
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid { break }
        if reaped < 0 { throw ProcessFailure("waitpid failed for \(executable): errno \(errno)") }
        // A command that hangs, or a test that is cancelled, does not leave its child behind.
        let overdue = ContinuousClock.now >= deadline
        do {
            if !overdue { try await Task.sleep(for: .milliseconds(20)) }
        } catch {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            throw error
        }
        if overdue {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw ProcessFailure(
                "\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout); killed. Output: \(output)")
        }
    }
    // Exit status as a shell reports it: the code, or 128 + the signal.
    let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    return (exitStatus, output)
}

extension DatabaseConfiguration {
    /// libpq's variables for a child process.
    public var libpqEnvironment: [String: String] {
        [
            "PGHOST": self.host, "PGPORT": "\(self.port)", "PGUSER": self.user, "PGPASSWORD": self.password ?? "",
            "PGDATABASE": self.database,
        ]
    }
}
