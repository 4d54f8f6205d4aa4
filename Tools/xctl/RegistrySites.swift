import ArgumentParser
import Foundation
import XCertAPI
import XCertProto
import XCertWire

/// `xctl sites …`: assessment sites, their coverage, monitoring points and the inspections there.
struct Sites: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sites",
        abstract: "Assessment sites, the cities they leave uncovered, monitoring points and the province's inspections at them.",
        subcommands: [
            Register.self, List.self, Coverage.self, SelectMonitoring.self, Monitoring.self, Inspect.self, FollowUp.self,
            Inspections.self,
        ]
    )

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An organization registers a school as an assessment site of its certificate.")
        @Option(help: "The school's code.") var school: String
        @Option(help: "The certificate's code.") var certificate: String
        @Option(name: .customLong("level"), help: "A level examined there (repeatable).") var levels: [String]
        @Option(help: "Candidates per exam session.") var capacity: Int32
        @Option(help: "The year the site opened.") var yearOpened: Int32
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_RegisterSiteRequest()
            request.schoolCode = self.school
            request.certificateCode = self.certificate
            request.levels = try wireLevels(self.levels)
            request.capacity = self.capacity
            request.yearOpened = self.yearOpened
            let site = try await self.options.call(
                Xcert_Registry_V1_SiteService.Method.registerSite, request, idempotencyKey: self.change.idempotencyKey)
            print("site \(site.id): \(site.schoolName) for \(site.certificateCode)")
        }
    }

    struct List: AsyncParsableCommand {
        @Option(help: "Only this certificate's.") var certificate: String = ""
        @Option(help: "Only this city's.") var city: String = ""
        @Option(help: "Only this organization's.") var organization: Int64 = 0
        @Option(help: "Only those opened in this year.") var yearOpened: Int32 = 0
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            let sites = try await allPages { token in
                var request = Xcert_Registry_V1_ListSitesRequest()
                request.certificateCode = self.certificate
                request.cityCode = self.city
                request.organizationID = self.organization
                request.yearOpened = self.yearOpened
                request.page.pageToken = token
                let page = try await self.options.call(Xcert_Registry_V1_SiteService.Method.listSites, request)
                return (page.sites, page.page.nextPageToken)
            }
            emit(
                ["id", "certificate", "school", "name", "city", "levels", "capacity", "opened"],
                sites.map {
                    [
                        "\($0.id)", $0.certificateCode, $0.schoolCode, $0.schoolName, $0.cityCode, levelNames($0.levels), "\($0.capacity)",
                        "\($0.yearOpened)",
                    ]
                },
                format: self.format
            )
        }
    }

    struct Coverage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cities with qualified schools for a certificate but no site for it (004 item 12).")
        @Option(help: "The pilot year.") var year: Int32
        @Option(help: "Only this certificate.") var certificate: String = ""
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetSiteCoverageRequest()
            request.year = self.year
            request.certificateCode = self.certificate
            let response = try await self.options.call(Xcert_Registry_V1_SiteService.Method.getSiteCoverage, request)
            emit(
                ["certificate", "name", "city", "city name", "qualified schools"],
                response.gaps.map { [$0.certificateCode, $0.certificateName, $0.cityCode, $0.cityName, "\($0.qualifiedSchools)"] },
                format: self.format
            )
        }
    }

    struct SelectMonitoring: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "select-monitoring",
            abstract: "Pick a certificate's monitoring points; without --school the registry proposes about 10, spread over the cities."
        )
        @Argument(help: "The certificate's code.") var certificate: String
        @Option(help: "The pilot year.") var year: Int32
        @Option(name: .customLong("school"), help: "A school to monitor (repeatable).") var schools: [String] = []
        @Option(help: "How many to aim for (0: 10).") var target: Int32 = 0
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_SelectMonitoringPointsRequest()
            request.certificateCode = self.certificate
            request.year = self.year
            request.schoolCodes = self.schools
            request.target = self.target
            let points = try await self.options.call(
                Xcert_Registry_V1_SiteService.Method.selectMonitoringPoints, request, idempotencyKey: self.change.idempotencyKey)
            printPoints(points)
        }
    }

    struct Monitoring: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "monitoring", abstract: "A certificate's monitoring points.")
        @Argument(help: "The certificate's code.") var certificate: String
        @Option(help: "The pilot year.") var year: Int32
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetMonitoringPointsRequest()
            request.certificateCode = self.certificate
            request.year = self.year
            printPoints(try await self.options.call(Xcert_Registry_V1_SiteService.Method.getMonitoringPoints, request))
        }
    }
}

private func printPoints(_ points: Xcert_Registry_V1_MonitoringPoints) {
    emit(["school", "name", "city"], points.points.map { [$0.schoolCode, $0.schoolName, $0.cityCode] }, format: .table)
    print("\(points.points.count) of the target \(points.target); \(points.qualifiedSchools) schools qualified")
    if !points.shortfall.isEmpty { print("shortfall: \(points.shortfall)") }
}
