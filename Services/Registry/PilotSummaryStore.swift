import Foundation
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// 002 appendix 2 (试点院校情况汇总表), the province's pilot summary: one line per school with
/// a qualification of the year in force, read in one statement.
enum PilotSummaryStore {
    /// The schools' lines, by school type (中职 first, the order of ``SchoolType``), then code;
    /// numbered from 1. `reviewingUnit` narrows to one unit's schools; a city reviewer's
    /// `scope` to the secondary schools under its unit.
    static func lines(
        year: Int32, reviewingUnit: String?, scope: Scope, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_PilotSummaryLine] {
        let rows = try await connection.query(
            """
            WITH q AS (
                SELECT q.school_code, q.certificate_code, q.levels, q.specialty_codes, q.student_scale
                FROM registry.qualifications q
                JOIN registry.schools s ON s.code = q.school_code
                WHERE q.year = \(year) AND q.revoked_at IS NULL
                  AND (\(reviewingUnit)::text IS NULL OR coalesce(s.reviewing_bureau_code, s.city_code) = \(reviewingUnit))
                  AND (\(scope.reviewingUnitCode)::text IS NULL
                       OR (coalesce(s.reviewing_bureau_code, s.city_code) = \(scope.reviewingUnitCode) AND s.type = 'secondary_vocational'))
            )
            SELECT s.code, s.name, s.type, coalesce(s.reviewing_bureau_code, s.city_code),
                   (SELECT array_agg(q.certificate_code ORDER BY q.certificate_code) FROM q WHERE q.school_code = s.code),
                   (SELECT array_agg(c.name ORDER BY q.certificate_code)
                    FROM q JOIN registry.certificates c ON c.code = q.certificate_code WHERE q.school_code = s.code),
                   (SELECT array_agg(array_to_string(q.levels, ',') ORDER BY q.certificate_code) FROM q WHERE q.school_code = s.code),
                   (SELECT coalesce(array_agg(sp.name ORDER BY sp.position), '{}') FROM registry.school_specialties sp
                    WHERE sp.school_code = s.code
                      AND sp.code IN (SELECT unnest(q.specialty_codes) FROM q WHERE q.school_code = s.code)),
                   (SELECT sum(q.student_scale)::bigint FROM q WHERE q.school_code = s.code),
                   (SELECT coalesce(array_agg(DISTINCT c.name ORDER BY c.name), '{}')
                    FROM registry.lead_schools l
                    JOIN registry.lead_selections sel ON sel.certificate_code = l.certificate_code AND sel.year = l.year
                    LEFT JOIN LATERAL (
                        SELECT l.certificate_code AS code
                        UNION ALL
                        SELECT g.certificate_code FROM registry.merged_selections g
                        WHERE g.into_certificate_code = l.certificate_code AND g.year = l.year
                    ) led ON true
                    JOIN registry.certificates c ON c.code = led.code
                    WHERE l.school_code = s.code AND l.year = \(year) AND sel.phase = 'final'),
                   (SELECT coalesce(array_agg(c.name || '（' || r.revocation_reason || '）' ORDER BY r.certificate_code), '{}')
                    FROM registry.qualifications r JOIN registry.certificates c ON c.code = r.certificate_code
                    WHERE r.school_code = s.code AND r.year = \(year) AND r.revoked_at IS NOT NULL)
            FROM registry.schools s
            WHERE s.code IN (SELECT school_code FROM q)
            ORDER BY array_position(\(SchoolType.allCases.map(\.rawValue))::text[], s.type), s.code
            """,
            logger: logger
        )
        var lines: [Xcert_Registry_V1_PilotSummaryLine] = []
        for try await row in rows.decode(
            (String, String, String, String, [String], [String], [String], [String], Int64, [String], [String]).self)
        {
            var line = Xcert_Registry_V1_PilotSummaryLine()
            line.number = Int32(lines.count + 1)
            line.schoolCode = row.0
            line.schoolName = row.1
            line.schoolType = SchoolType(rawValue: row.2)?.wire ?? .unspecified
            line.reviewingUnitCode = row.3
            line.certificates = zip(row.4, zip(row.5, row.6)).map { code, named in
                var certificate = Xcert_Registry_V1_PilotSummaryCertificate()
                certificate.certificateCode = code
                certificate.certificateName = named.0
                certificate.levels = CertificateLevel.wire(stored: named.1.split(separator: ",").compactMap { Int32($0) })
                return certificate
            }
            line.specialtyNames = row.7
            line.specialtyCount = Int32(row.7.count)
            line.studentScale = row.8
            line.remarks = PilotSummaryRemarks(leads: row.9, revoked: row.10).text
            lines.append(line)
        }
        return lines
    }
}

/// 备注 of a summary line: the certificates whose alliance the school leads, then the
/// qualifications of the year revoked, each part only when there is something to say.
struct PilotSummaryRemarks: Equatable {
    /// Names of the certificates the school leads an alliance of (牵头院校).
    var leads: [String]
    /// "certificate（reason）" of each revoked qualification.
    var revoked: [String]

    var text: String {
        var parts: [String] = []
        if !self.leads.isEmpty { parts.append("牵头院校：" + self.leads.joined(separator: "、")) }
        if !self.revoked.isEmpty { parts.append("已撤销：" + self.revoked.joined(separator: "、")) }
        return parts.joined(separator: "；")
    }
}
