import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import XCertStore
import XCertWire

/// Watches the database for as long as the service runs: applies pending migrations
/// first (retrying until the database answers), then pings it every second, keeping
/// ``state`` for the health check and ``DatabaseAvailability`` for transactions. It also
/// purges expired idempotency keys once an hour.
public final class DatabaseMonitor: Service, Sendable {
    /// What the health check reports.
    public struct State: Sendable, Equatable {
        public var isServing: Bool
        public var detail: String
    }

    private let database: Database
    private let migrator: Migrator
    /// Who migrates: the login of the service's configuration (the owner), on a connection
    /// of its own; nil skips migrations (when a one-shot step applies them).
    private let migratingLogin: DatabaseConfiguration?
    private let idempotencyStore: IdempotencyStore
    private let logger: Logger
    private let interval: Duration
    private let current = Mutex(State(isServing: false, detail: "starting: the database was not reached yet"))

    /// `migratingLogin` nil skips migrations (when a one-shot step applies them).
    public init(
        database: Database, migratingLogin: DatabaseConfiguration?, migrator: Migrator = Migrator(), idempotencyStore: IdempotencyStore,
        logger: Logger, interval: Duration = .seconds(1)
    ) {
        self.database = database
        self.migrator = migrator
        self.migratingLogin = migratingLogin
        self.idempotencyStore = idempotencyStore
        self.logger = logger
        self.interval = interval
        database.availability.update(reachable: false)
    }

    public var state: State { self.current.withLock { $0 } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.watch()
        }
    }

    private func watch() async {
        var migrated = self.migratingLogin == nil
        var lastPurge = ContinuousClock.now
        while !Task.isCancelled {
            if !migrated {
                migrated = await self.applyMigrations()
            }
            if migrated {
                let reachable = await self.ping()
                self.database.availability.update(reachable: reachable)
                self.set(
                    reachable
                        ? State(isServing: true, detail: "")
                        : State(isServing: false, detail: "PostgreSQL does not answer"))
                if reachable, ContinuousClock.now - lastPurge > .seconds(3600) {
                    lastPurge = .now
                    _ = try? await self.idempotencyStore.purgeExpired(logger: self.logger)
                }
            }
            try? await Task.sleep(for: self.interval)
        }
    }

    private func applyMigrations() async -> Bool {
        guard let login = self.migratingLogin else { return true }
        do {
            let applied = try await withTimeout(.seconds(60)) {
                try await self.migrator.migrate(login: login, logger: self.logger)
            }
            self.logger.info("schema is up to date", metadata: ["applied": "\(applied)"])
            return true
        } catch let error as MigrationError {
            self.logger.critical("cannot migrate", metadata: ["error": "\(error)"])
            // The reason goes to the log only: health is public and carries no error text.
            self.set(State(isServing: false, detail: "migrations failed; the service's log says why"))
            return false
        } catch {
            self.logger.warning("database not reachable for migrations; retrying", metadata: ["error": "\(String(reflecting: error))"])
            self.set(State(isServing: false, detail: "PostgreSQL does not answer; migrations are pending"))
            return false
        }
    }

    private func ping() async -> Bool {
        do {
            try await withTimeout(.seconds(2)) {
                try await self.database.client.query("SELECT 1", logger: self.logger)
            }
            return true
        } catch {
            if self.state.isServing {
                self.logger.warning("database stopped answering", metadata: ["error": "\(String(reflecting: error))"])
            }
            return false
        }
    }

    private func set(_ state: State) {
        let changed = self.current.withLock { current -> Bool in
            defer { current = state }
            return current != state
        }
        if changed {
            self.logger.notice("health changed", metadata: ["serving": "\(state.isServing)", "detail": "\(state.detail)"])
        }
    }
}
