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
    func registerSite(
        _ request: Xcert_Registry_V1_RegisterSiteRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_AssessmentSite {
        let principal = try call.caller()
        let scope = try Scope(principal)
        var checks = FieldChecks()
        checks.require(request.schoolCode.isDigits(10), "school_code", "must be a school's 10-digit national code")
        checks.require(request.certificateCode.isCertificateCode, "certificate_code", "must be a certificate's code, e.g. BIM")
        let levels = request.levels.compactMap(CertificateLevel.init(wire:))
        checks.require(
            !levels.isEmpty && levels.count == request.levels.count, "levels",
            "must list the levels examined there: ELEMENTARY, INTERMEDIATE or ADVANCED")
        checks.require(
            (1...10_000).contains(request.capacity), "capacity", "must be 1 to 10000 candidates per session, not \(request.capacity)")
        // It counts toward indicator 1-5 (new sites this year): never a year still to come.
        let thisYear = Int32(LocalDate(containing: Int64(Date().timeIntervalSince1970)).year)
        checks.require(
            (2019...thisYear).contains(request.yearOpened), "year_opened",
            "must be the year the site opened, 2019 to this year (\(thisYear))")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            if let organization = scope.organizationID, certificate.organizationID != organization {
                throw RPCError(
                    .permissionDenied,
                    "certificate \(certificate.code) is not this organization's; an organization registers sites for its own certificates")
            }
            let offered = Set(certificate.levels)
            if let missing = request.levels.first(where: { !offered.contains($0) }) {
                throw RPCError.invalidArgument([
                    .init(field: "levels", description: "certificate \(certificate.code) has no level \(missing)")
                ])
            }
            _ = try await ReferenceStore.school(request.schoolCode, connection, call.logger)
            if scope.organizationID != nil,
                try await !PilotStore.holdsQualification(request.schoolCode, certificate.code, connection, call.logger)
            {
                throw RPCError(
                    .failedPrecondition,
                    """
                    school \(request.schoolCode) holds no pilot qualification for \(certificate.code); \
                    an organization registers sites only at the certificate's pilot schools
                    """,
                    fieldViolations: [.init(field: "school_code", description: "holds no pilot qualification for \(certificate.code)")]
                )
            }
            guard
                let id = try await SiteStore.addSite(
                    school: request.schoolCode, certificate: certificate.code, levels: levels, capacity: request.capacity,
                    yearOpened: request.yearOpened, registeredBy: principal.name, connection, call.logger
                )
            else {
                throw RPCError(.alreadyExists, "school \(request.schoolCode) is already a site of \(certificate.code)")
            }
            return try await SiteStore.sites(ids: [id], scope: .everything, connection, call.logger)[0]
        }
    }

    @Sendable
    func listSites(
        _ request: Xcert_Registry_V1_ListSitesRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_ListSitesResponse {
        let principal = try call.caller()
        // Sites are public to the pilot; an organization lists its own.
        let scope = principal.role == .organization ? try Scope(principal) : .everything
        let page = try Paging(request.page, field: "page")
        return try await self.context.database.read(call) { connection in
            let sites = try await SiteStore.sites(
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
    func getSiteCoverage(
        _ request: Xcert_Registry_V1_GetSiteCoverageRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_GetSiteCoverageResponse {
        let principal = try call.caller()
        let scope = try Scope(principal)
        try FieldChecks.checkYear(request.year)
        let certificate = request.certificateCode.nonEmpty
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Registry_V1_GetSiteCoverageResponse()
            response.gaps = try await SiteStore.coverageGaps(
                year: request.year, certificate: certificate, scope: scope, connection, call.logger
            )
            // Each organization: the cities its sites (of any of its certificates) are in.
            response.organizations = try await SiteStore.organizationCoverage(year: request.year, scope: scope, connection, call.logger)
            return response
        }
    }

    // MARK: - Monitoring points

    @Sendable
    func selectMonitoringPoints(
        _ request: Xcert_Registry_V1_SelectMonitoringPointsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_MonitoringPoints {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year)
        checks.require((0...30).contains(request.target), "target", "must be 0 (about 10) to 30")
        checks.require(request.schoolCodes.count <= 30, "school_codes", "at most 30 schools")
        checks.require(Set(request.schoolCodes).count == request.schoolCodes.count, "school_codes", "lists a school twice")
        try checks.check()
        let target = request.target == 0 ? MonitoringPointPicker.defaultTarget : Int(request.target)
        return try await self.context.idempotency.perform(call) { connection in
            let certificate = try await ReferenceStore.certificate(request.certificateCode, connection, call.logger)
            let candidates = try await SiteStore.candidates(certificate.code, request.year, connection, call.logger)
            guard !candidates.isEmpty else {
                throw RPCError(
                    .failedPrecondition,
                    "no school holds a pilot qualification for \(certificate.code) in \(request.year); there is nobody to monitor")
            }
            let picked: [String]
            if request.schoolCodes.isEmpty {
                picked = MonitoringPointPicker.pick(from: candidates, target: target).map(\.school)
            } else {
                let qualified = Set(candidates.map(\.school))
                var violations = FieldChecks()
                for (index, school) in request.schoolCodes.enumerated() where !qualified.contains(school) {
                    violations.fail(
                        "school_codes[\(index)]", "\(school) holds no pilot qualification for \(certificate.code) in \(request.year)")
                }
                try violations.check()
                picked = request.schoolCodes
            }
            try await SiteStore.replacePoints(
                certificate.code, request.year, schools: picked, target: Int32(target), selectedBy: admin.name, connection, call.logger
            )
            return try await Self.points(certificate.code, request.year, connection, call.logger)
        }
    }

    @Sendable
    func getMonitoringPoints(
        _ request: Xcert_Registry_V1_GetMonitoringPointsRequest, _ call: RequestContext
    ) async throws -> Xcert_Registry_V1_MonitoringPoints {
        return try await self.context.database.read(call) { connection in
            try await Self.points(request.certificateCode, request.year, connection, call.logger)
        }
    }

    /// The monitoring points selected for `certificate` in `year`, with the qualified schools
    /// and, when short of the target, why.
    static func points(
        _ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_MonitoringPoints {
        guard let target = try await SiteStore.pointsTarget(certificate, year, connection, logger) else {
            throw RPCError(.notFound, "no monitoring points are selected for \(certificate) in \(year)")
        }
        var points = Xcert_Registry_V1_MonitoringPoints()
        points.certificateCode = certificate
        points.year = year
        points.target = target
        points.points = try await SiteStore.points(certificate, year, connection, logger)
        points.qualifiedSchools = Int32(try await SiteStore.candidates(certificate, year, connection, logger).count)
        if points.points.count < Int(target) {
            points.shortfall =
                "\(points.points.count) monitoring points of the target \(target): "
                + (points.qualifiedSchools < target
                    ? "only \(points.qualifiedSchools) schools hold a pilot qualification for \(certificate) in \(year)"
                    : "the province picked fewer")
        }
        return points
    }
}
