import ArgumentParser
import Foundation
import SwiftProtobuf
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Options shared by the commands that call the assessment service.
struct AssessmentOptions: ServiceOptions {
    @Option(help: "The assessment service, host:port.") var assessment: String = "127.0.0.1:7103"
    @OptionGroup var credentials: Credentials
    @Option(help: "The call's deadline in milliseconds.") var timeoutMs: Int = 30_000

    var address: String { self.assessment }
}

/// `xctl assessment …`: exam outcomes, their rates, and 003's reports.
struct Assessment: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exam outcomes and rates, 003's appendix table 1, how far assessment has followed its feeds.",
        subcommands: [
            Outcomes.self, Report.self, Following.self, SchemeCommand.self, EvaluationCommand.self, Results.self, Organizations.self,
            Rebuild.self,
        ]
    )

    struct Outcomes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Outcomes per school, certificate, level and year, with participation and pass rates.")
        @Option(help: "Only this school's.") var school: String = ""
        @Option(help: "Only this certificate's.") var certificate: String = ""
        @Option(help: "Only this level.") var level: String?
        @Option(help: "Only this year's.") var year: Int32 = 0
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: AssessmentOptions
        func run() async throws {
            var request = Xcert_Assessment_V1_ListOutcomesRequest()
            request.schoolCode = self.school
            request.certificateCode = self.certificate
            if let level = self.level { request.level = try wireLevels([level]).first ?? .unspecified }
            request.year = self.year
            let response = try await self.options.call(Xcert_Assessment_V1_OutcomeService.Method.listOutcomes, request)
            let rows = (response.outcomes + [response.total]).map { outcome in
                [
                    outcome.schoolCode.isEmpty ? "合计" : outcome.schoolCode, outcome.certificateCode,
                    outcome.level == .unspecified ? "" : levelNames([outcome.level]),
                    outcome.year == 0 ? "" : String(outcome.year), String(outcome.declared), String(outcome.approved),
                    String(outcome.completed), String(outcome.passed),
                    rateText(outcome.participationRate), rateText(outcome.passRate),
                ]
            }
            emit(
                [
                    "school", "certificate", "level", "year", "declared", "approved", "completed", "passed", "participation_rate",
                    "pass_rate",
                ], rows, format: self.format)
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "003's reports.", subcommands: [Declarations.self, Scorecard.self])

        struct Scorecard: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A school's scorecard (the same as `evaluation show`).")
            @OptionGroup var scorecard: ScorecardOptions
            func run() async throws {
                try await self.scorecard.print()
            }
        }

        struct Declarations: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Appendix table 1: declaration and assessment per pilot school (江西省各试点院校申报考核明细汇总表).")
            @Option(help: "The year.") var year: Int32
            @Option(help: "Only this certificate's.") var certificate: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_GetDeclarationTableRequest()
                request.year = self.year
                request.certificateCode = self.certificate
                let response = try await self.options.call(Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, request)
                ReportTables.declarations(response).write(chineseHeaders: true, format: self.format)
            }
        }
    }

    struct Results: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The year's results: totals, ranks within school type, tiers and exit warnings.")
        @Option(help: "The evaluated year.") var year: Int32
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: AssessmentOptions
        func run() async throws {
            var request = Xcert_Assessment_V1_ListResultsRequest()
            request.year = self.year
            let response = try await self.options.call(Xcert_Assessment_V1_ResultService.Method.listResults, request)
            ReportTables.results(response).write(chineseHeaders: false, format: self.format)
        }
    }

    struct Organizations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                """
                Per organization: the pass rate of each of its certificate levels, and the share of the province's cities its sites are in.
                """
        )
        @Option(help: "The year.") var year: Int32
        @Option(help: "Only this organization's (an organization sees only its own).") var organization: Int64 = 0
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: AssessmentOptions
        func run() async throws {
            var request = Xcert_Assessment_V1_ListOrganizationResultsRequest()
            request.year = self.year
            request.organizationID = self.organization
            let response = try await self.options.call(
                Xcert_Assessment_V1_ResultService.Method.listOrganizationResults, request
            )
            let rows = response.organizations.flatMap { organization in
                let coverage = "\(organization.coveredCities)/\(organization.cities) (\(rateText(organization.cityCoverage)))"
                return organization.passRates.map { rate in
                    [
                        String(organization.organizationID), organization.organizationName, rate.certificateCode, levelNames([rate.level]),
                        String(rate.completed), String(rate.passed), rateText(rate.passRate), coverage,
                    ]
                }
            }
            emit(
                ["organization", "name", "certificate", "level", "completed", "passed", "pass_rate", "cities_covered"], rows,
                format: self.format)
        }
    }

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                """
                Forget the outcomes and follow filing's rosters and registry's qualifications again from their start (after a fix); watch \
                `following`.
                """
        )
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: AssessmentOptions
        func run() async throws {
            let following = try await self.options.call(
                Xcert_Assessment_V1_OutcomeService.Method.rebuildOutcomes, Xcert_Assessment_V1_RebuildOutcomesRequest(),
                idempotencyKey: self.change.idempotencyKey
            )
            print(
                """
                outcomes forgotten; following again from the start (roster cursor \(following.rosterCursor), qualification cursor \
                \(following.qualificationCursor))
                """
            )
        }
    }

    struct Following: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How far assessment has followed filing's rosters and registry's qualifications.")
        @OptionGroup var options: AssessmentOptions
        func run() async throws {
            try emit(
                try await self.options.call(
                    Xcert_Assessment_V1_OutcomeService.Method.getFollowing, Xcert_Assessment_V1_GetFollowingRequest()))
        }
    }
}

