import XCertService

/// The settlement service as a whole, as its executable runs it.
enum SettlementParts {
    static func definition() -> ServiceDefinition {
        ServiceDefinition(name: "settlement", defaultPort: 7104, background: SettlementFollowers.all) { context in
            [
                FeeCeilingService(context: context), LedgerService(context: context), SettlementReportService(context: context),
                SubsidyService(context: context),
            ]
        }
    }
}
