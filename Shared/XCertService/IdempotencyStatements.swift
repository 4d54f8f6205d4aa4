import Foundation
import Logging
import PostgresNIO

/// The idempotency store's hot statements, prepared once per connection: the lock and the
/// look-up of a key's stored answer (a call with an `idempotency-key`), and the audit entry
/// with the key it keeps (every change).
///
/// A prepared statement's SQL is static, and the tables are in the service's own schema, so
/// the statements are generic over the schema as a type (``ServiceSchema``); the store picks
/// its schema's once, by name.
struct IdempotencyStatements: Sendable {
    /// Takes the transaction's lock on a key: a second call with it waits here for the first.
    let lock: @Sendable (_ principal: String, _ method: String, _ key: String, PostgresConnection, Logger) async throws -> Void
    /// The stored request hash and answer of a key; nil when there is none.
    let storedAnswer:
        @Sendable (_ principal: String, _ method: String, _ key: String, PostgresConnection, Logger) async throws -> (Data, Data)?
    /// Writes an audit entry, with the key it keeps.
    let audit: @Sendable (AuditEntry, PostgresConnection, Logger) async throws -> Void

    /// The statements of `schema`, a service's schema (`registry`, `filing`, `assessment`,
    /// `settlement`).
    init(schema: String) {
        switch schema {
        case RegistrySchema.name: self.init(RegistrySchema.self)
        case FilingSchema.name: self.init(FilingSchema.self)
        case AssessmentSchema.name: self.init(AssessmentSchema.self)
        case SettlementSchema.name: self.init(SettlementSchema.self)
        default: preconditionFailure("\(schema) is not a service's schema")
        }
    }

    private init<Schema: ServiceSchema>(_: Schema.Type) {
        self.lock = { principal, method, key, connection, logger in
            for try await _ in try await connection.execute(KeyLock(principal: principal, method: method, key: key), logger: logger) {}
        }
        self.storedAnswer = { principal, method, key, connection, logger in
            let statement = StoredAnswer<Schema>(principal: principal, method: method, key: key)
            for try await row in try await connection.execute(statement, logger: logger) { return row }
            return nil
        }
        self.audit = { entry, connection, logger in
            for try await _ in try await connection.execute(AuditInsert<Schema>(entry: entry), logger: logger) {}
        }
    }
}

/// One audit entry, and the key (with its request's hash and its answer) it keeps.
struct AuditEntry: Sendable {
    var principal: String
    var principalID: Int64?
    var method: String
    var targets: String
    var requestID: String
    var outcome: String
    var kept: (key: String, requestHash: Data, response: Data)?
}

/// A service's schema as a type, for statements whose static SQL names its tables, with the
/// names its statements are prepared under (PostgresNIO reads a statement's name on every
/// execution, so they are constants).
protocol ServiceSchema: Sendable {
    static var name: String { get }
    static var storedAnswerStatement: String { get }
    static var auditStatement: String { get }
}

enum RegistrySchema: ServiceSchema {
    static let name = "registry"
    static let storedAnswerStatement = "registry.stored_answer"
    static let auditStatement = "registry.audit"
}

enum FilingSchema: ServiceSchema {
    static let name = "filing"
    static let storedAnswerStatement = "filing.stored_answer"
    static let auditStatement = "filing.audit"
}

enum AssessmentSchema: ServiceSchema {
    static let name = "assessment"
    static let storedAnswerStatement = "assessment.stored_answer"
    static let auditStatement = "assessment.audit"
}

enum SettlementSchema: ServiceSchema {
    static let name = "settlement"
    static let storedAnswerStatement = "settlement.stored_answer"
    static let auditStatement = "settlement.audit"
}

private struct KeyLock: PostgresPreparedStatement {
    static let name = "idempotency_lock"
    static let sql = "SELECT pg_advisory_xact_lock(hashtextextended($1::text || ' ' || $2::text || ' ' || $3::text, 0))"
    typealias Row = Void

    let principal: String
    let method: String
    let key: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(self.principal)
        bindings.append(self.method)
        bindings.append(self.key)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}

private struct StoredAnswer<Schema: ServiceSchema>: PostgresPreparedStatement {
    static var name: String { Schema.storedAnswerStatement }
    static var sql: String {
        """
        SELECT request_sha256, response FROM \(Schema.name).idempotency_keys
        WHERE principal = $1::text AND method = $2::text AND key = $3::text
        """
    }
    typealias Row = (Data, Data)

    let principal: String
    let method: String
    let key: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(self.principal)
        bindings.append(self.method)
        bindings.append(self.key)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The audit entry and, with a key, the key's record, in one statement (one round trip for
/// both); the principal's name and role come from the registry's table.
private struct AuditInsert<Schema: ServiceSchema>: PostgresPreparedStatement {
    static var name: String { Schema.auditStatement }
    static var sql: String {
        """
        WITH kept AS (
            INSERT INTO \(Schema.name).idempotency_keys (principal, method, key, request_sha256, response)
            SELECT $1::text, $2::text, $3::text, $4::bytea, $5::bytea
            WHERE $3::text IS NOT NULL
        )
        INSERT INTO \(Schema.name).audit_log (principal_id, principal_name, principal_role, method, targets, request_id, outcome)
        SELECT $6::bigint, coalesce(p.name, $1::text), coalesce(p.role, 'unknown'), $2::text, $7::text, $8::text, $9::text
        FROM (SELECT 1) AS one LEFT JOIN registry.principals p ON p.id = $6::bigint
        """
    }
    typealias Row = Void

    let entry: AuditEntry

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 9)
        bindings.append(self.entry.principal)
        bindings.append(self.entry.method)
        bindings.append(self.entry.kept?.key)
        try bindings.append(self.entry.kept?.requestHash)
        try bindings.append(self.entry.kept?.response)
        bindings.append(self.entry.principalID)
        bindings.append(self.entry.targets)
        bindings.append(self.entry.requestID)
        bindings.append(self.entry.outcome)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}
