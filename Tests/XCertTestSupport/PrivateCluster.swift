import Foundation
import XCertStore

/// A PostgreSQL cluster of one test's own (`scripts/pg`, in the temporary folder), for
/// tests that stop, restart or freeze the database under running services: doing that to
/// the shared cluster would fail every other test.
public struct PrivateCluster: Sendable {
    public let folder: String
    /// Database `xcert` of the cluster, as its superuser.
    public let database: DatabaseConfiguration

    /// Makes and starts a cluster, runs `body`, and removes the cluster whatever happens.
    public static func with<Result: Sendable>(_ body: @Sendable (PrivateCluster) async throws -> Result) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-cluster-\(UInt32.random(in: 0...UInt32.max))")
            .path
        let port = try freePort()
        let password = "cluster-\(UInt32.random(in: 0...UInt32.max))"
        let cluster = PrivateCluster(
            folder: folder,
            database: DatabaseConfiguration(
                host: "127.0.0.1", port: port, user: "xcert_owner", password: password, database: "xcert", maximumConnections: 4)
        )
        try await cluster.run("init", "\(port)", password)
        do {
            let result = try await body(cluster)
            try? await cluster.resume()
            _ = try? await cluster.run("destroy")
            return result
        } catch {
            try? await cluster.resume()
            _ = try? await cluster.run("destroy")
            throw error
        }
    }

    /// Fast shutdown (`pg_ctl -m fast`): sessions are ended, open transactions roll back.
    public func stop() async throws { try await self.run("stop") }

    public func start() async throws { try await self.run("start") }

    /// Freezes every process of the cluster with SIGSTOP, as a stalled host would: the
    /// connections stay open and nothing answers.
    public func pause() throws { try self.signal(SIGSTOP) }

    /// SIGCONT to every process of the cluster.
    public func resume() async throws { try self.signal(SIGCONT) }

    /// The postmaster and its children.
    private func processes() throws -> [pid_t] {
        let pidFile = try String(contentsOfFile: "\(self.folder)/data/postmaster.pid", encoding: .utf8)
        guard let postmaster = pidFile.split(separator: "\n").first.flatMap({ pid_t($0) }) else {
            throw ProcessFailure("no postmaster pid in \(self.folder)/data/postmaster.pid")
        }
        var children: [pid_t] = []
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let afterName = stat.range(of: ") ", options: .backwards)
            else { continue }
            // Fields after the command name: state, then the parent's pid.
            let fields = stat[afterName.upperBound...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == postmaster { children.append(pid) }
        }
        return [postmaster] + children
    }

    private func signal(_ signal: Int32) throws {
        for pid in try self.processes() { kill(pid, signal) }
    }

    private func run(_ arguments: String...) async throws {
        let outcome = try await runCommand("/bin/bash", ["scripts/pg", arguments[0], self.folder] + arguments.dropFirst())
        guard outcome.status == 0 else {
            throw ProcessFailure("scripts/pg \(arguments.joined(separator: " ")) exited \(outcome.status): \(outcome.output)")
        }
    }
}
