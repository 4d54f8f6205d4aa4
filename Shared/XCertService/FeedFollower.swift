import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import XCertStore
import XCertWire

/// Follows another service's change feed (a `List…Changes(after:)` method): asks for the
/// changes after its stored cursor, applies a page and stores the page's next cursor in
/// the same transaction, so that a crash at any moment neither loses nor doubles a change.
/// The cursor lives in `<schema>.feed_cursors` under the feed's name. Runs until the
/// service shuts down. Caught up, it asks again after `interval`, or sooner when woken
/// (``FeedWakeUps``); while the peer is unreachable it retries every `interval`.
public struct FeedFollower: Service {
    /// One page of a feed: the cursor after it and how to apply its changes.
    public struct Page: Sendable {
        public var nextCursor: Int64
        public var isEmpty: Bool
        public var apply: @Sendable (PostgresConnection, Logger) async throws -> Void

        public init(nextCursor: Int64, isEmpty: Bool, apply: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void) {
            self.nextCursor = nextCursor
            self.isEmpty = isEmpty
            self.apply = apply
        }
    }

    /// The feed's name, e.g. `filing.rosters`.
    public let feed: String
    let context: ServiceContext
    let interval: Duration
    let fetch: @Sendable (_ after: Int64, _ call: RequestContext) async throws -> Page

    public init(
        feed: String, context: ServiceContext, interval: Duration = .seconds(1),
        fetch: @escaping @Sendable (_ after: Int64, _ call: RequestContext) async throws -> Page
    ) {
        self.feed = feed
        self.context = context
        self.interval = interval
        self.fetch = fetch
    }

    public func run() async throws {
        var logger = self.context.logger
        logger[metadataKey: "feed"] = "\(self.feed)"
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // While the database monitor finds the database unreachable (or the schema not
            // migrated yet), there is nothing to store a page in: wait without noise.
            guard self.context.database.availability.isReachable else {
                try? await Task.sleep(for: self.interval)
                continue
            }
            var caughtUp = true
            do {
                caughtUp = try await self.step(logger)
            } catch {
                logger.warning("cannot follow the feed yet; retrying", metadata: ["error": "\(error)"])
            }
            if caughtUp {
                await self.context.feedWakeUps.sleep(self.feed, upTo: self.interval)
            }
        }
    }

    /// Applies one page; true when there was nothing new.
    func step(_ logger: Logger) async throws -> Bool {
        let cursor = try await Self.cursor(of: self.feed, schema: self.context.name, self.context.database, logger)
        let call = RequestContext(
            method: "follow \(self.feed)", deadline: .now + .seconds(20), requestID: "follow-\(self.feed)-\(cursor)", logger: logger
        )
        let page = try await self.fetch(cursor, call)
        guard !page.isEmpty else { return true }
        try await self.context.database.transaction(timeout: .seconds(60), logger: logger) { connection in
            // Whoever holds the row applies the page; a second follower (another replica) waits and then sees the new cursor.
            try await connection.query(
                "INSERT INTO \(unescaped: self.table) (feed, cursor) VALUES (\(self.feed), 0) ON CONFLICT (feed) DO NOTHING",
                logger: logger
            )
            let rows = try await connection.query(
                "SELECT cursor FROM \(unescaped: self.table) WHERE feed = \(self.feed) FOR UPDATE",
                logger: logger
            )
            var stored: Int64 = 0
            for try await value in rows.decode(Int64.self) { stored = value }
            guard stored == cursor else { return }
            try await page.apply(connection, logger)
            try await connection.query(
                """
                INSERT INTO \(unescaped: self.table) (feed, cursor) VALUES (\(self.feed), \(page.nextCursor))
                ON CONFLICT (feed) DO UPDATE SET cursor = excluded.cursor, updated_at = now()
                """,
                logger: logger
            )
        }
        logger.debug("applied a page", metadata: ["cursor": "\(page.nextCursor)"])
        return false
    }

    private var table: String { "\(self.context.name).feed_cursors" }

    /// The stored cursor of `feed` in `schema` (0 before its first page).
    public static func cursor(of feed: String, schema: String, _ database: Database, _ logger: Logger) async throws -> Int64 {
        let table = "\(schema).feed_cursors"
        return try await database.autocommit(timeout: .seconds(10), logger: logger) { connection in
            let rows = try await connection.query("SELECT cursor FROM \(unescaped: table) WHERE feed = \(feed)", logger: logger)
            for try await value in rows.decode(Int64.self) { return value }
            return 0
        }
    }
}

/// What lets a service wake its own feed followers before their interval is up: a
/// follower that has caught up sleeps in slices of ``slice`` and looks at its feed's flag
/// in between; `wake` raises the flag. So a rebuild is followed at once, not a second later.
public final class FeedWakeUps: Sendable {
    /// How often a sleeping follower looks whether it was woken.
    public static let slice: Duration = .milliseconds(20)
    private let woken = Mutex<Set<String>>([])

    public init() {}

    /// Asks the follower of `feed` to look at its feed now.
    public func wake(_ feed: String) {
        _ = self.woken.withLock { $0.insert(feed) }
    }

    /// Sleeps up to `interval`, less when `feed` is woken meanwhile (or was already).
    public func sleep(_ feed: String, upTo interval: Duration) async {
        let end = ContinuousClock.now + interval
        while ContinuousClock.now < end, !Task.isCancelled {
            if self.woken.withLock({ $0.remove(feed) != nil }) { return }
            try? await Task.sleep(for: min(Self.slice, end - ContinuousClock.now))
        }
    }
}
