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
        subcommands: [
            Apply.self, Review.self, Show.self, List.self, Overdue.self, Window.self, Teams.self, Qualification.self, Qualifications.self,
            Revoke.self, Changes.self,
        ]
    )

    struct Window: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Application windows (申报时间): applications are accepted only inside one the province opened.",
            subcommands: [Set.self, List.self])

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Open a window, or change the days of one.")
            @Option(help: "The pilot year.") var year: Int32
            @Option(help: "The window's number in its year, 1 to 20.") var number: Int32
            @Option(help: "Its first day, YYYY-MM-DD (Asia/Shanghai).") var opens: String
            @Option(help: "Its last day, YYYY-MM-DD: open to 23:59:59 +08:00 of it.") var closes: String
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_SetApplicationWindowRequest()
                request.year = self.year
                request.number = self.number
                request.opens = try wireDate(self.opens, option: "--opens")
                request.closes = try wireDate(self.closes, option: "--closes")
                let window = try await self.options.call(
                    Xcert_Registry_V1_PilotService.Method.setApplicationWindow, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    "application window \(window.number) of \(window.year): \(dateText(window.opens)) to \(window.closingInstant)"
                        + (window.open ? " (open now)" : ""))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A year's windows.")
            @Option(help: "The pilot year.") var year: Int32
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_ListApplicationWindowsRequest()
                request.year = self.year
                let windows = try await self.options.call(Xcert_Registry_V1_PilotService.Method.listApplicationWindows, request).windows
                emit(
                    ["year", "number", "opens", "closes", "open", "set_by"],
                    windows.map {
                        ["\($0.year)", "\($0.number)", dateText($0.opens), $0.closingInstant, $0.open ? "yes" : "no", $0.setBy]
                    },
                    format: self.format)
            }
        }
    }

    struct Teams: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Specialties' teaching teams: at least 50 % 双师型, 20 % industry experts and 3 years of enrolment to pilot.",
            subcommands: [Set.self, List.self])

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Record teams of a school's specialties (the others stay).")
            @Option(help: "The school's code.") var school: String
            @Option(
                name: .customLong("team"),
                help: "SPECIALTY:TEACHERS:DUAL-QUALIFIED:INDUSTRY-EXPERTS:YEARS-ENROLLED, e.g. 500211:12:7:3:5 (repeatable).")
            var teams: [String]
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_SetTeachingTeamsRequest()
                request.schoolCode = self.school
                request.teams = try self.teams.map { text in
                    let parts = text.split(separator: ":").map(String.init)
                    let counts = parts.dropFirst().compactMap { Int32($0) }
                    guard parts.count == 5, counts.count == 4 else {
                        throw ValidationError(
                            "--team takes SPECIALTY:TEACHERS:DUAL-QUALIFIED:INDUSTRY-EXPERTS:YEARS, e.g. 500211:12:7:3:5; not \(text)")
                    }
                    var team = Xcert_Registry_V1_TeachingTeam()
                    team.specialtyCode = parts[0]
                    (team.teachers, team.dualQualifiedTeachers, team.industryExperts, team.continuousEnrolmentYears) =
                        (counts[0], counts[1], counts[2], counts[3])
                    return team
                }
                let response = try await self.options.call(
                    Xcert_Registry_V1_PilotService.Method.setTeachingTeams, request, idempotencyKey: self.change.idempotencyKey)
                Teams.emitTeams(response.teams, format: self.format)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A school's recorded teams.")
            @Option(help: "The school's code.") var school: String
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_ListTeachingTeamsRequest()
                request.schoolCode = self.school
                Teams.emitTeams(
                    try await self.options.call(Xcert_Registry_V1_PilotService.Method.listTeachingTeams, request).teams, format: self.format
                )
            }
        }

        static func emitTeams(_ teams: [Xcert_Registry_V1_TeachingTeam], format: OutputFormat) {
            emit(
                ["specialty", "teachers", "dual_qualified", "industry_experts", "years_enrolled", "eligible", "recorded_by"],
                teams.map {
                    [
                        $0.specialtyCode, "\($0.teachers)", "\($0.dualQualifiedTeachers)", "\($0.industryExperts)",
                        "\($0.continuousEnrolmentYears)", $0.eligible ? "yes" : "no", $0.recordedBy,
                    ]
                },
                format: format)
        }
    }

    struct Overdue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Reviews overdue per reviewing unit: secondary schools' applications still awaiting their unit 5 working days after \
                their window closed.
                """)
        @Option(help: "Only this year's.") var year: Int32 = 0
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            let applications = try await allPages { token in
                var request = Xcert_Registry_V1_ListApplicationsRequest()
                request.year = self.year
                request.overdueOnly = true
                request.page.pageToken = token
                let page = try await self.options.call(Xcert_Registry_V1_PilotService.Method.listApplications, request)
                return (page.applications, page.page.nextPageToken)
            }
            let byUnit = Dictionary(grouping: applications, by: \.reviewingUnitCode).sorted { $0.key < $1.key }
            emit(
                ["reviewing_unit", "overdue", "earliest_due", "applications"],
                byUnit.map { unit, pending in
                    let due = pending.map { dateText($0.reviewDue) }.min() ?? ""
                    return [unit, "\(pending.count)", due, pending.map { "\($0.id)" }.joined(separator: " ")]
                },
                format: self.format)
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A school applies to pilot a certificate in a year.")
        @Option(help: "The school's code.") var school: String
        @Option(help: "The certificate's code.") var certificate: String
        @Option(help: "The pilot year.") var year: Int32
        @Option(name: .customLong("level"), help: "A level (repeatable, or comma-separated).") var levels: [String]
        @Option(name: .customLong("specialty"), help: "A specialty code of the school (repeatable).") var specialties: [String]
        @Option(help: "The students planned for the pilot.") var scale: Int32
        @Option(help: "The school's pilot work plan (实施方案) for the certificate: recorded by name, size and SHA-256.") var workPlan: String
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
            request.workPlan = try attachment(self.workPlan)
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
        @Option(help: "Only the schools under this reviewing unit (审核单位: a city's or a designated bureau's code).")
        var reviewingUnit: String = ""
        @Option(help: "awaiting_city_review, awaiting_province_review, approved or rejected.") var state: String?
        @Flag(help: "Only those whose reviewing unit's review is overdue.") var overdue = false
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
                request.reviewingUnitCode = self.reviewingUnit
                request.overdueOnly = self.overdue
                request.state = state ?? .unspecified
                request.page.pageToken = token
                let page = try await self.options.call(Xcert_Registry_V1_PilotService.Method.listApplications, request)
                return (page.applications, page.page.nextPageToken)
            }
            emit(
                ["id", "school", "reviewing_unit", "certificate", "year", "levels", "scale", "state", "submitted", "review_due"],
                applications.map {
                    [
                        "\($0.id)", $0.schoolCode, $0.reviewingUnitCode, $0.certificateCode, "\($0.year)", levelNames($0.levels),
                        "\($0.studentScale)",
                        stateName($0.state), shanghaiTime($0.submittedAt),
                        $0.hasReviewDue ? dateText($0.reviewDue) + ($0.reviewOverdue ? " (overdue)" : "") : "",
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
        @Option(help: "Only the schools under this reviewing unit (审核单位).") var reviewingUnit: String = ""
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
                request.reviewingUnitCode = self.reviewingUnit
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
