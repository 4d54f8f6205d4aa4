import Foundation
import Testing
import XCertStore
import XCertTestSupport

/// `scripts/supervise`, which `scripts/up` runs every service under: a service that exits
/// without being told to is started again after a backoff, and the restart is logged; a
/// SIGTERM to the supervisor stops the service and restarts nothing.
@Suite("Supervision: scripts/supervise brings a crashed service back", .timeLimit(.minutes(3)))
struct SupervisionTests {
    @Test(
        """
        a service killed with SIGKILL is started again, logged, and SERVING within 30 s; SIGTERM to its supervisor stops both and restarts \
        nothing
        """,
        .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts")
    )
    func restartsAfterSIGKILL() async throws {
        try await withTestDatabase { configuration, _ in
            let port = try freePort()
            let temporary = FileManager.default.temporaryDirectory
            let folder = temporary.appendingPathComponent("xcert-supervise-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            // Named as the services' logs are, so that scripts/test looks for tokens in it too.
            let log = temporary.appendingPathComponent("xcert-registry-supervised-\(port).log")
            let supervisorPIDFile = folder.appendingPathComponent("registry.supervisor.pid").path
            let servicePIDFile = folder.appendingPathComponent("registry.pid").path

            var environment = configuration.libpqEnvironment
            environment["XCERT_PORT"] = "\(port)"
            environment["XCERT_METRICS_PORT"] = "\(try freePort())"
            environment["XCERT_DB_MAX_CONNECTIONS"] = "4"
            environment["XCERT_LOG_LEVEL"] = "info"
            let supervisor = try Spawned(
                "/bin/bash",
                [
                    "scripts/supervise", "--log", log.path, "--pid-file", supervisorPIDFile, "--service-pid-file", servicePIDFile,
                    // Should this test's process die, the supervisor stops too.
                    "--stop-with", "\(getpid())",
                    "registry", "--", ServiceProcess.binDirectory.appendingPathComponent("registry").path,
                ],
                environment: environment,
                output: folder.appendingPathComponent("supervisor.out").path
            )
            let logText = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
            do {
                // Started and SERVING (a debug build on a busy machine may take a while).
                try await waitUntil(within: .seconds(60), "registry under its supervisor to answer SERVING: \(logText())") {
                    guard supervisor.exitStatus() == nil else {
                        throw ProcessFailure("the supervisor exited: \(logText())")
                    }
                    return try await isServing(port: port)
                }
                let first = try #require(readPID(servicePIDFile))
                #expect(first != supervisor.pid)
                #expect(readPID(supervisorPIDFile) == supervisor.pid)

                // The service dies (not its supervisor) and comes back, on the same port.
                #expect(kill(first, SIGKILL) == 0)
                let killed = ContinuousClock.now
                try await waitUntil(within: .seconds(30), "the registry to be started again and SERVING: \(logText())") {
                    guard let current = readPID(servicePIDFile), current != first else { return false }
                    return try await isServing(port: port)
                }
                let second = try #require(readPID(servicePIDFile))
                FileHandle.standardError.write(Data("registry SERVING again \(ContinuousClock.now - killed) after its SIGKILL\n".utf8))
                #expect(second != first)
                #expect(isAlive(second))
                #expect(!isAlive(first))
                #expect(supervisor.exitStatus() == nil)

                // The restart is in the service's log: when, how it ended, which attempt.
                let restarted = logText()
                #expect(restarted.contains("registry: the service (pid \(first)) was killed by SIGKILL (status 137)"), "\(restarted)")
                #expect(restarted.contains("restarting in 1 s (attempt 1, restart 1 in all)"), "\(restarted)")
                #expect(restarted.contains("registry: restarted (pid \(second); attempt 1, restart 1 in all)"), "\(restarted)")
                let restartLine = restarted.split(separator: "\n").first { $0.contains("was killed by SIGKILL") }
                #expect(
                    restartLine.map { $0.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"#, options: .regularExpression) != nil } == true,
                    "\(restarted)")

                // SIGTERM to the supervisor: the service drains and exits 0, then the
                // supervisor exits 0 too, and nothing starts the service again.
                #expect(kill(supervisor.pid, SIGTERM) == 0)
                let status = try await supervisor.waitForExit(within: .seconds(40))
                #expect(status == 0, "\(logText())")
                #expect(!isAlive(second))
                #expect(!FileManager.default.fileExists(atPath: servicePIDFile))
                #expect(!FileManager.default.fileExists(atPath: supervisorPIDFile))
                // Longer than the backoff a restart would have waited.
                try await Task.sleep(for: .seconds(3))
                #expect(try await !isServing(port: port))
                let stopped = logText()
                #expect(stopped.contains("received SIGTERM; stopping the service (pid \(second)) without restarting it"), "\(stopped)")
                #expect(stopped.contains("registry: the service (pid \(second)) exited with status 0"), "\(stopped)")
                #expect(stopped.components(separatedBy: "[supervise] registry: restarted").count - 1 == 1, "\(stopped)")
            } catch {
                supervisor.killGroup()
                throw error
            }
        }
    }

    @Test(
        """
        a command that keeps failing is restarted after 1 s, 2 s, then at the ceiling, each exit status logged; SIGTERM during the backoff \
        ends it
        """
    )
    func backoff() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-supervise-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("failing.log")
        let supervisor = try Spawned(
            "/bin/bash",
            [
                "scripts/supervise", "--log", log.path, "--stop-with", "\(getpid())", "failing", "--", "/bin/sh", "-c",
                "echo failing; exit 3",
            ],
            environment: ["XCERT_SUPERVISE_BACKOFF_S": "1", "XCERT_SUPERVISE_BACKOFF_MAX_S": "2"],
            output: folder.appendingPathComponent("supervisor.out").path
        )
        let logText = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        do {
            // Exits at about 0, 1, 3 and 5 s: the fourth exit waits at the ceiling again.
            try await waitUntil(within: .seconds(20), "four exits: \(logText())") {
                logText().contains("(attempt 4, restart 4 in all)")
            }
            let text = logText()
            #expect(text.contains("failing: the service (pid "), "\(text)")
            #expect(text.contains("exited with status 3 after"), "\(text)")
            #expect(text.contains("up, unexpectedly; restarting in 1 s (attempt 1, restart 1 in all)"), "\(text)")
            #expect(text.contains("restarting in 2 s (attempt 2, restart 2 in all)"), "\(text)")
            #expect(text.contains("restarting in 2 s (attempt 3, restart 3 in all)"), "\(text)")
            #expect(text.components(separatedBy: "failing\n").count - 1 >= 4, "the command's own output goes to the log too: \(text)")

            #expect(kill(supervisor.pid, SIGTERM) == 0)
            #expect(try await supervisor.waitForExit(within: .seconds(10)) == 0)
            let stopped = logText()
            #expect(stopped.contains("not restarted: told to stop") || stopped.contains(" s up; stopped"), "\(stopped)")
            let restarts = stopped.components(separatedBy: "failing: restarted").count - 1
            try await Task.sleep(for: .seconds(3))
            #expect(logText().components(separatedBy: "failing: restarted").count - 1 == restarts, "\(logText())")
        } catch {
            supervisor.killGroup()
            throw error
        }
    }
}

