import Foundation
import XCertService

/// The filing service as a whole, as its executable runs it.
enum FilingParts {
    /// - Throws: when `environment` holds no usable national-ID key (`XCERT_NATIONAL_ID_KEY…`).
    static func definition(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServiceDefinition {
        let nationalIDs = try NationalIDHasher(environment: environment)
        return ServiceDefinition(name: "filing", defaultPort: 7102) { context in
            let certificates = CertificateCache()
            return [
                FilingService(context: context, certificates: certificates),
                ApprovalService(context: context),
                ReportService(context: context),
                PeriodicReportService(context: context),
                ResultNoticeService(context: context),
                RosterService(context: context, hasher: nationalIDs, certificates: certificates),
            ]
        }
    }
}
