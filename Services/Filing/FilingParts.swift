import Foundation
import XCertService

/// The filing service as a whole, as its executable runs it.
enum FilingParts {
    /// - Throws: when `environment` holds no usable national-ID key (`XCERT_NATIONAL_ID_KEY…`) or
    ///   ID encryption key (`XCERT_ID_ENCRYPTION_KEY…`),
    ///   or names an issuer key (`XCERT_ISSUER_KEY…`) that is not an Ed25519 key.
    static func definition(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServiceDefinition {
        let nationalIDs = try NationalIDHasher(environment: environment)
        let sealer = try NationalIDSealer(environment: environment)
        let issuance = try CertificateIssuance(environment: environment)
        return ServiceDefinition(name: "filing", defaultPort: 7102) { context in
            let certificates = CertificateCache()
            return [
                FilingService(context: context, certificates: certificates),
                ApprovalService(context: context),
                ReportService(context: context),
                PeriodicReportService(context: context),
                ResultNoticeService(context: context, issuance: issuance),
                CertificateService(context: context, issuance: issuance),
                RosterService(context: context, hasher: nationalIDs, sealer: sealer, certificates: certificates),
                CreditBankService(context: context, sealer: sealer, certificates: certificates),
            ]
        }
    }
}
