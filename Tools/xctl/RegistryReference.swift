import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xctl registry …`: the province's reference data.
struct Registry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reference data: the province, cities, reviewing units, schools, organizations, certificates; CSV imports.",
        subcommands: [
            Import.self, ProvinceCommand.self, CityCommand.self, ReviewingUnitCommand.self, CalendarCommand.self, SchoolCommand.self,
            OrganizationCommand.self, CertificateCommand.self,
        ]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CSV file (UTF-8, Chinese or English headers); any bad row and nothing is imported.",
            discussion:
                """
                Kinds: cities, reviewing-bureaus, calendar-days, schools, organizations, certificates. See data/reference/README.md for \
                the columns.
                """
        )
        @Argument(help: "cities, reviewing-bureaus, calendar-days, schools, organizations or certificates.") var kind: String
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Check the file and count what would change, without changing anything.") var dryRun = false
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions

        func run() async throws {
            var request = Xcert_Registry_V1_ImportRequest()
            switch self.kind {
            case "cities": request.kind = .cities
            case "schools": request.kind = .schools
            case "organizations": request.kind = .organizations
            case "certificates": request.kind = .certificates
            case "reviewing-bureaus": request.kind = .reviewingBureaus
            case "calendar-days": request.kind = .calendarDays
            default:
                throw ValidationError(
                    "the kind must be cities, reviewing-bureaus, calendar-days, schools, organizations or certificates, not \(self.kind)")
            }
            guard let data = FileManager.default.contents(atPath: self.file) else { throw CLIError("cannot read \(self.file)") }
            request.csv = data
            request.dryRun = self.dryRun
            let response = try await self.options.call(
                Xcert_Registry_V1_ReferenceDataService.Method.import, request, idempotencyKey: self.change.idempotencyKey)
            print(
                """
                \(self.dryRun ? "would import" : "imported") \(self.kind) from \(self.file): \(response.created) created, \
                \(response.updated) updated, \(response.unchanged) unchanged
                """
            )
        }
    }

    // MARK: - Province and cities

    struct ProvinceCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "province", abstract: "The province this installation serves.", subcommands: [Show.self, Set.self])

        struct Show: AsyncParsableCommand {
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                let province = try await self.options.call(
                    Xcert_Registry_V1_ReferenceDataService.Method.getProvince, Xcert_Registry_V1_GetProvinceRequest())
                print("\(province.code)\t\(province.name)")
            }
        }

        struct Set: AsyncParsableCommand {
            @Option(help: "The 2-digit code, e.g. 36.") var code: String
            @Option(help: "The name, e.g. 江西省.") var name: String
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_SetProvinceRequest()
                request.province.code = self.code
                request.province.name = self.name
                let province = try await self.options.call(
                    Xcert_Registry_V1_ReferenceDataService.Method.setProvince, request, idempotencyKey: self.change.idempotencyKey)
                print("province \(province.code) \(province.name)")
            }
        }
    }

    struct CityCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "city", abstract: "Prefecture-level cities.", subcommands: [Create.self, Update.self, Show.self, List.self])

        struct Fields: ParsableArguments {
            @Option(help: "The 6-digit code, e.g. 360100.") var code: String
            @Option(help: "The name, e.g. 南昌市.") var name: String
            var city: Xcert_Registry_V1_City {
                var city = Xcert_Registry_V1_City()
                city.code = self.code
                city.name = self.name
                return city
            }
        }

        struct Create: AsyncParsableCommand {
            @OptionGroup var fields: Fields
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_CreateCityRequest()
                request.city = self.fields.city
                let city = try await self.options.call(
                    Xcert_Registry_V1_ReferenceDataService.Method.createCity, request, idempotencyKey: self.change.idempotencyKey)
                print("created city \(city.code) \(city.name)")
            }
        }

        struct Update: AsyncParsableCommand {
            @OptionGroup var fields: Fields
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_UpdateCityRequest()
                request.city = self.fields.city
                let city = try await self.options.call(
                    Xcert_Registry_V1_ReferenceDataService.Method.updateCity, request, idempotencyKey: self.change.idempotencyKey)
                print("updated city \(city.code) \(city.name)")
            }
        }

        struct Show: AsyncParsableCommand {
            @Argument(help: "The city's code.") var code: String
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_GetCityRequest()
                request.code = self.code
                let city = try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.getCity, request)
                print("\(city.code)\t\(city.name)")
            }
        }

        struct List: AsyncParsableCommand {
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                let cities = try await allPages { token in
                    var request = Xcert_Registry_V1_ListCitiesRequest()
                    request.page.pageToken = token
                    let page = try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.listCities, request)
                    return (page.cities, page.page.nextPageToken)
                }
                emit(["code", "name"], cities.map { [$0.code, $0.name] }, format: self.format)
            }
        }
    }

    // MARK: - Reviewing units

    struct ReviewingUnitCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reviewing-unit",
            abstract: "Reviewing units (审核单位): the cities and the bureaus the province designates to review schools beside them.",
            subcommands: [Create.self, Rename.self, List.self]
        )

        struct Fields: ParsableArguments {
            @Option(help: "The bureau's 6-digit code (not a city's), e.g. 369001.") var code: String
            @Option(help: "The name, e.g. 赣江新区社会发展局.") var name: String
            var bureau: Xcert_Registry_V1_ReviewingUnit {
                var bureau = Xcert_Registry_V1_ReviewingUnit()
                bureau.code = self.code
                bureau.name = self.name
                return bureau
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Designate a bureau as a reviewing unit.")
            @OptionGroup var fields: Fields
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_CreateReviewingBureauRequest()
                request.bureau = self.fields.bureau
                let bureau = try await self.options.call(
                    Xcert_Registry_V1_ReferenceDataService.Method.createReviewingBureau, request, idempotencyKey: self.change.idempotencyKey
                )
                print("designated reviewing bureau \(bureau.code) \(bureau.name)")
            }
        }

        struct Rename: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Rename a designated bureau.")
            @OptionGroup var fields: Fields
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_UpdateReviewingBureauRequest()
                request.bureau = self.fields.bureau
                let bureau = try await self.options.call(
                    Xcert_Registry_V1_ReferenceDataService.Method.updateReviewingBureau, request, idempotencyKey: self.change.idempotencyKey
                )
                print("renamed reviewing bureau \(bureau.code) \(bureau.name)")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every reviewing unit with the secondary schools under it.")
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                let units = try await allPages { token in
                    var request = Xcert_Registry_V1_ListReviewingUnitsRequest()
                    request.page.pageToken = token
                    let page = try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.listReviewingUnits, request)
                    return (page.units, page.page.nextPageToken)
                }
                emit(
                    ["code", "name", "kind", "secondary_schools"],
                    units.map { [$0.code, $0.name, $0.designated ? "designated bureau" : "city", "\($0.secondarySchools)"] },
                    format: self.format)
            }
        }
    }

    // MARK: - Working-day calendar

    struct CalendarCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "calendar",
            abstract: "The working-day calendar: holidays on weekdays (休) and weekend days made working days (调休上班).",
            subcommands: [Set.self, List.self])

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set days; a day set again is replaced.")
            @Option(name: .customLong("holiday"), help: "A holiday, YYYY-MM-DD or YYYY-MM-DD:NOTE (repeatable).") var holidays: [String] =
                []
            @Option(name: .customLong("working"), help: "A weekend day made a working day, YYYY-MM-DD[:NOTE] (repeatable).")
            var workingDays: [String] = []
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_SetCalendarDaysRequest()
                for (items, working) in [(self.holidays, false), (self.workingDays, true)] {
                    for item in items {
                        let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                        var day = Xcert_Registry_V1_CalendarDay()
                        day.day = try wireDate(parts[0], option: working ? "--working" : "--holiday")
                        day.working = working
                        day.note = parts.count > 1 ? parts[1] : ""
                        request.days.append(day)
                    }
                }
                guard !request.days.isEmpty else { throw ValidationError("give at least one --holiday or --working day") }
                let response = try await self.options.call(
                    Xcert_Registry_V1_ReferenceDataService.Method.setCalendarDays, request, idempotencyKey: self.change.idempotencyKey)
                print("\(response.set) of \(request.days.count) days changed")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A year's listed days.")
            @Option(help: "The year.") var year: Int32
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_ListCalendarDaysRequest()
                request.year = self.year
                let days = try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.listCalendarDays, request).days
                emit(
                    ["day", "kind", "note"], days.map { [dateText($0.day), $0.working ? "班" : "休", $0.note] }, format: self.format)
            }
        }
    }

    // MARK: - Schools

    struct SchoolCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "school", abstract: "Schools: create, update, show, list, record an irregularity.",
            subcommands: [Create.self, Update.self, Show.self, List.self, RecordIrregularity.self]
        )

        struct Fields: ParsableArguments {
            @Option(help: "The 10-digit national school code.") var code: String
            @Option(help: "The name.") var name: String
            @Option(help: "中职, 高职, 职业本科, 应用型本科, 国家开放大学, 技工学校 (or the English names).") var type: String
            @Option(help: "The city's 6-digit code.") var city: String
            @Option(help: "A designated bureau that reviews it instead of its city (审核单位), by code.") var reviewingUnit: String = ""
            @Option(help: "All its specialties: the base of the 40 % cap.") var specialtyCount: Int32
            @Option(help: "Its enrolled students: the base of the 30 % cap.") var enrolledStudents: Int32
            @Option(name: .customLong("specialty"), help: "A specialty it may pilot with, \"CODE NAME\" (repeatable).") var specialties:
                [String] = []
            @Option(name: .customLong("honour"), help: "An honour such as 国家示范（骨干）院校 (repeatable).") var honours: [String] = []

            func school() throws -> Xcert_Registry_V1_School {
                var school = Xcert_Registry_V1_School()
                school.code = self.code
                school.name = self.name
                guard let type = SchoolType(name: self.type) else {
                    throw ValidationError("--type must be a school type, e.g. 高职 or higher_vocational; not \(self.type)")
                }
                school.type = type.wire
                school.cityCode = self.city
                school.reviewingUnitCode = self.reviewingUnit
                school.specialtyCount = self.specialtyCount
                school.enrolledStudents = self.enrolledStudents
                school.specialties = self.specialties.map { item in
                    let parts = item.split(separator: " ", maxSplits: 1)
                    var specialty = Xcert_Registry_V1_Specialty()
                    specialty.code = parts.first.map(String.init) ?? ""
                    specialty.name = parts.count > 1 ? String(parts[1]) : ""
                    return specialty
                }
                school.honours = self.honours
                return school
            }
        }

        struct Create: AsyncParsableCommand {
            @OptionGroup var fields: Fields
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_CreateSchoolRequest()
                request.school = try self.fields.school()
                try emit(
                    try await self.options.call(
                        Xcert_Registry_V1_ReferenceDataService.Method.createSchool, request, idempotencyKey: self.change.idempotencyKey))
            }
        }

        struct Update: AsyncParsableCommand {
            @OptionGroup var fields: Fields
            @Option(help: "Update only if the school is still at this version (0: whatever it is).") var expectedVersion: Int64 = 0
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_UpdateSchoolRequest()
                request.school = try self.fields.school()
                request.expectedVersion = self.expectedVersion
                try emit(
                    try await self.options.call(
                        Xcert_Registry_V1_ReferenceDataService.Method.updateSchool, request, idempotencyKey: self.change.idempotencyKey))
            }
        }

        struct Show: AsyncParsableCommand {
            @Argument(help: "The school's code.") var code: String
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_GetSchoolRequest()
                request.code = self.code
                try emit(try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.getSchool, request))
            }
        }

        struct List: AsyncParsableCommand {
            @Option(help: "Only this city's.") var city: String = ""
            @Option(help: "Only those under this reviewing unit (审核单位).") var reviewingUnit: String = ""
            @Option(help: "Only this type.") var type: String?
            @Option(help: "Only names containing this.") var nameContains: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                let type = try self.type.map { name -> Xcert_Common_V1_SchoolType in
                    guard let type = SchoolType(name: name) else { throw ValidationError("--type must be a school type, not \(name)") }
                    return type.wire
                }
                let schools = try await allPages { token in
                    var request = Xcert_Registry_V1_ListSchoolsRequest()
                    request.cityCode = self.city
                    request.reviewingUnitCode = self.reviewingUnit
                    request.type = type ?? .unspecified
                    request.nameContains = self.nameContains
                    request.page.pageToken = token
                    let page = try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.listSchools, request)
                    return (page.schools, page.page.nextPageToken)
                }
                emit(
                    ["code", "name", "type", "city", "reviewing_unit", "specialties", "students", "irregularities"],
                    schools.map {
                        [
                            $0.code, $0.name, SchoolType(wire: $0.type)?.chineseName ?? "", $0.cityCode, $0.reviewingUnitCode,
                            "\($0.specialtyCount)",
                            "\($0.enrolledStudents)", "\($0.irregularities.count)",
                        ]
                    },
                    format: self.format
                )
            }
        }

        struct RecordIrregularity: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record an irregularity; the school may then not apply to lead an alliance.")
            @Argument(help: "The school's code.") var code: String
            @Option(help: "training_or_facilities, funds_misused, reform_defects or other.") var kind: String
            @Option(help: "What happened.") var description: String
            @Option(help: "The pilot year.") var year: Int32
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_RecordIrregularityRequest()
                request.schoolCode = self.code
                switch self.kind {
                case "training_or_facilities": request.kind = .trainingOrFacilities
                case "funds_misused": request.kind = .fundsMisused
                case "reform_defects": request.kind = .reformDefects
                case "other": request.kind = .other
                default: throw ValidationError("--kind must be training_or_facilities, funds_misused, reform_defects or other")
                }
                request.description_p = self.description
                request.year = self.year
                let school = try await self.options.call(
                    Xcert_Registry_V1_ReferenceDataService.Method.recordIrregularity, request, idempotencyKey: self.change.idempotencyKey)
                print("school \(school.code) has \(school.irregularities.count) recorded irregularities")
            }
        }
    }

    // MARK: - Organizations

    struct OrganizationCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "organization", abstract: "Training & evaluation organizations and the province's oversight of them.",
            subcommands: [
                Create.self, Update.self, Show.self, List.self, RecordIrregularity.self, Suspend.self, Reinstate.self, Exit.self,
                Oversight.self,
            ]
        )

        struct Fields: ParsableArguments {
            @Option(help: "The name.") var name: String
            @Option(name: .customLong("contact"), help: "A contact, \"NAME;OFFICE PHONE;MOBILE;EMAIL\" (repeatable).") var contacts:
                [String] = []
            @Option(help: "Fax.") var fax: String = ""
            @Option(help: "Postal address.") var address: String = ""
            @Option(help: "Postcode.") var postcode: String = ""

            func organization() -> Xcert_Registry_V1_Organization {
                var organization = Xcert_Registry_V1_Organization()
                organization.name = self.name
                organization.contacts = self.contacts.map { text in
                    let parts = text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
                    var contact = Xcert_Registry_V1_Contact()
                    contact.name = parts[0]
                    contact.officePhone = parts.count > 1 ? parts[1] : ""
                    contact.mobile = parts.count > 2 ? parts[2] : ""
                    contact.email = parts.count > 3 ? parts[3] : ""
                    return contact
                }
                organization.fax = self.fax
                organization.address = self.address
                organization.postcode = self.postcode
                return organization
            }
        }

        struct Create: AsyncParsableCommand {
            @OptionGroup var fields: Fields
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_CreateOrganizationRequest()
                request.organization = self.fields.organization()
                try emit(
                    try await self.options.call(
                        Xcert_Registry_V1_ReferenceDataService.Method.createOrganization, request,
                        idempotencyKey: self.change.idempotencyKey))
            }
        }

        struct Update: AsyncParsableCommand {
            @Argument(help: "The organization's id.") var id: Int64
            @OptionGroup var fields: Fields
            @Option(help: "Update only if it is still at this version (0: whatever it is).") var expectedVersion: Int64 = 0
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_UpdateOrganizationRequest()
                request.organization = self.fields.organization()
                request.organization.id = self.id
                request.expectedVersion = self.expectedVersion
                try emit(
                    try await self.options.call(
                        Xcert_Registry_V1_ReferenceDataService.Method.updateOrganization, request,
                        idempotencyKey: self.change.idempotencyKey))
            }
        }

        struct Show: AsyncParsableCommand {
            @Argument(help: "The organization's id.") var id: Int64
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_GetOrganizationRequest()
                request.id = self.id
                try emit(try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.getOrganization, request))
            }
        }

        struct List: AsyncParsableCommand {
            @Option(help: "Only names containing this.") var nameContains: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                let organizations = try await allPages { token in
                    var request = Xcert_Registry_V1_ListOrganizationsRequest()
                    request.nameContains = self.nameContains
                    request.page.pageToken = token
                    let page = try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.listOrganizations, request)
                    return (page.organizations, page.page.nextPageToken)
                }
                emit(
                    ["id", "name", "standing", "contacts"],
                    organizations.map {
                        [
                            "\($0.id)", $0.name, OrganizationStanding(wire: $0.standing)?.rawValue ?? "",
                            $0.contacts.map { "\($0.name) \($0.mobile)" }.joined(separator: "; "),
                        ]
                    },
                    format: self.format
                )
            }
        }
    }

    // MARK: - Certificates

    struct CertificateCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "certificate", abstract: "Vocational skill level certificates.",
            subcommands: [Create.self, Update.self, Show.self, List.self]
        )

        struct Fields: ParsableArguments {
            @Option(help: "The code, e.g. BIM.") var code: String
            @Option(help: "The name.") var name: String
            @Option(help: "1 (首批) to 4; 0 when not recorded.") var batch: Int32 = 0
            @Option(name: .customLong("level"), help: "A level: 初级/elementary, 中级/intermediate, 高级/advanced (repeatable).") var levels:
                [String]
            @Option(help: "The owning organization's id (0: not recorded).") var organization: Int64 = 0
            @Option(
                name: .customLong("component"),
                help: "A scoring component, \"NAME:WEIGHT\", e.g. 理论:40 (repeatable; none: the province default 理论:40 实操:60).")
            var components: [String] = []
            @Option(help: "The pass mark out of 100 (default 60).") var passMark: Int32 = 60

            func certificate() throws -> Xcert_Registry_V1_Certificate {
                var certificate = Xcert_Registry_V1_Certificate()
                certificate.code = self.code
                certificate.name = self.name
                certificate.batch = self.batch
                certificate.levels = try wireLevels(self.levels)
                certificate.organizationID = self.organization
                if !self.components.isEmpty || self.passMark != 60 {
                    let components =
                        self.components.isEmpty
                        ? ScoringRule.provinceDefault.components.map { "\($0.name):\($0.weightPercent)" } : self.components
                    certificate.scoring.components = try components.map { text in
                        let parts = text.split(separator: ":")
                        guard parts.count == 2, let weight = Int32(parts[1]) else {
                            throw ValidationError("--component takes NAME:WEIGHT, not \(text)")
                        }
                        var component = Xcert_Registry_V1_ScoringComponent()
                        component.name = String(parts[0])
                        component.weightPercent = weight
                        return component
                    }
                    certificate.scoring.passMark = self.passMark
                }
                return certificate
            }
        }

        struct Create: AsyncParsableCommand {
            @OptionGroup var fields: Fields
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_CreateCertificateRequest()
                request.certificate = try self.fields.certificate()
                try emit(
                    try await self.options.call(
                        Xcert_Registry_V1_ReferenceDataService.Method.createCertificate, request, idempotencyKey: self.change.idempotencyKey
                    ))
            }
        }

        struct Update: AsyncParsableCommand {
            @OptionGroup var fields: Fields
            @Option(help: "Update only if it is still at this version (0: whatever it is).") var expectedVersion: Int64 = 0
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_UpdateCertificateRequest()
                request.certificate = try self.fields.certificate()
                request.expectedVersion = self.expectedVersion
                try emit(
                    try await self.options.call(
                        Xcert_Registry_V1_ReferenceDataService.Method.updateCertificate, request, idempotencyKey: self.change.idempotencyKey
                    ))
            }
        }

        struct Show: AsyncParsableCommand {
            @Argument(help: "The certificate's code.") var code: String
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_GetCertificateRequest()
                request.code = self.code
                try emit(try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.getCertificate, request))
            }
        }

        struct List: AsyncParsableCommand {
            @Option(help: "Only this organization's.") var organization: Int64 = 0
            @Option(help: "Only this batch.") var batch: Int32 = 0
            @Option(help: "Only names containing this.") var nameContains: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                let certificates = try await allPages { token in
                    var request = Xcert_Registry_V1_ListCertificatesRequest()
                    request.organizationID = self.organization
                    request.batch = self.batch
                    request.nameContains = self.nameContains
                    request.page.pageToken = token
                    let page = try await self.options.call(Xcert_Registry_V1_ReferenceDataService.Method.listCertificates, request)
                    return (page.certificates, page.page.nextPageToken)
                }
                emit(
                    ["code", "name", "batch", "levels", "organization", "scoring"],
                    certificates.map { certificate in
                        [
                            certificate.code, certificate.name, certificate.batch == 0 ? "" : "\(certificate.batch)",
                            levelNames(certificate.levels), certificate.organizationName,
                            certificate.scoring.components.map { "\($0.name) \($0.weightPercent)%" }.joined(separator: " + ")
                                + ", pass \(certificate.scoring.passMark)",
                        ]
                    },
                    format: self.format
                )
            }
        }
    }
}

/// Levels named on the command line as wire levels.
func wireLevels(_ names: [String]) throws -> [Xcert_Common_V1_CertificateLevel] {
    try names.flatMap { $0.split(separator: ",") }.map { name in
        guard let level = CertificateLevel(name: String(name)) else {
            throw ValidationError("a level is 初级/elementary, 中级/intermediate or 高级/advanced; not \(name)")
        }
        return level.wire
    }
}

/// Wire levels in Chinese, e.g. `初级、中级`.
func levelNames(_ levels: [Xcert_Common_V1_CertificateLevel]) -> String {
    levels.compactMap { CertificateLevel(wire: $0)?.chineseName }.joined(separator: "、")
}
