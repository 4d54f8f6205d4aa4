import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService

/// `xctl sites inspect|follow-up|inspections`: the province's inspections at monitoring points
/// (004 第19条).
extension Sites {
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record an inspection at a monitoring point: a finding per item of the organization's agreement.")
        @Argument(help: "The certificate's code.") var certificate: String
        @Option(help: "The pilot year of the monitoring points.") var year: Int32
        @Option(help: "The monitoring point's school code.") var school: String
        @Option(help: "The day inspected, YYYY-MM-DD in Asia/Shanghai.") var on: String
        @Option(help: "Who inspected.") var inspector: String
        @Option(
            name: .customLong("finding"),
            help: "ITEM:yes|no:WHAT WAS FOUND, whether the organization fulfils that item of its agreement (repeatable).")
        var findings: [String]
        @Option(help: "What the organization must do (required when an item is not fulfilled).") var followUp: String = ""
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_RecordInspectionRequest()
            request.inspection.certificateCode = self.certificate
            request.inspection.year = self.year
            request.inspection.schoolCode = self.school
            request.inspection.inspectedOn = try wireDate(self.on, option: "--on")
            request.inspection.inspector = self.inspector
            request.inspection.findings = try self.findings.map { text in
                let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 3, ["yes", "no"].contains(parts[1]) else {
                    throw ValidationError("--finding takes ITEM:yes|no:WHAT WAS FOUND, not \(text)")
                }
                var finding = Xcert_Registry_V1_InspectionFinding()
                finding.agreementItem = parts[0]
                finding.compliant = parts[1] == "yes"
                finding.finding = parts[2]
                return finding
            }
            request.inspection.followUp = self.followUp
            let inspection = try await self.options.call(
                Xcert_Registry_V1_OversightService.Method.recordInspection, request, idempotencyKey: self.change.idempotencyKey)
            printInspections([inspection], format: .table)
        }
    }

    struct FollowUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "follow-up", abstract: "Note what the organization did about an inspection's findings (整改情况).")
        @Argument(help: "The inspection's id.") var inspection: Int64
        @Option(help: "The day, YYYY-MM-DD in Asia/Shanghai.") var on: String
        @Option(help: "What the organization did.") var note: String
        @Flag(help: "The findings are dealt with.") var resolved = false
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_RecordFollowUpRequest()
            request.inspectionID = self.inspection
            request.note.notedOn = try wireDate(self.on, option: "--on")
            request.note.note = self.note
            request.note.resolved = self.resolved
            let inspection = try await self.options.call(
                Xcert_Registry_V1_OversightService.Method.recordFollowUp, request, idempotencyKey: self.change.idempotencyKey)
            printInspections([inspection], format: .table)
        }
    }

    struct Inspections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The inspections at monitoring points (an organization: of its agreements; a school: made at it).")
        @Option(help: "Only this year's.") var year: Int32 = 0
        @Option(help: "Only this certificate's.") var certificate: String = ""
        @Option(help: "Only this organization's.") var organization: Int64 = 0
        @Option(help: "Only those at this school.") var school: String = ""
        @Flag(help: "Only those whose findings are not resolved yet.") var unresolvedOnly = false
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            let inspections = try await allPages { token in
                var request = Xcert_Registry_V1_ListInspectionsRequest()
                request.year = self.year
                request.certificateCode = self.certificate
                request.organizationID = self.organization
                request.schoolCode = self.school
                request.unresolvedOnly = self.unresolvedOnly
                request.page.pageToken = token
                let page = try await self.options.call(Xcert_Registry_V1_OversightService.Method.listInspections, request)
                return (page.inspections, page.page.nextPageToken)
            }
            printInspections(inspections, format: self.format)
        }
    }
}

private func printInspections(_ inspections: [Xcert_Registry_V1_Inspection], format: OutputFormat) {
    emit(
        ["id", "certificate", "school", "organization", "day", "inspector", "findings", "not_fulfilled", "follow_up", "resolved"],
        inspections.map { inspection in
            [
                "\(inspection.id)", inspection.certificateCode, inspection.schoolCode, inspection.organizationName,
                dateText(inspection.inspectedOn), inspection.inspector, "\(inspection.findings.count)",
                inspection.findings.filter { !$0.compliant }.map { "\($0.agreementItem): \($0.finding)" }.joined(separator: "; "),
                inspection.followUp, inspection.resolved ? "yes" : "no",
            ]
        },
        format: format
    )
}
