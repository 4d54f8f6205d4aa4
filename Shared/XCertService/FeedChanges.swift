import Logging
import PostgresNIO
import XCertStore
import XCertWire

extension FeedPaging {
    /// Answers a `List…Changes` call the one way every change feed does (callers: services
    /// and province admins, as each feed's rpc declares): the changes after `after` (at most `limit`) read by `read` in
    /// one transaction; the next cursor is the last change's, or `after` when there is none.
    public static func changes<Change: Sendable>(
        after: Int64, limit: Int32, cursor: @escaping @Sendable (Change) -> Int64, _ context: ServiceContext, _ call: RequestContext,
        read: @escaping @Sendable (_ after: Int64, _ limit: Int, PostgresConnection, Logger) async throws -> [Change]
    ) async throws -> (changes: [Change], nextCursor: Int64) {
        let feed = try FeedPaging(after: after, limit: limit)
        let changes = try await context.database.read(call) { connection in
            try await read(feed.after, feed.limit, connection, call.logger)
        }
        return (changes, changes.last.map(cursor) ?? after)
    }
}
