import Logging
import PostgresNIO

/// A service's change feed (`List…Changes(after: cursor)`), as docs/architecture.md has other
/// services follow it: a table whose identity column is the cursor.
///
/// Identity values are taken at insert but become visible at commit, so two writers
/// could commit out of order and a follower that has read past the later cursor would
/// never see the earlier one. Writers therefore call ``lockForAppend(_:logger:)`` first:
/// an advisory lock held to the end of the transaction makes them take cursors one at a
/// time, in commit order.
public struct ChangeFeed: Sendable {
    /// The feed's table, e.g. `registry.qualification_changes`.
    public let table: String
    /// The advisory lock key, derived from the table's name.
    public let lockKey: Int64

    public init(table: String) {
        self.table = table
        // FNV-1a of the name: stable across processes and builds.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in table.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        self.lockKey = Int64(bitPattern: hash)
    }

    /// Takes the feed's append lock until the end of the current transaction.
    public func lockForAppend(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(self.lockKey))", logger: logger)
    }
}
