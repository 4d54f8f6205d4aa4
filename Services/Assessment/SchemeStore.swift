import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The SQL of the province's evaluation schemes (`assessment.schemes`): each year's
/// versions, a draft or published, their indicators kept as JSON.
enum SchemeStore {
    /// The schemes of `year` (nil: every year), only `version` when given, oldest version
    /// first, with their totals; `forUpdate` locks their rows until the transaction ends.
    static func schemes(
        year: Int32?, version: Int32? = nil, forUpdate: Bool = false, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Assessment_V1_Scheme] {
        let rows = try await connection.query(
            """
            SELECT year, version, state, content::text, note FROM assessment.schemes
            WHERE (\(year)::integer IS NULL OR year = \(year)) AND (\(version)::integer IS NULL OR version = \(version))
            ORDER BY year, version \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """,
            logger: logger
        )
        var schemes: [Xcert_Assessment_V1_Scheme] = []
        for try await (year, version, state, content, note) in rows.decode((Int32, Int32, String, String, String).self) {
            var scheme = try Xcert_Assessment_V1_Scheme(jsonString: content)
            scheme.year = year
            scheme.version = version
            scheme.state = state == "published" ? .published : .draft
            scheme.note = note
            schemes.append(SchemeService.withTotals(scheme))
        }
        return schemes
    }

    /// Version `version` of the `year` scheme, its row locked when `forUpdate`; nil when
    /// there is none.
    static func scheme(
        year: Int32, version: Int32, forUpdate: Bool = false, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Assessment_V1_Scheme? {
        try await self.schemes(year: year, version: version, forUpdate: forUpdate, connection, logger).first
    }

    /// Adds the next version of the `year` scheme as a draft of `indicators`, and returns
    /// its number. A lock per year, held until the transaction ends, keeps two creations
    /// from taking the same number.
    static func createDraft(
        year: Int32, indicators: [Xcert_Assessment_V1_Indicator], note: String, createdBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int32 {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended('assessment.schemes ' || \(year), 0))", logger: logger)
        let content = try Self.json(indicators)
        let rows = try await connection.query(
            """
            INSERT INTO assessment.schemes (year, version, state, content, note, created_by)
            SELECT \(year), coalesce(max(version), 0) + 1, 'draft', \(content)::jsonb, \(note), \(createdBy)
            FROM assessment.schemes WHERE year = \(year)
            RETURNING version
            """,
            logger: logger
        )
        var version: Int32 = 0
        for try await value in rows.decode(Int32.self) { version = value }
        return version
    }

    /// Replaces the indicators and note of version `version` of the `year` scheme.
    static func update(
        year: Int32, version: Int32, indicators: [Xcert_Assessment_V1_Indicator], note: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let content = try Self.json(indicators)
        try await connection.query(
            "UPDATE assessment.schemes SET content = \(content)::jsonb, note = \(note) WHERE year = \(year) AND version = \(version)",
            logger: logger
        )
    }

    /// Marks version `version` of the `year` scheme published, now.
    static func publish(year: Int32, version: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            "UPDATE assessment.schemes SET state = 'published', published_at = now() WHERE year = \(year) AND version = \(version)",
            logger: logger
        )
    }

    /// Indicators as a scheme's stored content: JSON with the proto field names.
    private static func json(_ indicators: [Xcert_Assessment_V1_Indicator]) throws -> String {
        var scheme = Xcert_Assessment_V1_Scheme()
        scheme.indicators = indicators
        return try scheme.jsonString(options: .stored)
    }
}
