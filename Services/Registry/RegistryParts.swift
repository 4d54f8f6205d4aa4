import XCertService

/// The registry as a whole, as its executable runs it.
enum RegistryParts {
    static func definition() -> ServiceDefinition {
        ServiceDefinition(name: "registry", defaultPort: 7101) { context in
            [
                PrincipalService(context: context),
                ReferenceDataService(context: context),
                PilotService(context: context),
                AllianceService(context: context),
                SiteService(context: context),
                OversightService(context: context),
                TrainingService(context: context),
            ]
        }
    }
}