extension Assessment {
    /// `xctl assessment scheme …`: the evaluation schemes per year.
    struct SchemeCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scheme",
            abstract: "Evaluation schemes: the default template, drafts from JSON, publishing (which freezes a version), reading.",
            subcommands: [Template.self, Create.self, Update.self, Publish.self, Show.self, List.self]
        )

        struct Template: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "003's indicator table as the default template: a table, a CSV, or --json to edit and create from.")
            @Flag(help: "Print the template as JSON (a Scheme, proto field names).") var json = false
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                let scheme = try await self.options.call(
                    Xcert_Assessment_V1_SchemeService.Method.getDefaultTemplate, Xcert_Assessment_V1_GetDefaultTemplateRequest())
                if self.json { try emit(scheme) } else { emitIndicators(scheme, format: self.format) }
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "A new draft version for a year: from --json FILE (a Scheme whose indicators are used), else the default template.")
            @Option(help: "The evaluated year.") var year: Int32
            @Option(help: "A Scheme in protobuf JSON; its indicators are taken.") var json: String?
            @Option(help: "What this version changes.") var note: String = ""
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_CreateSchemeRequest()
                request.year = self.year
                request.note = self.note
                if let file = self.json { request.indicators = try readScheme(file).indicators }
                let scheme = try await self.options.call(
                    Xcert_Assessment_V1_SchemeService.Method.createScheme, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    """
                    scheme \(scheme.year) version \(scheme.version): draft, \(scheme.indicators.count) indicators, \
                    \(pointsText(scheme.totalMaxPointsTenths)) points + \(pointsText(scheme.bonusMaxPointsTenths)) bonus
                    """
                )
            }
        }

        struct Update: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Replace a draft's indicators from --json FILE; a published version is frozen.")
            @Option(help: "The evaluated year.") var year: Int32
            @Option(help: "The draft's version.") var version: Int32
            @Option(help: "A Scheme in protobuf JSON; its indicators are taken.") var json: String
            @Option(help: "What this version changes.") var note: String = ""
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_UpdateSchemeRequest()
                request.year = self.year
                request.version = self.version
                request.indicators = try readScheme(self.json).indicators
                request.note = self.note
                let scheme = try await self.options.call(
                    Xcert_Assessment_V1_SchemeService.Method.updateScheme, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    """
                    scheme \(scheme.year) version \(scheme.version): draft, \(pointsText(scheme.totalMaxPointsTenths)) points + \
                    \(pointsText(scheme.bonusMaxPointsTenths)) bonus
                    """
                )
            }
        }

        struct Publish: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Publish a draft: it is in use from now on and frozen.")
            @Option(help: "The evaluated year.") var year: Int32
            @Option(help: "The draft's version.") var version: Int32
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_PublishSchemeRequest()
                request.year = self.year
                request.version = self.version
                let scheme = try await self.options.call(
                    Xcert_Assessment_V1_SchemeService.Method.publishScheme, request, idempotencyKey: self.change.idempotencyKey)
                print("scheme \(scheme.year) version \(scheme.version): published")
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A year's scheme in use (or --version N) as a table, a CSV or JSON.")
            @Option(help: "The evaluated year.") var year: Int32
            @Option(help: "A version; 0: the one in use.") var version: Int32 = 0
            @Flag(help: "Print it as JSON.") var json = false
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_GetSchemeRequest()
                request.year = self.year
                request.version = self.version
                let scheme = try await self.options.call(Xcert_Assessment_V1_SchemeService.Method.getScheme, request)
                if self.json { try emit(scheme) } else { emitIndicators(scheme, format: self.format) }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every version of the schemes, oldest first.")
            @Option(help: "Only this year's.") var year: Int32 = 0
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_ListSchemesRequest()
                request.year = self.year
                let response = try await self.options.call(Xcert_Assessment_V1_SchemeService.Method.listSchemes, request)
                emit(
                    ["year", "version", "state", "indicators", "points", "bonus", "note"],
                    response.schemes.map {
                        [
                            String($0.year), String($0.version), $0.state == .published ? "published" : "draft",
                            String($0.indicators.count),
                            pointsText($0.totalMaxPointsTenths), pointsText($0.bonusMaxPointsTenths), $0.note,
                        ]
                    },
                    format: self.format
                )
            }
        }
    }
}

