import ArgumentParser
import Foundation
import XCertAPI
import XCertProto
import XCertWire

/// `xctl alliance …`: certificate alliances and their lead-school selection.
struct Alliance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Certificate alliances and the selection of their lead schools.",
        subcommands: [List.self, Show.self, Selection.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every certificate's alliance in a year, with its school count.")
        @Option(help: "The pilot year.") var year: Int32
        @Flag(help: "Only those with fewer than 10 schools (not open to lead-school selection).") var notOpen = false
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_ListAlliancesRequest()
            request.year = self.year
            request.onlyNotOpen = self.notOpen
            let response = try await self.options.call(Xcert_Registry_V1_AllianceService.Method.listAlliances, request)
            emit(
                ["certificate", "name", "schools", "applied", "lead selection"],
                response.alliances.map {
                    [
                        $0.certificateCode, $0.certificateName, "\($0.schoolCount)", "\($0.applicantCount)",
                        $0.openToLeadSelection ? "open" : "not open (fewer than 10 applied)",
                    ]
                },
                format: self.format
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One alliance: its schools and final leads.")
        @Argument(help: "The certificate's code.") var certificate: String
        @Option(help: "The pilot year.") var year: Int32
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetAllianceRequest()
            request.certificateCode = self.certificate
            request.year = self.year
            try emit(try await self.options.call(Xcert_Registry_V1_AllianceService.Method.getAlliance, request))
        }
    }

    struct Selection: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                """
                Lead-school selection: open → apply (opinion, recommend) → close → score → name-leads → finalize; assign and adjust \
                leads.
                """,
            subcommands: [
                Open.self, Show.self, Apply.self, Opinion.self, Recommend.self, Close.self, Score.self, NameLeads.self, Finalize.self,
                Assign.self, Adjust.self,
            ]
        )

        struct Target: ParsableArguments {
            @Argument(help: "The certificate's code.") var certificate: String
            @Option(help: "The pilot year.") var year: Int32
        }

        /// The leads a command names: one primary, the others beside it.
        struct Leads: ParsableArguments {
            @Option(help: "The primary lead school's code.") var primary: String
            @Option(name: .customLong("lead"), help: "Another lead school's code (repeatable).") var others: [String] = []

            var schools: [Xcert_Registry_V1_LeadSchool] {
                ([(self.primary, true)] + self.others.map { ($0, false) }).map { code, primary in
                    var lead = Xcert_Registry_V1_LeadSchool()
                    lead.schoolCode = code
                    lead.primary = primary
                    return lead
                }
            }
        }

        struct Open: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Issue the notice: schools may apply until the closing date.",
                discussion:
                    """
                    With --merge, certificates with fewer than 10 applying schools are merged by specialty category into one selection \
                    (000 第五条): together at least 10; the schools of every merged alliance may apply and the leads lead them all.
                    """)
            @OptionGroup var target: Target
            @Option(help: "Last day of applications, YYYY-MM-DD (Asia/Shanghai).") var applicationsClose: String
            @Option(name: .customLong("merge"), help: "Another small certificate of the group (repeatable).") var merged: [String] = []
            @Option(help: "The specialty category (专业大类) of a merged group, e.g. 交通运输大类.") var specialtyCategory: String = ""
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_OpenLeadSelectionRequest()
                request.certificateCode = self.target.certificate
                request.year = self.target.year
                let parts = self.applicationsClose.split(separator: "-").compactMap { Int32($0) }
                guard parts.count == 3 else { throw ValidationError("--applications-close takes YYYY-MM-DD") }
                request.applicationsClose.year = parts[0]
                request.applicationsClose.month = parts[1]
                request.applicationsClose.day = parts[2]
                request.mergedCertificateCodes = self.merged
                request.specialtyCategory = self.specialtyCategory
                try emit(
                    try await self.options.call(
                        Xcert_Registry_V1_AllianceService.Method.openLeadSelection, request, idempotencyKey: self.change.idempotencyKey))
            }
        }

        struct Show: AsyncParsableCommand {
            @OptionGroup var target: Target
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_GetLeadSelectionRequest()
                request.certificateCode = self.target.certificate
                request.year = self.target.year
                try emit(try await self.options.call(Xcert_Registry_V1_AllianceService.Method.getLeadSelection, request))
            }
        }

        struct Apply: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A school applies to lead (the form of 000 appendix 2).")
            @OptionGroup var target: Target
            @Option(help: "The school's code.") var school: String
            @Option(help: "联系人.") var contactPerson: String
            @Option(help: "联系方式.") var contactPhone: String
            @Option(help: "通信地址.") var address: String
            @Option(help: "三、基本情况 (≤ 500 characters).") var profile: String
            @Option(help: "四、1+X实施情况 (≤ 500 characters).") var implementation: String
            @Option(name: .customLong("advantage"), help: "五、优势, one preference item (repeatable).") var advantages: [String] = []
            @Option(help: "六、拟开展工作计划.") var workPlan: String
            @Flag(help: "七、院校承诺: signed by the school's head.") var commitmentSigned = false
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_SubmitLeadApplicationRequest()
                request.certificateCode = self.target.certificate
                request.year = self.target.year
                request.schoolCode = self.school
                request.form.contactPerson = self.contactPerson
                request.form.contactPhone = self.contactPhone
                request.form.address = self.address
                request.form.schoolProfile = self.profile
                request.form.implementation = self.implementation
                request.form.advantages = self.advantages
                request.form.workPlan = self.workPlan
                request.form.commitmentSigned = self.commitmentSigned
                let application = try await self.options.call(
                    Xcert_Registry_V1_AllianceService.Method.submitLeadApplication, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    "lead application \(application.id) of \(application.schoolCode) for \(application.certificateCode) \(application.year)"
                )
            }
        }

        struct Close: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Close applications; experts may score.")
            @OptionGroup var target: Target
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_CloseLeadApplicationsRequest()
                request.certificateCode = self.target.certificate
                request.year = self.target.year
                let selection = try await self.options.call(
                    Xcert_Registry_V1_AllianceService.Method.closeLeadApplications, request, idempotencyKey: self.change.idempotencyKey)
                print("\(selection.applications.count) applications go to expert review")
            }
        }

        struct Score: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Record an expert's score of a lead application.")
            @Argument(help: "The lead application's id.") var application: Int64
            @Option(help: "The expert's name.") var expert: String
            @Option(help: "0 to 100.") var score: Int32
            @Option(help: "A comment.") var comment: String = ""
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_RecordExpertScoreRequest()
                request.applicationID = self.application
                request.expert = self.expert
                request.score = self.score
                request.comment = self.comment
                let application = try await self.options.call(
                    Xcert_Registry_V1_AllianceService.Method.recordExpertScore, request, idempotencyKey: self.change.idempotencyKey)
                let average = application.averageScore
                print(
                    """
                    application \(application.id): \(application.scores.count) scores, average \
                    \(average.denominator == 0 ? "-" : String(format: "%.2f", Double(average.numerator) / Double(average.denominator)))
                    """
                )
            }
        }

        struct NameLeads: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Name at most 3 lead schools, exactly one primary; the public notice starts.")
            @OptionGroup var target: Target
            @OptionGroup var leads: Leads
            @Option(help: "Days of public notice (公示).") var noticeDays: Int32 = 7
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_NameLeadSchoolsRequest()
                request.certificateCode = self.target.certificate
                request.year = self.target.year
                request.leads = self.leads.schools
                request.noticeDays = self.noticeDays
                let selection = try await self.options.call(
                    Xcert_Registry_V1_AllianceService.Method.nameLeadSchools, request, idempotencyKey: self.change.idempotencyKey)
                print("leads named; public notice until \(shanghaiTime(selection.noticeEndsAt))")
            }
        }

        struct Finalize: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Publish the result once the public notice has run.")
            @OptionGroup var target: Target
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: RegistryOptions
            func run() async throws {
                var request = Xcert_Registry_V1_FinalizeLeadSelectionRequest()
                request.certificateCode = self.target.certificate
                request.year = self.target.year
                let selection = try await self.options.call(
                    Xcert_Registry_V1_AllianceService.Method.finalizeLeadSelection, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    "final: "
                        + selection.leads.map { "\($0.schoolCode) \($0.schoolName)\($0.primary ? " (primary)" : "")" }.joined(
                            separator: ", "))
            }
        }
    }
}
