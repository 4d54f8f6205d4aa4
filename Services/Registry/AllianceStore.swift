import Foundation
import Logging
import PostgresNIO
import XCertProto

/// The registry's SQL for alliances: the schools holding a qualification in force for a
/// certificate and year, and the lead schools of final selections.
enum AllianceStore {
    /// The year's alliances, one per certificate some school applied for, by code: the
    /// certificate's code and name, the year, the count of its schools holding a
    /// qualification in force and the count of schools that applied (申报学校数).
    static func alliances(year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Xcert_Registry_V1_Alliance] {
        let rows = try await connection.query(
            """
            SELECT c.code, c.name,
                   (SELECT count(DISTINCT q.school_code) FROM registry.qualifications q
                    WHERE q.certificate_code = c.code AND q.year = \(year) AND q.revoked_at IS NULL),
                   count(DISTINCT a.school_code)
            FROM registry.pilot_applications a JOIN registry.certificates c ON c.code = a.certificate_code
            WHERE a.year = \(year)
            GROUP BY c.code, c.name ORDER BY c.code
            """,
            logger: logger
        )
        var alliances: [Xcert_Registry_V1_Alliance] = []
        for try await (code, name, members, applicants) in rows.decode((String, String, Int64, Int64).self) {
            var alliance = Xcert_Registry_V1_Alliance()
            alliance.certificateCode = code
            alliance.certificateName = name
            alliance.year = year
            alliance.schoolCount = Int32(members)
            alliance.applicantCount = Int32(applicants)
            alliances.append(alliance)
        }
        return alliances
    }

    /// 申报学校数: the schools that applied for the certificate in the year, whatever became of
    /// their applications.
    static func applicantCount(_ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int
    {
        try await self.applicantCount(of: [certificate], year, connection, logger)
    }

    /// 申报学校数 of a group of certificates (merged by specialty category): each school once.
    static func applicantCount(
        of certificates: [String], _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int {
        let rows = try await connection.query(
            """
            SELECT count(DISTINCT school_code) FROM registry.pilot_applications
            WHERE certificate_code = ANY(\(certificates)) AND year = \(year)
            """,
            logger: logger
        )
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    /// The lead schools of the year's final selections, by certificate (a certificate merged
    /// into another's selection: that selection's).
    static func finalLeads(
        year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [String: [Xcert_Registry_V1_LeadSchool]] {
        let rows = try await connection.query(
            """
            SELECT coalesce(m.certificate_code, l.certificate_code) AS certificate, l.school_code, s.name, l.is_primary
            FROM registry.lead_schools l
            JOIN registry.lead_selections x ON x.certificate_code = l.certificate_code AND x.year = l.year
            LEFT JOIN LATERAL (
                SELECT NULL::text AS certificate_code
                UNION ALL
                SELECT g.certificate_code FROM registry.merged_selections g
                WHERE g.into_certificate_code = l.certificate_code AND g.year = l.year
            ) m ON true
            JOIN registry.schools s ON s.code = l.school_code
            WHERE l.year = \(year) AND x.phase = 'final'
            ORDER BY certificate, l.is_primary DESC, l.school_code
            """,
            logger: logger
        )
        var leads: [String: [Xcert_Registry_V1_LeadSchool]] = [:]
        for try await (certificate, code, name, primary) in rows.decode((String, String, String, Bool).self) {
            var lead = Xcert_Registry_V1_LeadSchool()
            lead.schoolCode = code
            lead.schoolName = name
            lead.primary = primary
            leads[certificate, default: []].append(lead)
        }
        return leads
    }

    /// The schools holding a qualification in force for the certificate and year.
    static func members(_ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String] {
        try await self.members(of: [certificate], year, connection, logger)
    }

    /// The schools holding a qualification in force for any of the certificates in the year.
    static func members(
        of certificates: [String], _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [String] {
        let rows = try await connection.query(
            """
            SELECT DISTINCT school_code FROM registry.qualifications
            WHERE certificate_code = ANY(\(certificates)) AND year = \(year) AND revoked_at IS NULL ORDER BY school_code
            """,
            logger: logger
        )
        var schools: [String] = []
        for try await school in rows.decode(String.self) { schools.append(school) }
        return schools
    }
}
