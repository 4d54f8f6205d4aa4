import ArgumentParser
import Foundation
import XCertAPI
import XCertProto
import XCertWire

/// `xctl alliance selection opinion|recommend|assign|adjust`: what others say of applicants
/// (000 第四条, 第十七条) and the province's leads beside the selection (第五条, 第三条 动态调整).
extension Alliance.Selection {
    struct Opinion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The certificate's organization gives its opinion of a lead application (000 第四条).")
        @Argument(help: "The lead application's id.") var application: Int64
        @Option(help: "supports, no_objection or opposes.") var opinion: String
        @Option(help: "Its reasons.") var text: String
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_RecordOrganizationOpinionRequest()
            request.applicationID = self.application
            switch self.opinion {
            case "supports": request.opinion = .supports
            case "no_objection": request.opinion = .noObjection
            case "opposes": request.opinion = .opposes
            default: throw ValidationError("--opinion must be supports, no_objection or opposes")
            }
            request.text = self.text
            let application = try await self.options.call(
                Xcert_Registry_V1_AllianceService.Method.recordOrganizationOpinion, request, idempotencyKey: self.change.idempotencyKey)
            print("lead application \(application.id) of \(application.schoolCode): the organization's opinion recorded")
        }
    }

    struct Recommend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An education bureau recommends a lead applicant (000 第十七条); the province names the bureau with --unit.")
        @Argument(help: "The lead application's id.") var application: Int64
        @Option(help: "The recommending reviewing unit's code (a city reviewer: its own, the default).") var unit: String = ""
        @Option(help: "Why it recommends the school.") var text: String
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_RecommendLeadApplicantRequest()
            request.applicationID = self.application
            request.reviewingUnitCode = self.unit
            request.text = self.text
            let application = try await self.options.call(
                Xcert_Registry_V1_AllianceService.Method.recommendLeadApplicant, request, idempotencyKey: self.change.idempotencyKey)
            print(
                "lead application \(application.id) of \(application.schoolCode): recommended by "
                    + application.recommendations.map { "\($0.reviewingUnitName) (\($0.reviewingUnitCode))" }.joined(separator: ", "))
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Name the leads of a certificate with fewer than 10 applying schools (000 第五条): final at once.")
        @OptionGroup var target: Target
        @OptionGroup var leads: Leads
        @Option(help: "The province's reason.") var reason: String
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_AssignLeadSchoolsRequest()
            request.certificateCode = self.target.certificate
            request.year = self.target.year
            request.leads = self.leads.schools
            request.reason = self.reason
            printLeads(
                try await self.options.call(
                    Xcert_Registry_V1_AllianceService.Method.assignLeadSchools, request, idempotencyKey: self.change.idempotencyKey))
        }
    }

    struct Adjust: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Adjust final leads (000 第三条 动态调整): --remove a lead, --add a school, or both to replace one.")
        @OptionGroup var target: Target
        @Option(help: "The lead school to remove.") var remove: String = ""
        @Option(help: "The school to make a lead.") var add: String = ""
        @Flag(help: "The school added becomes the primary lead.") var primary = false
        @Option(help: "The province's reason.") var reason: String
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_AdjustLeadSchoolsRequest()
            request.certificateCode = self.target.certificate
            request.year = self.target.year
            request.removeSchoolCode = self.remove
            if !self.add.isEmpty {
                request.add.schoolCode = self.add
                request.add.primary = self.primary
            }
            request.reason = self.reason
            printLeads(
                try await self.options.call(
                    Xcert_Registry_V1_AllianceService.Method.adjustLeadSchools, request, idempotencyKey: self.change.idempotencyKey))
        }
    }
}

/// The leads in force and the province's changes of them.
private func printLeads(_ selection: Xcert_Registry_V1_LeadSelection) {
    print("leads: " + selection.leads.map { "\($0.schoolCode) \($0.schoolName)\($0.primary ? " (primary)" : "")" }.joined(separator: ", "))
    for change in selection.changes {
        let removed = change.removedSchoolCode.isEmpty ? "" : " −\(change.removedSchoolCode)"
        let added = change.addedSchoolCode.isEmpty ? "" : " +\(change.addedSchoolCode)\(change.addedPrimary ? " (primary)" : "")"
        print("  \(change.kind)\(removed)\(added): \(change.reason) (\(change.changedBy))")
    }
}