extension Assessment {
    /// `xctl assessment evaluation …`: a school's self-evaluation, the province's review, the scorecard.
    struct EvaluationCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "evaluation",
            abstract: "A school's self-evaluation and the province's review, from JSON; its scorecard as a table or CSV.",
            subcommands: [Submit.self, Review.self, Show.self, Calendar.self]
        )

        /// Whose evaluation, and the file of scores.
        struct ScoresInput: ParsableArguments {
            @Option(help: "The school's code.") var school: String
            @Option(help: "The evaluated year.") var year: Int32
            @Option(help: "The scores as JSON.") var json: String
        }

        struct Submit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "A school submits its self-scores and its self-evaluation report (again, until the review or its due day).",
                discussion:
                    """
                    FILE is a SubmitSelfEvaluationRequest's scores in protobuf JSON: {\"scores\": [{\"code\": \"2-1\", \"points_tenths\": \
                    40, \"evidence\": [{\"name\": \"…pdf\", \"sha256\": \"…\"}]}]}. The 自评报告 comes from --report-file (or the \
                    JSON's \"report\"), its attachments from --attachment, each recorded by name, size and SHA-256.
                    """
            )
            @OptionGroup var input: ScoresInput
            @Option(help: "A UTF-8 text file: the self-evaluation report (自评报告).") var reportFile: String?
            @Option(
                name: .customLong("attachment"), help: "A file attached to the report (repeatable): its name, size and SHA-256 are sent.")
            var attachments: [String] = []
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = try readJSON(self.input.json, as: Xcert_Assessment_V1_SubmitSelfEvaluationRequest.self)
                request.schoolCode = self.input.school
                request.year = self.input.year
                if let reportFile = self.reportFile {
                    request.report = try String(contentsOfFile: reportFile, encoding: .utf8)
                }
                request.attachments += try self.attachments.map { try attachment($0) }
                let evaluation = try await self.options.call(
                    Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    """
                    evaluation of \(evaluation.schoolCode) for \(evaluation.year) (scheme version \(evaluation.schemeVersion)): \
                    self-scored \(pointsText(evaluation.selfTotalTenths)), computed \(pointsText(evaluation.computedTotalTenths))
                    """
                )
            }
        }

        struct Review: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The province scores every manual item; the review locks the evaluation.",
                discussion:
                    "FILE is {\"scores\": [{\"code\": \"2-1\", \"points_tenths\": 30, \"comment\": \"…\"}, …]} covering every manual item."
            )
            @OptionGroup var input: ScoresInput
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = try readJSON(self.input.json, as: Xcert_Assessment_V1_ReviewEvaluationRequest.self)
                request.schoolCode = self.input.school
                request.year = self.input.year
                let evaluation = try await self.options.call(
                    Xcert_Assessment_V1_EvaluationService.Method.reviewEvaluation, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    """
                    evaluation of \(evaluation.schoolCode) for \(evaluation.year): locked, final \
                    \(pointsText(evaluation.finalTotalTenths)) (self-scored \(pointsText(evaluation.selfTotalTenths)), reviewed \
                    \(pointsText(evaluation.reviewedTotalTenths)), computed \(pointsText(evaluation.computedTotalTenths)))
                    """
                )
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "A school's scorecard: every item with its maximum, self-score, review, difference and final points, and the totals.")
            @OptionGroup var scorecard: ScorecardOptions
            func run() async throws {
                try await self.scorecard.print()
            }
        }
    }
}

