import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService

/// `xctl registry organization irregularity|suspend|reinstate|exit|oversight`: the province's
/// oversight of organizations (001 §四.1, 004 第22条).
extension Registry.OrganizationCommand {
    struct RecordIrregularity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "irregularity", abstract: "Record an irregularity (违规行为) against an organization.")
        @Argument(help: "The organization's id.") var id: Int64
        @Option(help: "agents, forced_purchase, fees, agreement or other.") var kind: String
        @Option(help: "What happened.") var description: String
        @Option(help: "The pilot year.") var year: Int32
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_RecordOrganizationIrregularityRequest()
            request.organizationID = self.id
            switch self.kind {
            case "agents": request.kind = .agents
            case "forced_purchase": request.kind = .forcedPurchase
            case "fees": request.kind = .fees
            case "agreement": request.kind = .agreement
            case "other": request.kind = .other
            default: throw ValidationError("--kind must be agents, forced_purchase, fees, agreement or other")
            }
            request.description_p = self.description
            request.year = self.year
            let oversight = try await self.options.call(
                Xcert_Registry_V1_OversightService.Method.recordOrganizationIrregularity, request,
                idempotencyKey: self.change.idempotencyKey)
            let count = oversight.irregularities.count
            print("organization \(oversight.organizationID) \(oversight.organizationName) has \(count) irregularities")
        }
    }

    /// What the three decisions share.
    struct Decision: ParsableArguments {
        @Argument(help: "The organization's id.") var id: Int64
        @Option(help: "The province's reason.") var reason: String
        @Option(help: "The day it takes effect, YYYY-MM-DD in Asia/Shanghai (default: today).") var effectiveOn: String?
        @Option(help: "Decide only if the organization is still at this version (0: whatever it is).") var expectedVersion: Int64 = 0

        func run(_ standing: OrganizationStanding, _ change: ChangeOptions, _ options: RegistryOptions) async throws {
            var request = Xcert_Registry_V1_SetOrganizationStandingRequest()
            request.organizationID = self.id
            request.standing = standing.wire
            request.reason = self.reason
            if let effectiveOn = self.effectiveOn { request.effectiveOn = try wireDate(effectiveOn, option: "--effective-on") }
            request.expectedVersion = self.expectedVersion
            let oversight = try await options.call(
                Xcert_Registry_V1_OversightService.Method.setOrganizationStanding, request, idempotencyKey: change.idempotencyKey)
            let decided = oversight.history.last.map { " from \(dateText($0.effectiveOn))" } ?? ""
            print(
                """
                organization \(oversight.organizationID) \(oversight.organizationName) is \
                \(OrganizationStanding(wire: oversight.standing)?.description ?? "?")\(decided)
                """)
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suspend an organization (暂停): its filings cannot be approved, it cannot open exam rosters.")
        @OptionGroup var decision: Decision
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws { try await self.decision.run(.suspended, self.change, self.options) }
    }

    struct Reinstate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reinstate a suspended organization.")
        @OptionGroup var decision: Decision
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws { try await self.decision.run(.active, self.change, self.options) }
    }

    struct Exit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exit an organization from the province's pilot (退出), for good.",
            discussion:
                """
                As suspended, and its receivables of exams held after the day it takes effect are cancelled by a correcting entry \
                (what schools paid on them becomes their credit, for the province to refund). Certificates earned stay valid.
                """
        )
        @OptionGroup var decision: Decision
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws { try await self.decision.run(.exited, self.change, self.options) }
    }

    struct Oversight: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An organization's standing with its history and irregularities.")
        @Argument(help: "The organization's id.") var id: Int64
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetOrganizationOversightRequest()
            request.organizationID = self.id
            let oversight = try await self.options.call(Xcert_Registry_V1_OversightService.Method.getOrganizationOversight, request)
            let standing = OrganizationStanding(wire: oversight.standing)?.description ?? "?"
            print("organization \(oversight.organizationID) \(oversight.organizationName): \(standing)")
            emit(
                ["event", "day", "what", "by"],
                oversight.history.map { change in
                    let (from, to) = (OrganizationStanding(wire: change.previous), OrganizationStanding(wire: change.standing))
                    return [
                        "\(from?.rawValue ?? "?") → \(to?.rawValue ?? "?")",
                        dateText(change.effectiveOn), change.reason, change.changedBy,
                    ]
                }
                    + oversight.irregularities.map { irregularity in
                        ["irregularity \(irregularity.kind)", "\(irregularity.year)", irregularity.description_p, irregularity.recordedBy]
                    },
                format: self.format
            )
        }
    }
}
