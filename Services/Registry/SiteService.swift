import Foundation
import Logging
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.registry.v1.SiteService`: organizations' assessment sites, their coverage of
/// the cities that have qualified schools (004 item 12), and the province's monitoring
/// points (004 item 19).
struct SiteService: Xcert_Registry_V1_SiteService.Handler {
    let context: ServiceContext

    

    // MARK: - Sites

    @Sendable
    func registerSite(_ request: Xcert_Registry_V1_RegisterSiteRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_AssessmentSite {
        let principal = try call.caller()
        let scope = try Scope(principal)
        var checks = FieldChecks()
        checks.require(request.schoolCode.isDigits(10), "school_code", "must be a school's 10-digit national code")
        checks.require(request.certificateCode.isCertificateCode, "certificate_code", "must be a certificate's code, e.g. BIM")
        let levels = request.levels.compactMap(CertificateLevel.init(wire:))
        checks.require(!levels.isEmpty && levels.count == request.levels.count, "levels", "must list the levels examined there: ELEMENTARY, INTERMEDIATE or ADVANCED")
        checks.require((1...10_000).contains(request.capacity), "capacity", "must be 1 to 10000 candidates per session, not \(request.capacity)")
        // It counts toward indicator 1-5 (new sites this year): never a year still to come.
        let thisYear = Int32(LocalDate(containing: Int64(Date().timeIntervalSince1970)).year)
        checks.require((2019...thisYear).contains(request.yearOpened), "year_opened", "must be the year the site opened, 2019 to this year (\(thisYear))")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            if let organization = scope.organizationID, certificate.organizationID != organization {
                throw RPCError(.permissionDenied, "certificate \(certificate.code) is not this organization's; an organization registers sites for its own certificates")
            }
            let offered = Set(certificate.levels)
            if let missing = request.levels.first(where: { !offered.contains($0) }) {
                throw RPCError.invalidArgument([.init(field: "levels", description: "certificate \(certificate.code) has no level \(missing)")])
            }
            _ = try await ReferenceStore.school(request.schoolCode, connection, call.logger)
            if scope.organizationID != nil, try await !PilotStore.holdsQualification(request.schoolCode, certificate.code, connection, call.logger) {
                throw RPCError(
                    .failedPrecondition,
                    "school \(request.schoolCode) holds no pilot qualification for \(certificate.code); an organization registers sites only at the certificate's pilot schools",
                    fieldViolations: [.init(field: "school_code", description: "holds no pilot qualification for \(certificate.code)")]
                )
            }
            let inserted = try await connection.query(
                """
                INSERT INTO registry.assessment_sites (school_code, certificate_code, levels, capacity, year_opened, registered_by)
                VALUES (\(request.schoolCode), \(certificate.code), \(CertificateLevel.stored(levels)), \(request.capacity), \(request.yearOpened), \(principal.name))
                ON CONFLICT DO NOTHING RETURNING id
                """,
                logger: call.logger
            )
            for try await id in inserted.decode(Int64.self) {
                return try await Self.sites(ids: [id], scope: .everything, connection, call.logger)[0]
            }
            throw RPCError(.alreadyExists, "school \(request.schoolCode) is already a site of \(certificate.code)")
        }
    }

    @Sendable
    func listSites(_ request: Xcert_Registry_V1_ListSitesRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_ListSitesResponse {
        let principal = try call.caller()
        // Sites are public to the pilot; an organization lists its own.
        let scope = principal.role == .organization ? try Scope(principal) : .everything
        let page = try Paging(request.page, field: "page")
        return try await self.context.database.transaction(call) { connection in
            let sites = try await Self.sites(
                certificateCode: request.certificateCode.nonEmpty, cityCode: request.cityCode.nonEmpty,
                schoolCode: request.schoolCode.nonEmpty, organizationID: request.organizationID == 0 ? nil : request.organizationID,
                yearOpened: request.yearOpened == 0 ? nil : request.yearOpened,
                scope: scope, after: page.after, limit: page.size + 1, connection, call.logger
            )
            var response = Xcert_Registry_V1_ListSitesResponse()
            (response.sites, response.page) = page.cut(sites, id: \.id)
            return response
        }
    }

    @Sendable
    func getSiteCoverage(_ request: Xcert_Registry_V1_GetSiteCoverageRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_GetSiteCoverageResponse {
        let principal = try call.caller()
        let scope = try Scope(principal)
        guard (2019...2100).contains(request.year) else {
            throw RPCError.invalidArgument([.init(field: "year", description: "must be a pilot year, 2019 to 2100")])
        }
        let certificate = request.certificateCode.nonEmpty
        return try await self.context.database.transaction(call) { connection in
            // A city is covered for a certificate by a site at any of its schools opened by that year.
            let rows = try await connection.query(
                """
                SELECT c.code, c.name, ci.code, ci.name, count(DISTINCT q.school_code)
                FROM registry.qualifications q
                JOIN registry.schools s ON s.code = q.school_code
                JOIN registry.cities ci ON ci.code = s.city_code
                JOIN registry.certificates c ON c.code = q.certificate_code
                WHERE q.year = \(request.year) AND q.revoked_at IS NULL
                  AND (\(certificate)::text IS NULL OR q.certificate_code = \(certificate))
                  AND (\(scope.organizationID)::bigint IS NULL OR c.organization_id = \(scope.organizationID))
                  AND NOT EXISTS (
                      SELECT 1 FROM registry.assessment_sites a JOIN registry.schools sa ON sa.code = a.school_code
                      WHERE a.certificate_code = q.certificate_code AND sa.city_code = s.city_code AND a.year_opened <= \(request.year))
                GROUP BY c.code, c.name, ci.code, ci.name ORDER BY c.code, ci.code
                """,
                logger: call.logger
            )
            var response = Xcert_Registry_V1_GetSiteCoverageResponse()
            for try await row in rows.decode((String, String, String, String, Int64).self) {
                var gap = Xcert_Registry_V1_CoverageGap()
                gap.certificateCode = row.0
                gap.certificateName = row.1
                gap.cityCode = row.2
                gap.cityName = row.3
                gap.qualifiedSchools = Int32(row.4)
                response.gaps.append(gap)
            }
            // Each organization: the cities its sites (of any of its certificates) are in.
            let organizations = try await connection.query(
                """
                SELECT o.id, o.name, coalesce(array_agg(DISTINCT s.city_code ORDER BY s.city_code) FILTER (WHERE s.city_code IS NOT NULL), '{}'),
                       (SELECT count(*) FROM registry.cities)
                FROM registry.organizations o
                LEFT JOIN registry.certificates c ON c.organization_id = o.id
                LEFT JOIN registry.assessment_sites a ON a.certificate_code = c.code AND a.year_opened <= \(request.year)
                LEFT JOIN registry.schools s ON s.code = a.school_code
                WHERE \(scope.organizationID)::bigint IS NULL OR o.id = \(scope.organizationID)
                GROUP BY o.id, o.name ORDER BY o.id
                """,
                logger: call.logger
            )
            for try await (id, name, covered, cities) in organizations.decode((Int64, String, [String], Int64).self) {
                var coverage = Xcert_Registry_V1_OrganizationCoverage()
                coverage.organizationID = id
                coverage.organizationName = name
                coverage.coveredCityCodes = covered
                coverage.coveredCities = Int32(covered.count)
                coverage.cities = Int32(cities)
                response.organizations.append(coverage)
            }
            return response
        }
    }

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

    // MARK: - Monitoring points

    @Sendable
    func selectMonitoringPoints(_ request: Xcert_Registry_V1_SelectMonitoringPointsRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_MonitoringPoints {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require((2019...2100).contains(request.year), "year", "must be a pilot year, 2019 to 2100")
        checks.require((0...30).contains(request.target), "target", "must be 0 (about 10) to 30")
        checks.require(request.schoolCodes.count <= 30, "school_codes", "at most 30 schools")
        checks.require(Set(request.schoolCodes).count == request.schoolCodes.count, "school_codes", "lists a school twice")
        try checks.check()
        let target = request.target == 0 ? MonitoringPointPicker.defaultTarget : Int(request.target)
        return try await self.context.idempotency.perform(call) { connection in
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            let candidates = try await Self.candidates(certificate.code, request.year, connection, call.logger)
            guard !candidates.isEmpty else {
                throw RPCError(.failedPrecondition, "no school holds a pilot qualification for \(certificate.code) in \(request.year); there is nobody to monitor")
            }
            let picked: [String]
            if request.schoolCodes.isEmpty {
                picked = MonitoringPointPicker.pick(from: candidates, target: target).map(\.school)
            } else {
                let qualified = Set(candidates.map(\.school))
                var violations = FieldChecks()
                for (index, school) in request.schoolCodes.enumerated() where !qualified.contains(school) {
                    violations.fail("school_codes[\(index)]", "\(school) holds no pilot qualification for \(certificate.code) in \(request.year)")
                }
                try violations.check()
                picked = request.schoolCodes
            }
            try await connection.query("DELETE FROM registry.monitoring_points WHERE certificate_code = \(certificate.code) AND year = \(request.year)", logger: call.logger)
            try await connection.query(
                """
                INSERT INTO registry.monitoring_selections (certificate_code, year, target, selected_by)
                VALUES (\(certificate.code), \(request.year), \(Int32(target)), \(admin.name))
                ON CONFLICT (certificate_code, year) DO UPDATE SET target = excluded.target, selected_by = excluded.selected_by, selected_at = now()
                """,
                logger: call.logger
            )
            try await connection.query(
                "INSERT INTO registry.monitoring_points (certificate_code, year, school_code) SELECT \(certificate.code), \(request.year), unnest(\(picked)::text[])",
                logger: call.logger
            )
            return try await Self.points(certificate.code, request.year, connection, call.logger)
        }
    }

    @Sendable
    func getMonitoringPoints(_ request: Xcert_Registry_V1_GetMonitoringPointsRequest, _ call: RequestContext) async throws -> Xcert_Registry_V1_MonitoringPoints {
        return try await self.context.database.transaction(call) { connection in
            try await Self.points(request.certificateCode, request.year, connection, call.logger)
        }
    }

    /// Schools qualified for the certificate in the year, with their city and scale.
    static func candidates(_ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> [MonitoringPointPicker.Candidate] {
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

    static func points(_ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Registry_V1_MonitoringPoints {
        let selection = try await connection.query(
            "SELECT target FROM registry.monitoring_selections WHERE certificate_code = \(certificate) AND year = \(year)",
            logger: logger
        )
        var target: Int32?
        for try await value in selection.decode(Int32.self) { target = value }
        guard let target else { throw RPCError(.notFound, "no monitoring points are selected for \(certificate) in \(year)") }
        var points = Xcert_Registry_V1_MonitoringPoints()
        points.certificateCode = certificate
        points.year = year
        points.target = target
        let rows = try await connection.query(
            """
            SELECT m.school_code, s.name, s.city_code FROM registry.monitoring_points m JOIN registry.schools s ON s.code = m.school_code
            WHERE m.certificate_code = \(certificate) AND m.year = \(year) ORDER BY s.city_code, m.school_code
            """,
            logger: logger
        )
        for try await (code, name, city) in rows.decode((String, String, String).self) {
            var point = Xcert_Registry_V1_MonitoringPoint()
            point.schoolCode = code
            point.schoolName = name
            point.cityCode = city
            points.points.append(point)
        }
        points.qualifiedSchools = Int32(try await self.candidates(certificate, year, connection, logger).count)
        if points.points.count < Int(target) {
            points.shortfall = "\(points.points.count) monitoring points of the target \(target): "
                + (points.qualifiedSchools < target
                    ? "only \(points.qualifiedSchools) schools hold a pilot qualification for \(certificate) in \(year)"
                    : "the province picked fewer")
        }
        return points
    }
}
