import ArgumentParser
import Foundation
import SwiftProtobuf
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

extension Filing {
    /// `xctl filing report …`: organizations' yearly reports (003 appendix 2).
    struct ReportCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Organizations' yearly reports: submit from JSON, read, withdraw, review.",
            subcommands: [Submit.self, Show.self, List.self, Withdraw.self, Review.self]
        )

        struct Submit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "An organization submits its yearly report; prints it as JSON.",
                discussion:
                    """
                    The report's content is a YearlyReportContent in protobuf JSON (proto field names), e.g. {\"exams\": \
                    [{\"certificate_code\": \"AUTO\", \"level\": \"ELEMENTARY\", \"national\": {...}, \"province\": {...}}], \
                    \"trainings\": [...], ...}.
                    """
            )
            @Option(help: "The report's year.") var year: Int32
            @Option(help: "A file with the YearlyReportContent as protobuf JSON.") var json: String
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_SubmitReportRequest()
                request.year = self.year
                request.content = try readJSON(self.json, as: Xcert_Filing_V1_YearlyReportContent.self)
                try emit(
                    try await self.options.call(
                        Xcert_Filing_V1_ReportService.Method.submitReport, request, idempotencyKey: self.change.idempotencyKey))
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A report, any version, as JSON.")
            @Argument(help: "The report's id.") var id: Int64
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_GetReportRequest()
                request.id = self.id
                try emit(try await self.options.call(Xcert_Filing_V1_ReportService.Method.getReport, request))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Reports (each one's latest version unless --all-versions), all pages.")
            @Option(help: "Only this organization's.") var organization: Int64 = 0
            @Option(help: "Only this year's.") var year: Int32 = 0
            @Flag(help: "Every version, not only the latest.") var allVersions = false
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_ListReportsRequest()
                request.organizationID = self.organization
                request.year = self.year
                request.allVersions = self.allVersions
                let reports = try await allPages { token in
                    request.page.pageToken = token
                    let page = try await self.options.call(Xcert_Filing_V1_ReportService.Method.listReports, request)
                    return (page.reports, page.page.nextPageToken)
                }
                emit(
                    [
                        "id", "organization", "year", "version", "state", "declared", "approved", "completed", "passed", "submitted_at",
                        "review_reason",
                    ],
                    reports.map { report in
                        let province = report.content.exams.map(\.province)
                        return [
                            String(report.id), String(report.organizationID), String(report.year), String(report.version),
                            reportStateName(report.state),
                            String(province.reduce(0) { $0 + $1.declared }), String(province.reduce(0) { $0 + $1.approved }),
                            String(province.reduce(0) { $0 + $1.completed }), String(province.reduce(0) { $0 + $1.passed }),
                            shanghaiTime(report.submittedAt), report.reviewReason,
                        ]
                    },
                    format: self.format
                )
            }
        }

        struct Withdraw: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "An organization withdraws its report awaiting review.")
            @Argument(help: "The report's id.") var id: Int64
            @Option(help: "Why (required).") var reason: String
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_WithdrawReportRequest()
                request.id = self.id
                request.reason = self.reason
                let report = try await self.options.call(
                    Xcert_Filing_V1_ReportService.Method.withdrawReport, request, idempotencyKey: self.change.idempotencyKey)
                print("report \(report.id) (version \(report.version)): \(reportStateName(report.state))")
            }
        }

        struct Review: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: """
                    The province accepts a report or returns it for correction (--reason required, or --with-differences: the \
                    figures the system's records do not back, as `xctl report reconciliation` lists them).
                    """)
            @Argument(help: "The report's id.") var id: Int64
            @Flag(exclusivity: .exclusive, help: "The decision.") var decision: Decision
            @Option(help: "What to correct (required to return, unless --with-differences).") var reason: String = ""
            @Flag(help: "Return it with its differences from the system's figures as the reason (after --reason, if given).")
            var withDifferences = false
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions

            enum Decision: String, EnumerableFlag { case accept, `return` }

            func run() async throws {
                var request = Xcert_Filing_V1_ReviewReportRequest()
                request.id = self.id
                request.accept = self.decision == .accept
                request.reason = self.reason
                request.withDifferences = self.withDifferences
                let report = try await self.options.call(
                    Xcert_Filing_V1_ReportService.Method.reviewReport, request, idempotencyKey: self.change.idempotencyKey)
                print("report \(report.id) (version \(report.version)): \(reportStateName(report.state))")
                if !report.returnedWith.isEmpty { print(report.reviewReason) }
            }
        }
    }
}

func reportStateName(_ state: Xcert_Filing_V1_ReportState) -> String {
    switch state {
    case .submitted: "submitted"
    case .accepted: "accepted"
    case .returned: "returned"
    case .withdrawn: "withdrawn"
    default: "unspecified"
    }
}
