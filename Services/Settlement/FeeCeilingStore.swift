import Foundation
import Logging
import PostgresNIO
import XCertProto
import XCertService
import XCertWire

/// The SQL of the province's fee ceilings (收费上限), one per certificate and level.
enum FeeCeilingStore {
    /// Sets the ceilings, replacing those of the same certificate and level.
    static func set(
        _ ceilings: [Xcert_Settlement_V1_FeeCeiling], setBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO settlement.fee_ceilings (certificate_code, level, ceiling_fen, set_by)
            SELECT c, l, f, \(setBy)
            FROM unnest(\(ceilings.map(\.certificateCode))::text[], \(ceilings.map { Int32($0.level.rawValue) })::smallint[],
                        \(ceilings.map(\.ceiling.fen))::bigint[]) AS x(c, l, f)
            ON CONFLICT (certificate_code, level) DO UPDATE SET ceiling_fen = excluded.ceiling_fen, set_by = excluded.set_by, set_at = now()
            """,
            logger: logger
        )
    }

    /// The ceilings of some certificates (nil: all), by certificate and level.
    static func ceilings(
        certificates: Set<String>?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Settlement_V1_FeeCeiling] {
        let codes = certificates.map { Array($0) }
        let rows = try await connection.query(
            """
            SELECT certificate_code, level, ceiling_fen, set_by, set_at FROM settlement.fee_ceilings
            WHERE \(codes)::text[] IS NULL OR certificate_code = ANY(\(codes))
            ORDER BY certificate_code, level
            """,
            logger: logger
        )
        var ceilings: [Xcert_Settlement_V1_FeeCeiling] = []
        for try await (code, level, fen, setBy, setAt) in rows.decode((String, Int16, Int64, String, Date).self) {
            var ceiling = Xcert_Settlement_V1_FeeCeiling()
            ceiling.certificateCode = code
            ceiling.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(level)) ?? .unspecified
            ceiling.ceiling.fen = fen
            ceiling.setBy = setBy
            ceiling.setAt = .init(setAt)
            ceilings.append(ceiling)
        }
        return ceilings
    }
}
