import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The credit bank (学分银行): the province loads its mapping of certificates to the national
/// credit bank's learning outcomes (illustrative codes `1X-<certificate>-<level>`, 4, 6 and 8
/// credits by level) for every certificate in its catalogue but one that was examined, which
/// the year's summary then names to map; the year's certificates are exported as
/// learning-outcome records, with their holders' full IDs, to a file only its owner may read.
extension DemoRun {
    func creditBank(_ reference: DemoReference, file: String) async throws {
        var summaryRequest = Xcert_Filing_V1_GetLearningOutcomeSummaryRequest()
        summaryRequest.year = self.year
        let before = try await self.stack.call(
            Xcert_Filing_V1_CreditBankService.Method.getLearningOutcomeSummary, summaryRequest, by: self.province, kind: .read)
        let leftUnmapped = before.unmappedLevels.last?.certificateCode
        let mappings = reference.certificates.filter { $0.code != leftUnmapped }.flatMap { certificate in
            certificate.levels.compactMap { level -> Xcert_Filing_V1_CreditMapping? in
                guard let domain = CertificateLevel(wire: level) else { return nil }
                var mapping = Xcert_Filing_V1_CreditMapping()
                mapping.certificateCode = certificate.code
                mapping.level = level
                mapping.learningOutcomeCode = "1X-\(certificate.code)-\(level.rawValue)"
                mapping.learningOutcomeName = String("\(certificate.name)职业技能等级证书（\(domain.chineseName)）".prefix(100))
                mapping.creditsTenths = Int32(20 + 20 * level.rawValue)
                return mapping
            }
        }
        for start in stride(from: 0, to: mappings.count, by: 1500) {
            var load = Xcert_Filing_V1_LoadCreditMappingsRequest()
            load.mappings = Array(mappings[start..<min(start + 1500, mappings.count)])
            _ = try await self.stack.call(Xcert_Filing_V1_CreditBankService.Method.loadCreditMappings, load, by: self.province)
        }
        self.count("credit mappings", mappings.count)

        let records = try await allPages { token in
            let page = try await self.stack.call(
                Xcert_Filing_V1_CreditBankService.Method.exportLearningOutcomes, LearningOutcomeFile.page(self.year, token),
                by: self.province, kind: .read)
            return (page.records, page.page.nextPageToken)
        }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try LearningOutcomeFile.write(records, year: self.year, format: .csv, to: file)
        let after = try await self.stack.call(
            Xcert_Filing_V1_CreditBankService.Method.getLearningOutcomeSummary, summaryRequest, by: self.province, kind: .read)
        self.count("learning outcomes exported", records.count)
        self.count("certificate levels to map", after.unmappedLevels.count)
        self.progress(
            "credit bank",
            """
            \(mappings.count) certificate levels mapped to learning outcomes; \(records.count) learning-outcome records \
            (\(Points.text(tenths: Int(after.creditsTenths))) credits) written to \(file); left out: \(after.revoked) revoked, \
            \(after.unmapped) of \(after.unmappedLevels.count) certificate levels still to map (xctl credit-bank summary)
            """)
    }
}