/// Whether a service answers SERVING on `port`, asked as an operator does (`xctl health`).
private func isServing(port: Int) async throws -> Bool {
    let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
    let outcome = try await runCommand(xctl, ["health", "--address", "127.0.0.1:\(port)", "--timeout-ms", "1000"])
    return outcome.status == 0
}

private func readPID(_ path: String) -> pid_t? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
}

private func isAlive(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
}

/// Polls `condition` until it holds; throws after `timeout`.
private func waitUntil(within timeout: Duration, _ what: @autoclosure () -> String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw ProcessFailure("waited \(timeout) for \(what())") }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// A process of the test's own, in a process group of its own, spawned with the default
/// dispositions of the signals bash traps and an empty signal mask (so that the supervisor
/// can trap SIGTERM whatever the test runner ignores or blocks), and reaped by polling
/// `waitpid`, as ``runCommand(_:_:environment:)`` does.
private final class Spawned: @unchecked Sendable {
    // @unchecked: `status` is only touched under `lock`.
    let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    init(_ executable: String, _ arguments: [String], environment extra: [String: String], output: String) throws {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGPIPE] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw ProcessFailure("cannot start \(executable): error \(spawned)") }
        self.pid = pid
    }

    /// The exit status as a shell gives it (the code, or 128 + the signal) once the process
    /// has exited, reaping it; nil while it runs.
    func exitStatus() -> Int32? {
        self.lock.withLock {
            if let status = self.status { return status }
            var raw: Int32 = 0
            guard waitpid(self.pid, &raw, WNOHANG) == self.pid else { return nil }
            let status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            self.status = status
            return status
        }
    }

    func waitForExit(within timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = self.exitStatus() { return status }
            guard ContinuousClock.now < deadline else { throw ProcessFailure("pid \(self.pid) still runs after \(timeout)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGKILL to its whole process group (the supervisor and the service it started).
    func killGroup() {
        kill(-self.pid, SIGKILL)
        _ = self.exitStatus()
    }

    deinit {
        if self.exitStatus() == nil {
            kill(-self.pid, SIGKILL)
            _ = waitpid(self.pid, nil, 0)
        }
    }
}
