import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The SQL of the credit bank: the province's mappings (`filing.credit_mappings`) and the
/// year's certificates as learning outcomes (what `analytics.learning_outcomes` shows to
/// analysts), with the sealed ID for the export.
enum CreditBankStore {
    /// How one load changed the mappings.
    struct LoadCounts {
        var added = 0
        var replaced = 0
        var unchanged = 0
    }

    /// Stores `mappings` (checked, none twice), each replacing its certificate's and level's.
    static func load(
        _ mappings: [Xcert_Filing_V1_CreditMapping], by setter: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> LoadCounts {
        let rows = try await connection.query(
            """
            WITH given AS (
                SELECT * FROM unnest(\(mappings.map(\.certificateCode))::text[], \(mappings.map { Int32($0.level.rawValue) })::integer[],
                                     \(mappings.map(\.learningOutcomeCode))::text[], \(mappings.map(\.learningOutcomeName))::text[],
                                     \(mappings.map(\.creditsTenths))::integer[])
                         AS g(certificate_code, level, code, name, credits)
            ), before AS (
                SELECT g.*, m.certificate_code IS NOT NULL AS existed,
                       m.learning_outcome_code IS NOT DISTINCT FROM g.code AND m.learning_outcome_name IS NOT DISTINCT FROM g.name
                           AND m.credits_tenths IS NOT DISTINCT FROM g.credits AS same
                FROM given g LEFT JOIN filing.credit_mappings m ON m.certificate_code = g.certificate_code AND m.level = g.level
            ), written AS (
                INSERT INTO filing.credit_mappings (certificate_code, level, learning_outcome_code, learning_outcome_name, credits_tenths,
                                                    set_by)
                SELECT certificate_code, level, code, name, credits, \(setter) FROM before WHERE NOT same
                ON CONFLICT (certificate_code, level) DO UPDATE
                    SET learning_outcome_code = excluded.learning_outcome_code, learning_outcome_name = excluded.learning_outcome_name,
                        credits_tenths = excluded.credits_tenths, set_by = excluded.set_by, set_at = now()
            )
            SELECT count(*) FILTER (WHERE NOT existed), count(*) FILTER (WHERE existed AND NOT same), count(*) FILTER (WHERE same)
            FROM before
            """,
            logger: logger)
        for try await (added, replaced, unchanged) in rows.decode((Int, Int, Int).self) {
            return LoadCounts(added: added, replaced: replaced, unchanged: unchanged)
        }
        return LoadCounts()
    }

    static func mappings(
        certificate: String?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws
        -> [Xcert_Filing_V1_CreditMapping]
    {
        let rows = try await connection.query(
            """
            SELECT certificate_code, level, learning_outcome_code, learning_outcome_name, credits_tenths, set_by, set_at
            FROM filing.credit_mappings
            WHERE \(certificate)::text IS NULL OR certificate_code = \(certificate)
            ORDER BY certificate_code, level
            """,
            logger: logger)
        var mappings: [Xcert_Filing_V1_CreditMapping] = []
        for try await (code, level, outcome, name, credits, setBy, setAt) in rows.decode(
            (String, Int32, String, String, Int32, String, Date).self)
        {
            var mapping = Xcert_Filing_V1_CreditMapping()
            mapping.certificateCode = code
            mapping.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(level)) ?? .unspecified
            mapping.learningOutcomeCode = outcome
            mapping.learningOutcomeName = name
            mapping.creditsTenths = credits
            mapping.setBy = setBy
            mapping.setAt = .init(setAt)
            mappings.append(mapping)
        }
        return mappings
    }

    /// A record to export, with the holder's ID still sealed and the row's HMAC it is bound to.
    struct SealedRecord {
        var record: Xcert_Filing_V1_LearningOutcomeRecord
        var sealedID: Data
        var idHMAC: Data
    }

    /// The year's exported learning outcomes after certificate number `after`, at most `limit`.
    static func exportable(
        year: Int32, after: String, limit: Int, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [SealedRecord] {
        let rows = try await connection.query(
            """
            SELECT c.number, c.holder_name, m.learning_outcome_code, m.learning_outcome_name, m.credits_tenths, c.certificate_code,
                   c.certificate_name, c.level, c.organization_name, to_char(c.exam_date, 'YYYY-MM-DD'), to_char(c.issued_on, 'YYYY-MM-DD'),
                   c.school_code, c.candidate_number, r.national_id_sealed, r.national_id_hmac
            FROM filing.certificates c
            JOIN filing.credit_mappings m ON m.certificate_code = c.certificate_code AND m.level = c.level
            JOIN filing.roster_candidates r ON r.roster_id = c.roster_id AND r.candidate_number = c.candidate_number
            WHERE extract(year FROM c.exam_date) = \(year) AND c.revoked_at IS NULL AND r.national_id_sealed IS NOT NULL
              AND c.number > \(after)
            ORDER BY c.number LIMIT \(limit)
            """,
            logger: logger)
        var records: [SealedRecord] = []
        for try await row in rows.decode(
            (String, String, String, String, Int32, String, String, Int32, String, String, String, String, String, Data, Data).self)
        {
            var record = Xcert_Filing_V1_LearningOutcomeRecord()
            record.certificateNumber = row.0
            record.holderName = row.1
            record.learningOutcomeCode = row.2
            record.learningOutcomeName = row.3
            record.creditsTenths = row.4
            record.certificateCode = row.5
            record.certificateName = row.6
            record.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(row.7)) ?? .unspecified
            record.organizationName = row.8
            if let exam = LocalDate(iso: row.9) { record.examDate = exam.wire }
            if let issued = LocalDate(iso: row.10) { record.issuedOn = issued.wire }
            record.schoolCode = row.11
            record.candidateNumber = row.12
            records.append(SealedRecord(record: record, sealedID: row.13, idHMAC: row.14))
        }
        return records
    }

    /// What the year's export holds and leaves out, in one statement (its own reckoning, which
    /// tests hold against `analytics.learning_outcomes`).
    static func summary(
        year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws
        -> Xcert_Filing_V1_LearningOutcomeSummary
    {
        let rows = try await connection.query(
            """
            WITH outcome AS (
                SELECT c.certificate_code, c.level, c.revoked_at IS NOT NULL AS revoked, m.credits_tenths,
                       r.national_id_sealed IS NOT NULL AS on_record
                FROM filing.certificates c
                LEFT JOIN filing.credit_mappings m ON m.certificate_code = c.certificate_code AND m.level = c.level
                LEFT JOIN filing.roster_candidates r ON r.roster_id = c.roster_id AND r.candidate_number = c.candidate_number
                WHERE extract(year FROM c.exam_date) = \(year)
            ), gap AS (
                SELECT certificate_code, level, count(*) AS certificates FROM outcome
                WHERE NOT revoked AND credits_tenths IS NULL GROUP BY certificate_code, level
            )
            SELECT count(*), count(*) FILTER (WHERE NOT revoked AND credits_tenths IS NOT NULL AND on_record),
                   count(*) FILTER (WHERE revoked),
                   count(*) FILTER (WHERE NOT revoked AND credits_tenths IS NULL),
                   count(*) FILTER (WHERE NOT revoked AND credits_tenths IS NOT NULL AND NOT on_record),
                   coalesce(sum(credits_tenths) FILTER (WHERE NOT revoked AND on_record), 0),
                   (SELECT coalesce(array_agg(certificate_code ORDER BY certificates DESC, certificate_code, level), '{}') FROM gap),
                   (SELECT coalesce(array_agg(level ORDER BY certificates DESC, certificate_code, level), '{}') FROM gap),
                   (SELECT coalesce(array_agg(certificates ORDER BY certificates DESC, certificate_code, level), '{}') FROM gap)
            FROM outcome
            """,
            logger: logger)
        var summary = Xcert_Filing_V1_LearningOutcomeSummary()
        summary.year = year
        for try await row in rows.decode((Int64, Int64, Int64, Int64, Int64, Int64, [String], [Int32], [Int64]).self) {
            summary.certificates = Int32(clamping: row.0)
            summary.exported = Int32(clamping: row.1)
            summary.revoked = Int32(clamping: row.2)
            summary.unmapped = Int32(clamping: row.3)
            summary.withoutNationalID = Int32(clamping: row.4)
            summary.creditsTenths = Int32(clamping: row.5)
            for (code, (level, count)) in zip(row.6, zip(row.7, row.8)) {
                var gap = Xcert_Filing_V1_LearningOutcomeSummary.Gap()
                gap.certificateCode = code
                gap.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(level)) ?? .unspecified
                gap.certificates = Int32(clamping: count)
                summary.unmappedLevels.append(gap)
            }
        }
        return summary
    }
}
