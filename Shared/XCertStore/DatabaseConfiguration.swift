import Foundation
import PostgresNIO

/// Where the database is, from libpq's own environment variables with defaults that
/// reach the embedded cluster `scripts/up` makes (127.0.0.1:55432, database `xcert`,
/// user `xcert_owner`).
///
/// The password is `PGPASSWORD`, or else the matching line of the pgpass file named by
/// `PGPASSFILE` (default `.xcert/pgpass`, then `~/.pgpass`), in libpq's format.
public struct DatabaseConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// Connections the pool may open.
    public var maximumConnections: Int
    /// The role each session acts as when the login is another one that may take it (the
    /// owner running a service, say): set once per connection at start-up, as the startup
    /// parameter `role`. Nil (the usual case: a service logs in as its own role) sets none.
    public var sessionRole: String?
    /// `statement_timeout` of every session, sent at start-up: no statement outlives it, even
    /// one whose request's cancellation never reached the database. Nil keeps the server's.
    public var statementTimeout: Duration?

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 55432
    public static let defaultUser = "xcert_owner"
    public static let defaultDatabase = "xcert"

    public init(host: String, port: Int, user: String, password: String?, database: String, maximumConnections: Int = 16) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.maximumConnections = maximumConnections
    }

    /// Reads `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGPASSFILE`, `PGDATABASE` and
    /// `XCERT_DB_MAX_CONNECTIONS`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let host = environment["PGHOST"].nonEmpty ?? Self.defaultHost
        let portText = environment["PGPORT"].nonEmpty ?? "\(Self.defaultPort)"
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigurationError("PGPORT must be a port number from 1 to 65535, not \(portText)")
        }
        let user = environment["PGUSER"].nonEmpty ?? Self.defaultUser
        let database = environment["PGDATABASE"].nonEmpty ?? Self.defaultDatabase
        var maximumConnections = 16
        if let text = environment["XCERT_DB_MAX_CONNECTIONS"].nonEmpty {
            guard let value = Int(text), value > 0 else {
                throw ConfigurationError("XCERT_DB_MAX_CONNECTIONS must be a positive whole number, not \(text)")
            }
            maximumConnections = value
        }
        var password = environment["PGPASSWORD"].nonEmpty  // empty is unset, as libpq has it
        if password == nil {
            var files = [environment["PGPASSFILE"].nonEmpty ?? ".xcert/pgpass"]
            if let home = environment["HOME"] { files.append(home + "/.pgpass") }
            for file in files {
                if let text = try? String(contentsOfFile: file, encoding: .utf8),
                    let found = PGPass(text).password(host: host, port: port, database: database, user: user)
                {
                    password = found
                    break
                }
            }
        }
        self.init(host: host, port: port, user: user, password: password, database: database, maximumConnections: maximumConnections)
    }

    /// The PostgresNIO client configuration (plaintext; TLS to the database is not used),
    /// with ``sessionRole`` and ``statementTimeout`` as startup parameters.
    public var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: self.host, port: self.port, username: self.user, password: self.password,
            database: self.database, tls: .disable
        )
        configuration.options.maximumConnections = self.maximumConnections
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.additionalStartupParameters = self.startupParameters
        return configuration
    }

    /// A single connection's configuration, as the login alone: no startup parameters (the
    /// connection that cancels a pooled one's statement must act as the login, which owns
    /// the pooled sessions, not as ``sessionRole``).
    var loginConfiguration: PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: self.host, port: self.port, username: self.user, password: self.password, database: self.database, tls: .disable
        )
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    private var startupParameters: [(String, String)] {
        var parameters: [(String, String)] = []
        if let role = self.sessionRole, role != self.user {
            parameters.append(("role", role))
        }
        if let timeout = self.statementTimeout {
            let components = timeout.components
            let milliseconds = max(1, components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
            parameters.append(("statement_timeout", "\(milliseconds)"))
        }
        return parameters
    }
}

/// A configuration value that cannot be used; the message says which and why.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// libpq's password file: lines `host:port:database:user:password`, `*` matching
/// anything, `\:` and `\\` escaped, `#` starting a comment.
struct PGPass {
    private var entries: [[String]] = []

    init(_ text: String) {
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            var fields: [String] = []
            var current = ""
            var escaped = false
            for character in line {
                if escaped {
                    current.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == ":" && fields.count < 4 {
                    fields.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            fields.append(current)
            if fields.count == 5 { self.entries.append(fields) }
        }
    }

    func password(host: String, port: Int, database: String, user: String) -> String? {
        let wanted = [host, "\(port)", database, user]
        for entry in self.entries {
            let matches = zip(entry.prefix(4), wanted).allSatisfy { field, value in
                field == "*" || field == value || (field == "localhost" && value == "127.0.0.1")
            }
            if matches { return entry[4] }
        }
        return nil
    }
}

extension Optional where Wrapped == String {
    var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}