extension Assessment.EvaluationCommand {
    /// `xctl assessment evaluation calendar …`: the year's due day for self-evaluations (003:
    /// 4/1) and schools' extensions.
    struct Calendar: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The year's due day for self-evaluations (003: materials due 4/1) and the schools' extensions.",
            subcommands: [SetDueDay.self, Extend.self, Show.self]
        )

        struct SetDueDay: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "set",
                abstract: "The province sets (or moves) the year's due day; submissions after its end (Asia/Shanghai) are refused.")
            @Option(help: "The evaluated year.") var year: Int32
            @Option(help: "The due day, YYYY-MM-DD (in the evaluated year or the next).") var due: String
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_SetEvaluationCalendarRequest()
                request.year = self.year
                request.dueOn = try wireDate(self.due, option: "--due")
                let calendar = try await self.options.call(
                    Xcert_Assessment_V1_EvaluationService.Method.setEvaluationCalendar, request, idempotencyKey: self.change.idempotencyKey)
                Calendar.print(calendar, format: .table)
            }
        }

        struct Extend: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The province extends one school's due day, with why.")
            @Option(help: "The school's code.") var school: String
            @Option(help: "The evaluated year.") var year: Int32
            @Option(help: "The school's new due day, YYYY-MM-DD (after the year's).") var due: String
            @Option(help: "Why.") var reason: String
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_ExtendEvaluationDueRequest()
                request.schoolCode = self.school
                request.year = self.year
                request.dueOn = try wireDate(self.due, option: "--due")
                request.reason = self.reason
                let calendar = try await self.options.call(
                    Xcert_Assessment_V1_EvaluationService.Method.extendEvaluationDue, request, idempotencyKey: self.change.idempotencyKey)
                Calendar.print(calendar, format: .table)
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The year's due day and every extension (a school: its own).")
            @Option(help: "The evaluated year.") var year: Int32
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_GetEvaluationCalendarRequest()
                request.year = self.year
                Calendar.print(
                    try await self.options.call(Xcert_Assessment_V1_EvaluationService.Method.getEvaluationCalendar, request),
                    format: self.format)
            }
        }

        /// The year's due day, then one row per extension.
        static func print(_ calendar: Xcert_Assessment_V1_EvaluationCalendar, format: OutputFormat) {
            emit(
                ["school", "due_on", "reason", "by"],
                [["(all)", dateText(calendar.dueOn), "", calendar.setBy]]
                    + calendar.extensions.map { [$0.schoolCode, dateText($0.dueOn), $0.reason, $0.grantedBy] },
                format: format)
        }
    }
}

/// What `evaluation show` and `report scorecard` print: a school's scorecard.
struct ScorecardOptions: ParsableArguments {
    @Option(help: "The school's code.") var school: String
    @Option(help: "The evaluated year.") var year: Int32
    @Option(help: "table or csv.") var format: OutputFormat = .table
    @OptionGroup var options: AssessmentOptions

    func print() async throws {
        var request = Xcert_Assessment_V1_GetEvaluationRequest()
        request.schoolCode = self.school
        request.year = self.year
        let evaluation = try await self.options.call(Xcert_Assessment_V1_EvaluationService.Method.getEvaluation, request)
        let rows =
            evaluation.items.map { item -> [String] in
                let basis: String
                if item.computed {
                    basis =
                        !item.pendingReason.isEmpty
                        ? item.pendingReason
                        : item.hasMeasure
                            ? "computed: \(Rate(item.measure.numerator, over: item.measure.denominator).percentage())"
                            : item.count > 0 ? "computed: \(item.count)" : "computed: none or no data"
                } else {
                    basis = item.reviewComment
                }
                return [
                    item.code, item.name, pointsText(item.maxPointsTenths), item.computed ? "" : pointsText(item.selfPointsTenths),
                    item.reviewed ? pointsText(item.reviewedPointsTenths) : "", item.reviewed ? pointsText(item.differenceTenths) : "",
                    pointsText(item.finalPointsTenths), basis,
                ]
            } + [
                [
                    "合计", "", "", pointsText(evaluation.selfTotalTenths), pointsText(evaluation.reviewedTotalTenths), "",
                    pointsText(evaluation.finalTotalTenths),
                    evaluation.state == .locked ? "reviewed by \(evaluation.reviewer)" : "awaiting review",
                ]
            ]
        emit(["code", "indicator", "max", "self", "reviewed", "difference", "final", "basis"], rows, format: self.format)
    }
}

private func readScheme(_ file: String) throws -> Xcert_Assessment_V1_Scheme {
    try readJSON(file, as: Xcert_Assessment_V1_Scheme.self)
}

/// A scheme's indicators: code, first level, name, maximum points, how it is scored.
private func emitIndicators(_ scheme: Xcert_Assessment_V1_Scheme, format: OutputFormat) {
    let rows = scheme.indicators.map { indicator -> [String] in
        let scoring: String
        switch indicator.rule {
        case .rateRule(let rule)?:
            scoring =
                """
                \(Rate(Int64(rule.lowBasisPoints), over: 10_000).percentage()) → \
                \(Rate(Int64(rule.highBasisPoints), over: 10_000).percentage())
                """
        case .countRule(let rule)?:
            scoring = "\(pointsText(rule.pointsTenthsPerUnit)) per unit"
        case nil:
            scoring = indicator.bonus ? "manual, bonus" : "manual"
        }
        return [indicator.code, indicator.firstLevel, indicator.name, pointsText(indicator.maxPointsTenths), scoring]
    }
    emit(["code", "first_level", "name", "max_points", "scoring"], rows, format: format)
}

/// An exact rate as a percentage with two decimals, or `no data`.
func rateText(_ rate: Xcert_Assessment_V1_RateOrNoData) -> String {
    rate.hasValue ? Rate(rate.value.numerator, over: rate.value.denominator).percentage() : Rate(0, over: 0).percentage()
}
