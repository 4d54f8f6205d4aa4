import Crypto
import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertStore
import XCertWire

/// The idempotency keys and the audit log of one service: the server's ``ChangeRecording``
/// around every declared-mutating method, and the one way such a method's handler opens the
/// transaction of its change (``perform(_:_:)``).
///
/// - A change commits in one transaction with its `idempotency-key` (bound to the caller,
///   the method and the request's hash) and its answer, so a retry never does the work twice
///   and a change that rolled back leaves no key behind (docs/protocol.md, `idempotency-key`).
/// - A retry whose key has an answer gets that answer: from inside the change's transaction
///   when the handler's checks pass again, and in place of a refusal when they no longer do
///   (say, a payment retried after the school's record changed). The key is looked up only
///   then, so a first call pays nothing for it.
/// - Every mutating call leaves one entry in the audit log (`<schema>.audit_log`): the change
///   in its own transaction, a replay, or a refusal after the rollback.
public struct IdempotencyStore: ChangeRecording {
    /// The table, `<schema>.idempotency_keys`, in the service's own schema.
    private let table: String
    private let database: Database
    private let statements: IdempotencyStatements

    /// How long keys are kept; the protocol promises at least 24 hours.
    public static let retention: Duration = .seconds(48 * 3600)

    public init(schema: String, database: Database) {
        precondition(schema.allSatisfy { $0.isLetter || $0 == "_" }, "schema names are identifiers")
        self.table = "\(schema).idempotency_keys"
        self.database = database
        self.statements = IdempotencyStatements(schema: schema)
    }

    public func recording<Response: SwiftProtobuf.Message>(
        _ call: RequestContext,
        _ handler: () async throws -> Response
    ) async throws -> Response {
        guard let mutation = call.mutation else { return try await handler() }
        let principal = Self.scope(call)
        do {
            let response = try await handler()
            if !mutation.isRecorded {
                // A change made without ``perform(_:_:)`` (one whose answer must never be
                // stored, say a new token), or nothing to change: on record all the same,
                // and answered even if the record cannot be written (the change stands).
                do {
                    try await self.database.autocommit(logger: call.logger) { connection in
                        try await self.audit(
                            call, principal: principal, targets: AuditTargets.describe(mutation.request, response), outcome: "OK",
                            connection)
                    }
                } catch {
                    call.logger.warning("the audit entry of a change could not be written", metadata: ["error": "\(error)"])
                }
            }
            return response
        } catch {
            var answer = error
            if Self.refusals.contains(RPCError(mapping: error).code), let key = call.idempotencyKey, !mutation.isRecorded {
                do {
                    let stored = try await self.database.transaction(call) { connection in
                        try await self.replayed(
                            call, principal: principal, key: key, request: mutation.request, as: Response.self, connection)
                    }
                    if let stored { return stored }
                } catch let reused as RPCError where reused.code == .failedPrecondition {
                    answer = reused  // the key was used with another request: that is the answer
                } catch {
                    // The key could not be looked up: the handler's refusal stands.
                }
            }
            let status = RPCError(mapping: answer)
            if status.code != .unavailable {
                // The refusal, on record; a log that cannot be written must not hide it.
                _ = try? await self.database.autocommit(logger: call.logger) { connection in
                    try await self.audit(
                        call, principal: principal, targets: AuditTargets.describe(mutation.request, Optional<Response>.none),
                        outcome: status.code.description, connection)
                }
            }
            throw answer
        }
    }

