import Foundation
import Logging
import PostgresNIO
import XCertProto
import XCertService
import XCertWire

/// The SQL of the fee standards: the fee of each certificate level for a year, as filing's
/// latest approved filing sets it.
enum FeeStandardStore {
    /// Sets the standards of an approved filing's levels for its year, replacing those of an
    /// earlier approval.
    static func set(_ approval: Xcert_Filing_V1_ApprovedCertificate, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO settlement.fee_standards (certificate_code, level, year, fee_fen, organization_id, filing_id, filing_version,
                approved_at)
            SELECT \(approval.certificateCode), l, \(approval.year), f, \(approval.organizationID), \(approval.filingID),
                   \(approval.filingVersion), to_timestamp(\(Double(approval.approvedAt.seconds)))
            FROM unnest(\(approval.fees.map { Int32($0.level.rawValue) })::smallint[], \(approval.fees.map(\.fee.fen))::bigint[]) AS x(l, f)
            ON CONFLICT (certificate_code, level, year) DO UPDATE SET
                fee_fen = excluded.fee_fen, organization_id = excluded.organization_id, filing_id = excluded.filing_id,
                filing_version = excluded.filing_version, approved_at = excluded.approved_at
            """,
            logger: logger
        )
    }

    /// The standards of a year (0: every year) and a certificate (empty: every certificate),
    /// by year, certificate and level.
    static func standards(
        year: Int32, certificateCode: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Settlement_V1_FeeStandard] {
        let rows = try await connection.query(
            """
            SELECT certificate_code, level, year, fee_fen, organization_id, filing_id, filing_version, approved_at
            FROM settlement.fee_standards
            WHERE (\(year == 0 ? nil : year)::integer IS NULL OR year = \(year))
              AND (\(certificateCode.nonEmpty)::text IS NULL OR certificate_code = \(certificateCode))
            ORDER BY year, certificate_code, level
            """,
            logger: logger
        )
        var standards: [Xcert_Settlement_V1_FeeStandard] = []
        for try await row in rows.decode((String, Int16, Int32, Int64, Int64, Int64, Int32, Date).self) {
            var standard = Xcert_Settlement_V1_FeeStandard()
            standard.certificateCode = row.0
            standard.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(row.1)) ?? .unspecified
            standard.year = row.2
            standard.fee.fen = row.3
            standard.organizationID = row.4
            standard.filingID = row.5
            standard.filingVersion = row.6
            standard.approvedAt = .init(row.7)
            standards.append(standard)
        }
        return standards
    }

    /// The fee of a certificate level in a year, if a standard sets it.
    static func fee(
        certificateCode: String, level: Int16, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64? {
        let standard = try await connection.query(
            """
            SELECT fee_fen FROM settlement.fee_standards
            WHERE certificate_code = \(certificateCode) AND level = \(level) AND year = \(year)
            """,
            logger: logger
        )
        var fee: Int64?
        for try await value in standard.decode(Int64.self) { fee = value }
        return fee
    }
}
