import ArgumentParser
import Foundation
import XCertDomain
import XCertProto
import XCertService

/// Options shared by the commands that call the assessment service.
struct AssessmentOptions: ServiceOptions {
    @Option(help: "The assessment service, host:port.") var assessment: String = "127.0.0.1:7103"
    @OptionGroup var credentials: Credentials
    @Option(help: "The call's deadline in milliseconds.") var timeoutMs: Int = 30_000

    static let package = "xcert.assessment.v1"
    var address: String { self.assessment }
}

/// `xctl assessment …`: exam outcomes, their rates, and 003's reports.
struct Assessment: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exam outcomes and rates, 003's appendix table 1, how far assessment has followed its feeds.",
        subcommands: [Outcomes.self, Report.self, Following.self]
    )

    struct Outcomes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Outcomes per school, certificate, level and year, with participation and pass rates.")
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
            let response = try await self.options.call("OutcomeService/ListOutcomes", request, as: Xcert_Assessment_V1_ListOutcomesResponse.self)
            let rows = (response.outcomes + [response.total]).map { outcome in
                [outcome.schoolCode.isEmpty ? "合计" : outcome.schoolCode, outcome.certificateCode, outcome.level == .unspecified ? "" : levelNames([outcome.level]),
                 outcome.year == 0 ? "" : String(outcome.year), String(outcome.declared), String(outcome.approved), String(outcome.completed), String(outcome.passed),
                 rateText(outcome.participationRate), rateText(outcome.passRate)]
            }
            emit(["school", "certificate", "level", "year", "declared", "approved", "completed", "passed", "participation_rate", "pass_rate"], rows, format: self.format)
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "003's reports.", subcommands: [Declarations.self])

        struct Declarations: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Appendix table 1: declaration and assessment per pilot school (江西省各试点院校申报考核明细汇总表).")
            @Option(help: "The year.") var year: Int32
            @Option(help: "Only this certificate's.") var certificate: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: AssessmentOptions
            func run() async throws {
                var request = Xcert_Assessment_V1_GetDeclarationTableRequest()
                request.year = self.year
                request.certificateCode = self.certificate
                let response = try await self.options.call("OutcomeService/GetDeclarationTable", request, as: Xcert_Assessment_V1_GetDeclarationTableResponse.self)
                let rows = response.lines.enumerated().map { index, line in
                    [String(index + 1), line.certificateName.isEmpty ? line.certificateCode : line.certificateName, levelNames([line.level]),
                     line.schoolName.isEmpty ? line.schoolCode : line.schoolName,
                     String(line.declared), String(line.approved), String(line.completed), String(line.passed), rateText(line.passRate)]
                } + [["合计", "", "", "", String(response.total.declared), String(response.total.approved), String(response.total.completed),
                      String(response.total.passed), rateText(response.total.passRate)]]
                emit(["序号", "证书名称", "级别", "试点院校名称", "申报人数", "获批人数", "完成考核人数", "通过人数", "通过率"], rows, format: self.format)
            }
        }
    }

    struct Following: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How far assessment has followed filing's rosters and registry's qualifications.")
        @OptionGroup var options: AssessmentOptions
        func run() async throws {
            try emit(try await self.options.call("OutcomeService/GetFollowing", Xcert_Assessment_V1_GetFollowingRequest(), as: Xcert_Assessment_V1_GetFollowingResponse.self))
        }
    }
}

/// An exact rate as a percentage with two decimals, or `no data`.
private func rateText(_ rate: Xcert_Assessment_V1_RateOrNoData) -> String {
    rate.hasValue ? Rate(rate.value.numerator, over: rate.value.denominator).percentage() : Rate(0, over: 0).percentage()
}