    /// Runs the change of a declared-mutating call in one transaction, once per key: with
    /// an `idempotency-key` whose answer is stored, that answer (the same key with another
    /// request is FAILED_PRECONDITION); otherwise `body`, whose answer is stored with the key
    /// and audited in the same transaction.
    ///
    /// - Throws: INTERNAL for a method not declared mutating: its contract is wrong.
    public func perform<Response: SwiftProtobuf.Message>(
        _ call: RequestContext,
        _ body: (PostgresConnection) async throws -> Response
    ) async throws -> Response {
        guard let mutation = call.mutation else {
            throw RPCError(.internal, "\(call.method) changes state but is not declared mutating")
        }
        let principal = Self.scope(call)
        let key = call.idempotencyKey
        let response = try await self.database.transaction(call) { connection in
            if let key,
                let stored = try await self.replayed(
                    call, principal: principal, key: key, request: mutation.request, as: Response.self, connection)
            {
                return stored
            }
            let response = try await body(connection)
            let kept = try key.map { (key: $0, requestHash: try Self.hash(mutation.request), response: try response.serializedData()) }
            try await self.audit(
                call, principal: principal, targets: AuditTargets.describe(mutation.request, response), outcome: "OK", keeping: kept,
                connection)
            return response
        }
        mutation.markRecorded()
        return response
    }

    /// Whose keys these are: the caller's, or everyone's for a public method.
    private static func scope(_ call: RequestContext) -> String {
        call.principal?.idempotencyScope ?? "public"
    }

    /// The answers that say "not this call, as things stand": the ones a stored answer outranks.
    private static let refusals: Set<RPCError.Code> = [
        .invalidArgument, .failedPrecondition, .notFound, .alreadyExists, .permissionDenied, .outOfRange,
    ]

    /// The stored response of an earlier call with `key`, written to the audit log as a
    /// replay; nil when there is none.
    private func replayed<Response: SwiftProtobuf.Message>(
        _ context: RequestContext, principal: String, key: String, request: any SwiftProtobuf.Message, as: Response.Type,
        _ connection: PostgresConnection
    ) async throws -> Response? {
        guard let stored = try await self.stored(context, principal: principal, key: key, request: request, as: Response.self, connection)
        else {
            return nil
        }
        try await self.audit(
            context, principal: principal, targets: AuditTargets.describe(request, stored), outcome: "OK (replayed)", connection)
        return stored
    }

    /// The stored response of an earlier call with `key`; nil when there is none.
    private func stored<Response: SwiftProtobuf.Message>(
        _ context: RequestContext, principal: String, key: String, request: any SwiftProtobuf.Message, as: Response.Type,
        _ connection: PostgresConnection
    ) async throws -> Response? {
        let method = context.method
        // Two concurrent calls with one key: the second waits here for the first.
        try await self.statements.lock(principal, method, key, connection, context.logger)
        if let (storedHash, storedResponse) = try await self.statements.storedAnswer(principal, method, key, connection, context.logger) {
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

    private static func hash(_ request: any SwiftProtobuf.Message) throws -> Data {
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
        let entry = AuditEntry(
            principal: principal, principalID: principalID, method: context.method, targets: targets, requestID: context.requestID,
            outcome: outcome, kept: kept)
        try await self.statements.audit(entry, connection, context.logger)
    }

    /// Deletes keys older than ``retention``; returns how many.
    @discardableResult
    public func purgeExpired(logger: Logging.Logger) async throws -> Int {
        let hours = Int(Self.retention.components.seconds / 3600)
        let table = self.table
        return try await self.database.autocommit(timeout: .seconds(60), logger: logger) { connection in
            let rows = try await connection.query(
                """
                WITH gone AS (DELETE FROM \(unescaped: table) WHERE created_at < now() - make_interval(hours => \(hours)) RETURNING 1)
                SELECT count(*) FROM gone
                """,
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
    static func describe(_ request: any SwiftProtobuf.Message, _ response: (some SwiftProtobuf.Message)?) -> String {
        var parts = Self.fields(of: request)
        if let response, let id = Self.object(response)?["id"] {
            parts.append("→ id=\(id)")
        }
        return parts.joined(separator: " ")
    }

    private static func fields(of message: any SwiftProtobuf.Message) -> [String] {
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
        return !secret
            && (name == "id" || name == "code" || name == "year" || name == "number" || name == "approve"
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

    private static func object(_ message: any SwiftProtobuf.Message) -> [String: Any]? {
        guard let data = try? Self.withoutLists(message).jsonUTF8Data(options: .stored) else { return nil }
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
