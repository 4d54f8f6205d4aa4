import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xctl pilot …`: schools' pilot applications, their review, qualifications.
struct Pilot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pilot applications, reviews, qualifications and their change feed.",
        subcommands: [Apply.self, Review.self, Show.self, List.self, Qualification.self, Qualifications.self, Revoke.self, Changes.self]
    )

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A school applies to pilot a certificate in a year.")
        @Option(help: "The school's code.") var school: String
        @Option(help: "The certificate's code.") var certificate: String
        @Option(help: "The pilot year.") var year: Int32
        @Option(name: .customLong("level"), help: "A level (repeatable, or comma-separated).") var levels: [String]
        @Option(name: .customLong("specialty"), help: "A specialty code of the school (repeatable).") var specialties: [String]
        @Option(help: "The students planned for the pilot.") var scale: Int32
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions

        func run() async throws {
            var request = Xcert_Registry_V1_SubmitApplicationRequest()
            request.schoolCode = self.school
            request.certificateCode = self.certificate
            request.year = self.year
            request.levels = try wireLevels(self.levels)
            request.specialtyCodes = self.specialties
            request.studentScale = self.scale
            let application = try await self.options.call(
                Xcert_Registry_V1_PilotService.Method.submitApplication, request, idempotencyKey: self.change.idempotencyKey)
            print("application \(application.id): \(stateName(application.state))")
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide an application's current step (city reviewer: the city step; province admin: the province step).")
        @Argument(help: "The application's id.") var id: Int64
        @Flag(exclusivity: .exclusive, help: "The decision.") var decision: Decision
        @Option(help: "Why (required to reject).") var reason: String = ""
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions

        enum Decision: String, EnumerableFlag { case approve, reject }

        func run() async throws {
            var request = Xcert_Registry_V1_ReviewApplicationRequest()
            request.applicationID = self.id
            request.approve = self.decision == .approve
            request.reason = self.reason
            let application = try await self.options.call(
                Xcert_Registry_V1_PilotService.Method.reviewApplication, request, idempotencyKey: self.change.idempotencyKey)
            print(
                "application \(application.id): \(stateName(application.state))"
                    + (application.qualificationID == 0 ? "" : ", qualification \(application.qualificationID)"))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An application with its reviews.")
        @Argument(help: "The application's id.") var id: Int64
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetApplicationRequest()
            request.id = self.id
            try emit(try await self.options.call(Xcert_Registry_V1_PilotService.Method.getApplication, request))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Applications the caller may see.")
        @Option(help: "Only this school's.") var school: String = ""
        @Option(help: "Only this certificate's.") var certificate: String = ""
        @Option(help: "Only this year's.") var year: Int32 = 0
        @Option(help: "Only this city's schools.") var city: String = ""
        @Option(help: "awaiting_city_review, awaiting_province_review, approved or rejected.") var state: String?
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions

        func run() async throws {
            let state = try self.state.map { name -> Xcert_Registry_V1_ApplicationState in
                guard let state = states.first(where: { stateName($0) == name }) else {
                    throw ValidationError("--state must be one of \(states.map(stateName).joined(separator: ", "))")
                }
                return state
            }
            let applications = try await allPages { token in
                var request = Xcert_Registry_V1_ListApplicationsRequest()
                request.schoolCode = self.school
                request.certificateCode = self.certificate
                request.year = self.year
                request.cityCode = self.city
                request.state = state ?? .unspecified
                request.page.pageToken = token
                let page = try await self.options.call(Xcert_Registry_V1_PilotService.Method.listApplications, request)
                return (page.applications, page.page.nextPageToken)
            }
            emit(
                ["id", "school", "certificate", "year", "levels", "scale", "state", "submitted"],
                applications.map {
                    [
                        "\($0.id)", $0.schoolCode, $0.certificateCode, "\($0.year)", levelNames($0.levels), "\($0.studentScale)",
                        stateName($0.state), shanghaiTime($0.submittedAt),
                    ]
                },
                format: self.format
            )
        }
    }

    struct Qualification: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One pilot qualification, with its revocation if any.")
        @Argument(help: "The qualification's id.") var id: Int64
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetQualificationRequest()
            request.id = self.id
            try emit(try await self.options.call(Xcert_Registry_V1_PilotService.Method.getQualification, request))
        }
    }

    struct Qualifications: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pilot qualifications the caller may see.")
        @Option(help: "Only this school's.") var school: String = ""
        @Option(help: "Only this certificate's.") var certificate: String = ""
        @Option(help: "Only this year's.") var year: Int32 = 0
        @Option(help: "Only this city's schools.") var city: String = ""
        @Flag(help: "Include revoked qualifications.") var includeRevoked = false
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions

        func run() async throws {
            let qualifications = try await allPages { token in
                var request = Xcert_Registry_V1_ListQualificationsRequest()
                request.schoolCode = self.school
                request.certificateCode = self.certificate
                request.year = self.year
                request.cityCode = self.city
                request.includeRevoked = self.includeRevoked
                request.page.pageToken = token
                let page = try await self.options.call(Xcert_Registry_V1_PilotService.Method.listQualifications, request)
                return (page.qualifications, page.page.nextPageToken)
            }
            emit(
                ["id", "school", "city", "certificate", "year", "levels", "scale", "granted", "revoked", "reason"],
                qualifications.map {
                    [
                        "\($0.id)", $0.schoolCode, $0.cityCode, $0.certificateCode, "\($0.year)", levelNames($0.levels),
                        "\($0.studentScale)",
                        shanghaiTime($0.grantedAt), $0.hasRevokedAt ? shanghaiTime($0.revokedAt) : "", $0.revocationReason,
                    ]
                },
                format: self.format
            )
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a pilot qualification (exit mechanism); it stays on record, marked revoked.")
        @Argument(help: "The qualification's id.") var id: Int64
        @Option(help: "Which rule was broken (required).") var reason: String
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_RevokeQualificationRequest()
            request.qualificationID = self.id
            request.reason = self.reason
            let qualification = try await self.options.call(
                Xcert_Registry_V1_PilotService.Method.revokeQualification, request, idempotencyKey: self.change.idempotencyKey)
            print(
                """
                revoked qualification \(qualification.id) of school \(qualification.schoolCode) for \(qualification.certificateCode) \
                \(qualification.year)
                """
            )
        }
    }

    struct Changes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The qualification change feed after a cursor, oldest first.")
        @Option(help: "The cursor to read after (0: from the beginning).") var after: Int64 = 0
        @Option(help: "At most this many (up to 1000).") var limit: Int32 = 100
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_ListQualificationChangesRequest()
            request.after = self.after
            request.limit = self.limit
            let response = try await self.options.call(Xcert_Registry_V1_PilotService.Method.listQualificationChanges, request)
            emit(
                ["cursor", "kind", "qualification", "school", "certificate", "year", "at"],
                response.changes.map {
                    [
                        "\($0.cursor)", $0.kind == .created ? "created" : "revoked", "\($0.qualification.id)", $0.qualification.schoolCode,
                        $0.qualification.certificateCode, "\($0.qualification.year)", shanghaiTime($0.changedAt),
                    ]
                },
                format: self.format
            )
            FileHandle.standardError.write(Data("next cursor: \(response.nextCursor)\n".utf8))
        }
    }
}

private let states: [Xcert_Registry_V1_ApplicationState] = [.awaitingCityReview, .awaitingProvinceReview, .approved, .rejected]

func stateName(_ state: Xcert_Registry_V1_ApplicationState) -> String {
    switch state {
    case .awaitingCityReview: "awaiting_city_review"
    case .awaitingProvinceReview: "awaiting_province_review"
    case .approved: "approved"
    case .rejected: "rejected"
    default: "unspecified"
    }
}
