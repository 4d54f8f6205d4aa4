import Crypto
import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertWire

/// Remembers the response of each mutating call by (principal, method, idempotency key),
/// in the same transaction as the call's work, so that a retry never does the work twice
/// and a call that rolled back leaves no key behind (PROTOCOL.md, `idempotency-key`).
public struct IdempotencyStore: Sendable {
    /// The table, `<schema>.idempotency_keys`, in the service's own schema.
    private let table: String

    /// How long keys are kept; PROTOCOL.md promises at least 24 hours.
    public static let retention: Duration = .seconds(48 * 3600)

    public init(schema: String) {
        precondition(schema.allSatisfy { $0.isLetter || $0 == "_" }, "schema names are identifiers")
        self.table = "\(schema).idempotency_keys"
    }

    /// Checks the `idempotency-key` metadata: absent, or 1 to 128 printable ASCII characters.
    public static func validatedKey(_ context: RequestContext) throws -> String? {
        guard let key = context.idempotencyKey else { return nil }
        let printable = key.utf8.allSatisfy { (0x20...0x7E).contains($0) }
        guard (1...128).contains(key.utf8.count), printable else {
            throw RPCError.invalidArgument([.init(
                field: "metadata.idempotency-key",
                description: "must be 1 to 128 printable ASCII characters"
            )])
        }
        return key
    }

    /// Runs a mutating call once per key: the first call runs `body` in a transaction and
    /// stores its response with the key; a retry with the same request gets that stored
    /// response; the same key with a different request is FAILED_PRECONDITION. Without a
    /// key the call simply runs in a transaction.
    public func perform<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ context: RequestContext,
        principal: String,
        request: Request,
        database: Database,
        _ body: (PostgresConnection) async throws -> Response
    ) async throws -> Response {
        guard let key = try Self.validatedKey(context) else {
            return try await database.transaction(context, body)
        }
        let requestHash = Data(SHA256.hash(data: try request.serializedData()))
        let method = context.method
        let table = self.table
        return try await database.transaction(context) { connection in
            // Two concurrent calls with one key: the second waits here for the first.
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(\(principal) || ' ' || \(method) || ' ' || \(key), 0))",
                logger: context.logger
            )
            let rows = try await connection.query(
                "SELECT request_sha256, response FROM \(unescaped: table) WHERE principal = \(principal) AND method = \(method) AND key = \(key)",
                logger: context.logger
            )
            for try await (storedHash, storedResponse) in rows.decode((Data, Data).self) {
                guard storedHash == requestHash else {
                    throw RPCError(
                        .failedPrecondition,
                        "idempotency-key \(key) was already used for a different \(method) request",
                        fieldViolations: [.init(field: "metadata.idempotency-key", description: "already used with another payload")]
                    )
                }
                return try Response(serializedBytes: storedResponse)
            }
            let response = try await body(connection)
            let responseBytes = try response.serializedData()
            try await connection.query(
                "INSERT INTO \(unescaped: table) (principal, method, key, request_sha256, response) VALUES (\(principal), \(method), \(key), \(requestHash), \(responseBytes))",
                logger: context.logger
            )
            return response
        }
    }

    /// Deletes keys older than ``retention``; returns how many.
    @discardableResult
    public func purgeExpired(database: Database, logger: Logging.Logger) async throws -> Int {
        let hours = Int(Self.retention.components.seconds / 3600)
        let table = self.table
        return try await database.transaction(timeout: .seconds(60), logger: logger) { connection in
            let rows = try await connection.query(
                "WITH gone AS (DELETE FROM \(unescaped: table) WHERE created_at < now() - make_interval(hours => \(hours)) RETURNING 1) SELECT count(*) FROM gone",
                logger: logger
            )
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }
}
