import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The registry's SQL for assessment sites, their coverage of cities, and monitoring points.
enum SiteStore {
    // MARK: - Sites

    /// Registers `school` as a site of `certificate`; its id, or nil when it is one already.
    static func addSite(
        school: String, certificate: String, levels: [CertificateLevel], capacity: Int32, yearOpened: Int32, registeredBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64? {
        let inserted = try await connection.query(
            """
            INSERT INTO registry.assessment_sites (school_code, certificate_code, levels, capacity, year_opened, registered_by)
            VALUES (\(school), \(certificate), \(CertificateLevel.stored(levels)), \(capacity), \(yearOpened), \(registeredBy))
            ON CONFLICT DO NOTHING RETURNING id
            """,
            logger: logger
        )
        var id: Int64?
        for try await value in inserted.decode(Int64.self) { id = value }
        return id
    }

    /// Sites matching the filters (nil means any) within `scope`, by id.
    static func sites(
        ids: [Int64]? = nil, certificateCode: String? = nil, cityCode: String? = nil, schoolCode: String? = nil,
        organizationID: Int64? = nil, yearOpened: Int32? = nil, scope: Scope, after: Int64 = 0, limit: Int = 10_000,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_AssessmentSite] {
        let rows = try await connection.query(
            """
            SELECT a.id, a.school_code, s.name, s.city_code, a.certificate_code, a.levels, a.capacity, a.year_opened,
                   coalesce(c.organization_id, 0), a.registered_at
            FROM registry.assessment_sites a
            JOIN registry.schools s ON s.code = a.school_code
            JOIN registry.certificates c ON c.code = a.certificate_code
            WHERE a.id > \(after)
              AND (\(ids)::bigint[] IS NULL OR a.id = ANY(\(ids)))
              AND (\(certificateCode)::text IS NULL OR a.certificate_code = \(certificateCode))
              AND (\(cityCode)::text IS NULL OR s.city_code = \(cityCode))
              AND (\(schoolCode)::text IS NULL OR a.school_code = \(schoolCode))
              AND (\(organizationID)::bigint IS NULL OR c.organization_id = \(organizationID))
              AND (\(yearOpened)::integer IS NULL OR a.year_opened = \(yearOpened))
              AND (\(scope.organizationID)::bigint IS NULL OR c.organization_id = \(scope.organizationID))
            ORDER BY a.id LIMIT \(limit)
            """,
            logger: logger
        )
        var sites: [Xcert_Registry_V1_AssessmentSite] = []
        for try await row in rows.decode((Int64, String, String, String, String, [Int32], Int32, Int32, Int64, Date).self) {
            var site = Xcert_Registry_V1_AssessmentSite()
            site.id = row.0
            site.schoolCode = row.1
            site.schoolName = row.2
            site.cityCode = row.3
            site.certificateCode = row.4
            site.levels = CertificateLevel.wire(stored: row.5)
            site.capacity = row.6
            site.yearOpened = row.7
            site.organizationID = row.8
            site.registeredAt = .init(row.9)
            sites.append(site)
        }
        return sites
    }

    // MARK: - Coverage

    /// The cities with qualified schools of a certificate (of `certificate` only, when set) in
    /// `year` but no site of it by that year, within `scope`, by certificate and city.
    static func coverageGaps(
        year: Int32, certificate: String?, scope: Scope, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_CoverageGap] {
        // A city is covered for a certificate by a site at any of its schools opened by that year.
        let rows = try await connection.query(
            """
            SELECT c.code, c.name, ci.code, ci.name, count(DISTINCT q.school_code)
            FROM registry.qualifications q
            JOIN registry.schools s ON s.code = q.school_code
            JOIN registry.cities ci ON ci.code = s.city_code
            JOIN registry.certificates c ON c.code = q.certificate_code
            WHERE q.year = \(year) AND q.revoked_at IS NULL
              AND (\(certificate)::text IS NULL OR q.certificate_code = \(certificate))
              AND (\(scope.organizationID)::bigint IS NULL OR c.organization_id = \(scope.organizationID))
              AND NOT EXISTS (
                  SELECT 1 FROM registry.assessment_sites a JOIN registry.schools sa ON sa.code = a.school_code
                  WHERE a.certificate_code = q.certificate_code AND sa.city_code = s.city_code AND a.year_opened <= \(year))
            GROUP BY c.code, c.name, ci.code, ci.name ORDER BY c.code, ci.code
            """,
            logger: logger
        )
        var gaps: [Xcert_Registry_V1_CoverageGap] = []
        for try await row in rows.decode((String, String, String, String, Int64).self) {
            var gap = Xcert_Registry_V1_CoverageGap()
            gap.certificateCode = row.0
            gap.certificateName = row.1
            gap.cityCode = row.2
            gap.cityName = row.3
            gap.qualifiedSchools = Int32(row.4)
            gaps.append(gap)
        }
        return gaps
    }

    /// Each organization (only `scope`'s, when it names one), by id: the cities its sites (of any
    /// of its certificates) opened by `year` are in, of all the cities.
    static func organizationCoverage(
        year: Int32, scope: Scope, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_OrganizationCoverage] {
        let organizations = try await connection.query(
            """
            SELECT o.id, o.name,
                   coalesce(array_agg(DISTINCT s.city_code ORDER BY s.city_code) FILTER (WHERE s.city_code IS NOT NULL), '{}'),
                   (SELECT count(*) FROM registry.cities)
            FROM registry.organizations o
            LEFT JOIN registry.certificates c ON c.organization_id = o.id
            LEFT JOIN registry.assessment_sites a ON a.certificate_code = c.code AND a.year_opened <= \(year)
            LEFT JOIN registry.schools s ON s.code = a.school_code
            WHERE \(scope.organizationID)::bigint IS NULL OR o.id = \(scope.organizationID)
            GROUP BY o.id, o.name ORDER BY o.id
            """,
            logger: logger
        )
        var coverages: [Xcert_Registry_V1_OrganizationCoverage] = []
        for try await (id, name, covered, cities) in organizations.decode((Int64, String, [String], Int64).self) {
            var coverage = Xcert_Registry_V1_OrganizationCoverage()
            coverage.organizationID = id
            coverage.organizationName = name
            coverage.coveredCityCodes = covered
            coverage.coveredCities = Int32(covered.count)
            coverage.cities = Int32(cities)
            coverages.append(coverage)
        }
        return coverages
    }

    // MARK: - Monitoring points

    /// Schools qualified for the certificate in the year, with their city and scale.
    static func candidates(
        _ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [MonitoringPointPicker.Candidate] {
        let rows = try await connection.query(
            """
            SELECT q.school_code, s.city_code, sum(q.student_scale)::bigint
            FROM registry.qualifications q JOIN registry.schools s ON s.code = q.school_code
            WHERE q.certificate_code = \(certificate) AND q.year = \(year) AND q.revoked_at IS NULL
            GROUP BY q.school_code, s.city_code
            """,
            logger: logger
        )
        var candidates: [MonitoringPointPicker.Candidate] = []
        for try await (school, city, scale) in rows.decode((String, String, Int64).self) {
            candidates.append(.init(school: school, city: city, scale: Int(scale)))
        }
        return candidates
    }

    /// Replaces the monitoring points of `certificate` in `year` with `schools`, and records
    /// the selection's target and who made it.
    static func replacePoints(
        _ certificate: String, _ year: Int32, schools: [String], target: Int32, selectedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            "DELETE FROM registry.monitoring_points WHERE certificate_code = \(certificate) AND year = \(year)",
            logger: logger
        )
        try await connection.query(
            """
            INSERT INTO registry.monitoring_selections (certificate_code, year, target, selected_by)
            VALUES (\(certificate), \(year), \(target), \(selectedBy))
            ON CONFLICT (certificate_code, year) DO UPDATE
                SET target = excluded.target, selected_by = excluded.selected_by, selected_at = now()
            """,
            logger: logger
        )
        try await connection.query(
            """
            INSERT INTO registry.monitoring_points (certificate_code, year, school_code)
            SELECT \(certificate), \(year), unnest(\(schools)::text[])
            """,
            logger: logger
        )
    }

    /// The target of the monitoring points selected for `certificate` in `year`; nil when
    /// none are selected.
    static func pointsTarget(
        _ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int32? {
        let selection = try await connection.query(
            "SELECT target FROM registry.monitoring_selections WHERE certificate_code = \(certificate) AND year = \(year)",
            logger: logger
        )
        var target: Int32?
        for try await value in selection.decode(Int32.self) { target = value }
        return target
    }

    /// The monitoring points of `certificate` in `year`, by city and school.
    static func points(
        _ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_MonitoringPoint] {
        let rows = try await connection.query(
            """
            SELECT m.school_code, s.name, s.city_code FROM registry.monitoring_points m JOIN registry.schools s ON s.code = m.school_code
            WHERE m.certificate_code = \(certificate) AND m.year = \(year) ORDER BY s.city_code, m.school_code
            """,
            logger: logger
        )
        var points: [Xcert_Registry_V1_MonitoringPoint] = []
        for try await (code, name, city) in rows.decode((String, String, String).self) {
            var point = Xcert_Registry_V1_MonitoringPoint()
            point.schoolCode = code
            point.schoolName = name
            point.cityCode = city
            points.append(point)
        }
        return points
    }
}
