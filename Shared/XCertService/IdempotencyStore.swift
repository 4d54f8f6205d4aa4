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

    /// The service's audit log, `<schema>.audit_log`.
    private let auditTable: String

    public init(schema: String) {
        precondition(schema.allSatisfy { $0.isLetter || $0 == "_" }, "schema names are identifiers")
        self.table = "\(schema).idempotency_keys"
        self.auditTable = "\(schema).audit_log"
    }

    /// Checks the `idempotency-key` metadata: absent, or 1 to 128 printable ASCII characters.
    public static func validatedKey(_ context: RequestContext) throws -> String? {
        guard let key = context.idempotencyKey else { return nil }
        guard RequestAdmission.isIdentifier(key) else {
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
    ///
    /// Every call is written to the service's audit log (`<schema>.audit_log`): a change
    /// or a replay in its own transaction, a refusal from inside it in a transaction of
    /// its own after the rollback.
    public func perform<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ context: RequestContext,
        principal: String,
        request: Request,
        database: Database,
        _ body: (PostgresConnection) async throws -> Response
    ) async throws -> Response {
        let key = try Self.validatedKey(context)
        do {
            return try await database.transaction(context) { connection in
                if let key, let stored = try await self.replayed(context, principal: principal, key: key, request: request, as: Response.self, connection) {
                    return stored
                }
                let response = try await body(connection)
                let kept = try key.map { (key: $0, requestHash: try Self.hash(request), response: try response.serializedData()) }
                try await self.audit(context, principal: principal, targets: AuditTargets.describe(request, response), outcome: "OK", keeping: kept, connection)
                return response
            }
        } catch {
            let status = RPCError(mapping: error)
            if status.code != .unavailable {
                // The refusal, on record; a log that cannot be written must not hide it.
                _ = try? await database.transaction(context) { connection in
                    try await self.audit(context, principal: principal, targets: AuditTargets.describe(request, Optional<Response>.none), outcome: status.code.description, connection)
                }
            }
            throw error
        }
    }

    /// The stored response of an earlier call with this call's key, audited as a replay;
    /// nil without a key or when the key is new (then ``perform(_:principal:request:database:_:)``
    /// does the work). For a method that answers a repeat of its work differently from its
    /// first call and checks for repeats before it gets to `perform`: asked first, this
    /// keeps the first answer for whoever retries with the key.
    public func replay<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ context: RequestContext,
        principal: String,
        request: Request,
        as: Response.Type,
        database: Database
    ) async throws -> Response? {
        guard let key = try Self.validatedKey(context) else { return nil }
        return try await database.transaction(context) { connection in
            try await self.replayed(context, principal: principal, key: key, request: request, as: Response.self, connection)
        }
    }

    /// Runs `call`, a mutating method's checks against state that can change (a peer's
    /// answer, a record's state) and then its ``perform(_:principal:request:database:_:)``;
    /// when those checks refuse, a retry whose key already has an answer gets that first
    /// answer instead of the refusal (say, a payment retried after the school's record
    /// changed). The key is looked up only on a refusal, so the first call pays nothing.
    public func firstAnswerOnRefusal<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ context: RequestContext,
        principal: String,
        request: Request,
        database: Database,
        _ call: () async throws -> Response
    ) async throws -> Response {
        do {
            return try await call()
        } catch let refusal as RPCError where Self.refusals.contains(refusal.code) {
            guard let stored = try await self.replay(context, principal: principal, request: request, as: Response.self, database: database) else {
                throw refusal
            }
            return stored
        }
    }

    /// The answers that say "not this call, as things stand": the ones a stored answer outranks.
    private static let refusals: Set<RPCError.Code> = [.invalidArgument, .failedPrecondition, .notFound, .alreadyExists, .permissionDenied, .outOfRange]

    /// The stored response of an earlier call with `key`, written to the audit log as a
    /// replay; nil when there is none.
    private func replayed<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ context: RequestContext, principal: String, key: String, request: Request, as: Response.Type, _ connection: PostgresConnection
    ) async throws -> Response? {
        guard let stored = try await self.stored(context, principal: principal, key: key, request: request, as: Response.self, connection) else {
            return nil
        }
        try await self.audit(context, principal: principal, targets: AuditTargets.describe(request, stored), outcome: "OK (replayed)", connection)
        return stored
    }

    /// The stored response of an earlier call with `key`; nil when there is none.
    private func stored<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ context: RequestContext, principal: String, key: String, request: Request, as: Response.Type, _ connection: PostgresConnection
    ) async throws -> Response? {
        let method = context.method
        // Two concurrent calls with one key: the second waits here for the first.
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtextextended(\(principal) || ' ' || \(method) || ' ' || \(key), 0))",
            logger: context.logger
        )
        let rows = try await connection.query(
            "SELECT request_sha256, response FROM \(unescaped: self.table) WHERE principal = \(principal) AND method = \(method) AND key = \(key)",
            logger: context.logger
        )
        for try await (storedHash, storedResponse) in rows.decode((Data, Data).self) {
            guard storedHash == (try Self.hash(request)) else {
                throw RPCError(
                    .failedPrecondition,
                    "idempotency-key \(key) was already used for a different \(method) request",
                    fieldViolations: [.init(field: "metadata.idempotency-key", description: "already used with another payload")]
                )
            }
            return try Response(serializedBytes: storedResponse)
        }
        return nil
    }

    private static func hash(_ request: some SwiftProtobuf.Message) throws -> Data {
        Data(SHA256.hash(data: try request.serializedData()))
    }

    /// One entry of the audit log; `principal` is a ``Principal``'s idempotency scope,
    /// `principal:<id>`, whose name and role the registry's table gives. With `kept`, the
    /// call's key, its request's hash and its response are stored in the same statement
    /// (one round trip for both).
    private func audit(
        _ context: RequestContext, principal: String, targets: String, outcome: String,
        keeping kept: (key: String, requestHash: Data, response: Data)? = nil, _ connection: PostgresConnection
    ) async throws {
        let principalID = principal.hasPrefix("principal:") ? Int64(principal.dropFirst("principal:".count)) : nil
        try await connection.query(
            """
            WITH kept AS (
                INSERT INTO \(unescaped: self.table) (principal, method, key, request_sha256, response)
                SELECT \(principal), \(context.method), \(kept?.key)::text, \(kept?.requestHash)::bytea, \(kept?.response)::bytea
                WHERE \(kept?.key)::text IS NOT NULL
            )
            INSERT INTO \(unescaped: self.auditTable) (principal_id, principal_name, principal_role, method, targets, request_id, outcome)
            SELECT \(principalID), coalesce(p.name, \(principal)), coalesce(p.role, 'unknown'), \(context.method), \(targets), \(context.requestID), \(outcome)
            FROM (SELECT 1) AS one LEFT JOIN registry.principals p ON p.id = \(principalID)
            """,
            logger: context.logger
        )
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

/// What a change names, for the audit log: the request's ids, codes, years and numbers (one
/// level of nested messages too, e.g. `session.site_school_code`), and the id of what the
/// response made. Never a token, password or national ID number, nor rows of candidates.
enum AuditTargets {
    static func describe(_ request: some SwiftProtobuf.Message, _ response: (some SwiftProtobuf.Message)?) -> String {
        var parts = Self.fields(of: request)
        if let response, let id = Self.object(response)?["id"] {
            parts.append("→ id=\(id)")
        }
        return parts.joined(separator: " ")
    }

    private static func fields(of message: some SwiftProtobuf.Message) -> [String] {
        guard let object = Self.object(message) else { return [] }
        var parts: [String] = []
        for key in object.keys.sorted() {
            if let nested = object[key] as? [String: Any] {
                for inner in nested.keys.sorted() where Self.isTarget(inner) {
                    if let value = Self.scalar(nested[inner]) { parts.append("\(key).\(inner)=\(value)") }
                }
            } else if Self.isTarget(key), let value = Self.scalar(object[key]) {
                parts.append("\(key)=\(value)")
            }
        }
        return parts
    }

    private static func isTarget(_ name: String) -> Bool {
        let secret = ["token", "password", "national", "secret"].contains { name.contains($0) }
        return !secret && (name == "id" || name == "code" || name == "year" || name == "number" || name == "approve"
            || name.hasSuffix("_id") || name.hasSuffix("_code") || name.hasSuffix("_number"))
            && name != "candidate_number"
    }

    private static func scalar(_ value: Any?) -> String? {
        switch value {
        case let text as String: text.count <= 64 ? text : nil
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }

    private static func object(_ message: some SwiftProtobuf.Message) -> [String: Any]? {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        guard let data = try? Self.withoutLists(message).jsonUTF8Data(options: options) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// `message` without the top-level fields that occur more than once in its binary
    /// form: the elements of lists, which are never targets (``fields(of:)`` skips arrays).
    /// The answer is the same; only its cost is not: a roster chunk's 5,000 rows written as
    /// JSON and parsed back were a third of the filing service's work per chunk (B3).
    static func withoutLists<Message: SwiftProtobuf.Message>(_ message: Message) -> Message {
        guard let bytes: [UInt8] = try? message.serializedBytes(), let fields = Self.topLevelFields(bytes) else { return message }
        var occurrences: [Int: Int] = [:]
        for field in fields { occurrences[field.number, default: 0] += 1 }
        guard occurrences.values.contains(where: { $0 > 1 }) else { return message }
        var kept: [UInt8] = []
        for field in fields where occurrences[field.number] == 1 { kept += bytes[field.span] }
        return (try? Message(serializedBytes: kept)) ?? message
    }

    /// Each top-level field of a message in protobuf's binary format, its number and its
    /// bytes (tag included); nil if the bytes are not such a message or hold a group.
    private static func topLevelFields(_ bytes: [UInt8]) -> [(number: Int, span: Range<Int>)]? {
        var fields: [(number: Int, span: Range<Int>)] = []
        var position = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.count, shift < 64 {
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while position < bytes.count {
            let start = position
            guard let tag = varint() else { return nil }
            switch tag & 7 {
            case 0: guard varint() != nil else { return nil }
            case 1: position += 8
            case 2:
                guard let length = varint(), length <= UInt64(bytes.count - position) else { return nil }
                position += Int(length)
            case 5: position += 4
            default: return nil
            }
            guard position <= bytes.count else { return nil }
            fields.append((Int(tag >> 3), start..<position))
        }
        return fields
    }
}
