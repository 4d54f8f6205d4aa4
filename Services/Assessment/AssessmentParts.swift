import XCertService

/// The assessment service as a whole, as its executable runs it.
enum AssessmentParts {
    static func definition() -> ServiceDefinition {
        ServiceDefinition(name: "assessment", defaultPort: 7103, background: OutcomeFollowers.all) { context in
            [
                OutcomeService(context: context), SchemeService(context: context), EvaluationService(context: context),
                ResultService(context: context),
            ]
        }
    }
}
