/// The database's one ordered schema history. Append new migrations; never edit one
/// that has shipped (its checksum is verified on every start).
public enum MigrationHistory {
    public static let all: [Migration] = [
        .v1RolesAndSchemas,
        .v2PrincipalsAndTokens,
        .v3IdempotencyKeys,
        .v4RegistryReferenceAndPilot,
        .v5FilingRoundsAndFilings,
        .v6RostersAndReports,
        .v7AssessmentOutcomes,
        .v8EvaluationSchemes,
        .v9Evaluations,
        .v10ResultPolicies,
        .v11OutcomeChanges,
        .v12Settlement,
        .v13AnalyticsViews,
        .v14AuditLog,
        .v15AllocationIndexes,
        .v16SitesCountTheExamined,
        .v17ReviewingUnits,
        .v18ApplicationWindows,
        .v19TeachingTeams,
        .v20ExamCoverage,
        .v21OrganizationStanding,
        .v22Inspections,
        .v23LeadAdjustments,
        .v24MergedSelections,
        .v25Textbooks,
        .v26PilotSummary,
        .v27EvaluationCalendar,
        .v28ReportReconciliation,
        .v29TeacherTraining,
        .v30PeriodicReports,
        .v31MonthlyBulletin,
        .v32ResultNotices,
        .v33Certificates,
        .v34Revocation,
        .v35CreditBank,
    ]

    /// The schema of each service, which is also the suffix of its role (`xcert_<schema>`).
    public static let serviceSchemas = ["registry", "filing", "assessment", "settlement"]
}
