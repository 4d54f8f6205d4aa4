import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import XCertService
import XCertStore

/// `xctl admin …`: principals and tokens.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Principals and tokens.",
        subcommands: [BootstrapToken.self, AnalystLogin.self, ServiceLogin.self, PrincipalCommand.self, TokenCommand.self]
    )

    /// Creates the first province-admin token, or a service's token, straight in the
    /// database (before any token exists there is nobody to ask the registry).
    struct BootstrapToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bootstrap-token",
            abstract:
                """
                Create a province-admin token (or, with --service, a service's token) and write it to a file (mode 600), unless the file \
                already holds a working one.
                """
        )

        @Option(help: "Where to write the token; - prints it on standard output (and nothing else).")
        var out: String = ".xcert/admin.token"
        @Option(help: "The principal's name.") var name: String = "province administrator"
        @Option(help: "Make the token of this service (registry, filing, assessment, settlement) instead, for its calls to the others.")
        var service: String?

        func validate() throws {
            if let service, !["registry", "filing", "assessment", "settlement"].contains(service) {
                throw ValidationError("--service must be registry, filing, assessment or settlement, not \(service)")
            }
        }

        func run() async throws {
            let toStandardOutput = self.out == "-"
            let existing =
                toStandardOutput
                ? nil : (try? String(contentsOfFile: self.out, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            let name = self.service.map { "\($0) service" } ?? self.name
            let role = self.service == nil ? "province_admin" : "service"
            let party = self.service
            let created: String? = try await withOwnerClient { client, logger in
                try await Migrator().migrate(client: client, logger: logger)
                return try await client.withTransaction(logger: logger) { connection -> String? in
                    if let existing, !existing.isEmpty {
                        let digest = Authenticator.digest(of: existing)
                        let rows = try await connection.query(
                            """
                            SELECT 1 FROM registry.tokens
                            WHERE token_sha256 = \(digest) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
                            """,
                            logger: logger
                        )
                        for try await _ in rows { return nil }
                    }
                    let (token, digest) = Authenticator.newToken()
                    let rows = try await connection.query(
                        "INSERT INTO registry.principals (name, role, party) VALUES (\(name), \(role), \(party)) RETURNING id",
                        logger: logger
                    )
                    var principalID: Int64 = 0
                    for try await id in rows.decode(Int64.self) { principalID = id }
                    try await connection.query(
                        "INSERT INTO registry.tokens (principal_id, token_sha256, label) VALUES (\(principalID), \(digest), 'bootstrap')",
                        logger: logger
                    )
                    return token
                }
            }
            guard let token = created else {
                print("\(self.out) already holds a working token")
                return
            }
            if toStandardOutput {
                print(token)
                return
            }
            let directory = (self.out as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            guard
                FileManager.default.createFile(
                    atPath: self.out, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw ValidationError("cannot write \(self.out)")
            }
            print("wrote a new \(role) token to \(self.out)")
        }
    }

    struct AnalystLogin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "analyst-login",
            abstract:
                """
                Let xcert_analyst log in (it reads the analytics views, nothing else) with the password kept in --out, made (mode 600) \
                when the file is missing.
                """
        )

        @Option(help: "The file of the analyst's password.") var out: String = ".xcert/analyst.password"

        func run() async throws {
            try await RoleLogin(role: "xcert_analyst", file: self.out, format: { $0 }).keep()
            print("xcert_analyst may log in with the password in \(self.out)")
        }
    }

    struct ServiceLogin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "service-login",
            abstract:
                """
                Let a service log in to the database as its own role (xcert_registry, …, which holds only that service's rights) \
                with a password kept in --out as a pgpass line (for PGPASSFILE), made (mode 600) when the file is missing.
                """
        )

        @Option(help: "registry, filing, assessment or settlement.") var service: String
        @Option(help: "The pgpass file of the service's login.") var out: String

        func validate() throws {
            guard ["registry", "filing", "assessment", "settlement"].contains(self.service) else {
                throw ValidationError("--service must be registry, filing, assessment or settlement, not \(self.service)")
            }
        }

        func run() async throws {
            let role = "xcert_\(self.service)"
            try await RoleLogin(role: role, file: self.out, format: { "*:*:*:\(role):\($0)" }).keep()
            print("\(role) may log in with the password in \(self.out) (a pgpass line)")
        }
    }

    /// A role's login password, kept in a file (mode 600): made when the file holds none,
    /// else the one kept there is set again (so a rebuilt database takes the same one).
    struct RoleLogin {
        let role: String
        let file: String
        /// The file's line for a password.
        let format: (String) -> String

        func keep() async throws {
            let line = (try? String(contentsOfFile: self.file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            // The password is the line's last field (the whole line for a plain password file).
            let kept = line.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            let isNew = kept.isEmpty
            var generator = SystemRandomNumberGenerator()
            let password =
                isNew ? (0..<24).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined() : kept
            let role = self.role
            try await withOwnerClient { client, logger in
                try await Migrator().migrate(client: client, logger: logger)
                try await client.withTransaction(logger: logger) { connection in
                    // ALTER ROLE takes no parameters: the role and the password go in bound, and
                    // PostgreSQL quotes them.
                    try await connection.query(
                        "SELECT set_config('xcert.login_role', \(role), true), set_config('xcert.login_password', \(password), true)",
                        logger: logger
                    )
                    try await connection.query(
                        """
                        DO $$ BEGIN
                            EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L',
                                current_setting('xcert.login_role'), current_setting('xcert.login_password'));
                        END $$
                        """,
                        logger: logger
                    )
                }
            }
            guard isNew else { return }
            let directory = (self.file as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            guard
                FileManager.default.createFile(
                    atPath: self.file, contents: Data((self.format(password) + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw ValidationError("cannot write \(self.file)")
            }
        }
    }
}
