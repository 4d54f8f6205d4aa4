import Foundation
import Logging
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xcert.filing.v1.CreditBankService`: the credit bank (学分银行). The province maps each
/// certificate and level to the national credit bank's learning outcome and credits, and
/// exports a year's certificates as learning-outcome records, opening each holder's sealed
/// ID (``NationalIDSealer``) for that export alone.
struct CreditBankService: Xcert_Filing_V1_CreditBankService.Handler {
    let context: ServiceContext
    let sealer: NationalIDSealer
    /// What the registry said of certificates lately.
    let certificates: CertificateCache

    @Sendable
    func loadCreditMappings(
        _ request: Xcert_Filing_V1_LoadCreditMappingsRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_LoadCreditMappingsResponse {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require(!request.mappings.isEmpty, "mappings", "must hold at least one mapping")
        var seen: [String: Int] = [:]
        var mappings: [Xcert_Filing_V1_CreditMapping] = []
        for (index, given) in request.mappings.enumerated() {
            let field = "mappings[\(index)]"
            var mapping = given
            mapping.certificateCode = given.certificateCode.trimmed
            mapping.learningOutcomeCode = given.learningOutcomeCode.trimmed
            mapping.learningOutcomeName = given.learningOutcomeName.trimmed
            checks.require(
                mapping.certificateCode.isCertificateCode, "\(field).certificate_code",
                "must be a certificate's code, e.g. AUTO; not \"\(given.certificateCode)\"")
            checks.require(
                CertificateLevel(wire: mapping.level) != nil, "\(field).level",
                "must be CERTIFICATE_LEVEL_ELEMENTARY, CERTIFICATE_LEVEL_INTERMEDIATE or CERTIFICATE_LEVEL_ADVANCED")
            checks.require(
                (1...40).contains(mapping.learningOutcomeCode.count)
                    && mapping.learningOutcomeCode.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-_".contains($0)) },
                "\(field).learning_outcome_code",
                """
                must be the credit bank's learning outcome code, 1 to 40 letters, digits, '.', '-' or '_'; \
                not "\(given.learningOutcomeCode)"
                """)
            checks.require(
                (1...100).contains(mapping.learningOutcomeName.count), "\(field).learning_outcome_name",
                "must be the learning outcome's name, 1 to 100 characters")
            checks.require(
                (1...1000).contains(mapping.creditsTenths), "\(field).credits_tenths",
                "must be the credits in tenths, 1 to 1000 (0.1 to 100 credits); not \(given.creditsTenths)")
            let key = "\(mapping.certificateCode) \(mapping.level.rawValue)"
            if let first = seen[key] {
                checks.fail("\(field).level", "the certificate \(mapping.certificateCode) at this level is also mappings[\(first)]")
            } else {
                seen[key] = index
            }
            mappings.append(mapping)
        }
        try checks.check()
        // Each certificate in the registry's catalogue, at a level it has.
        var catalogue: [String: Xcert_Registry_V1_Certificate] = [:]
        for (index, mapping) in mappings.enumerated() {
            let field = "mappings[\(index)].certificate_code"
            if catalogue[mapping.certificateCode] == nil {
                do {
                    catalogue[mapping.certificateCode] = try await self.certificates.certificate(
                        mapping.certificateCode, field: field, self.context, call)
                } catch let error as RPCError where error.code == .invalidArgument {
                    checks.fail(field, "the registry has no certificate \(mapping.certificateCode)")
                    continue
                }
            }
            if let certificate = catalogue[mapping.certificateCode], !certificate.levels.isEmpty,
                !certificate.levels.contains(mapping.level)
            {
                let levels = certificate.levels.compactMap { CertificateLevel(wire: $0)?.chineseName }.joined(separator: ", ")
                checks.fail("mappings[\(index)].level", "the certificate \(mapping.certificateCode) has no such level: it has \(levels)")
            }
        }
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            let counts = try await CreditBankStore.load(mappings, by: admin.name, connection, call.logger)
            var response = Xcert_Filing_V1_LoadCreditMappingsResponse()
            response.added = Int32(counts.added)
            response.replaced = Int32(counts.replaced)
            response.unchanged = Int32(counts.unchanged)
            return response
        }
    }

    @Sendable
    func listCreditMappings(
        _ request: Xcert_Filing_V1_ListCreditMappingsRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListCreditMappingsResponse {
        _ = try call.caller()
        let code = request.certificateCode.trimmed
        var checks = FieldChecks()
        checks.require(
            code.isEmpty || code.isCertificateCode, "certificate_code",
            "must be empty (every certificate) or a certificate's code, e.g. AUTO")
        try checks.check()
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_ListCreditMappingsResponse()
            response.mappings = try await CreditBankStore.mappings(certificate: code.nonEmpty, connection, call.logger)
            return response
        }
    }

    /// The province's only: each record carries its holder's full ID, opened here from its
    /// seal. Each page is logged with who asked and how many records it held, never more.
    @Sendable
    func exportLearningOutcomes(
        _ request: Xcert_Filing_V1_ExportLearningOutcomesRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ExportLearningOutcomesResponse {
        let admin = try call.caller()
        let page = try Paging(request.page, field: "page", key: .code)
        var checks = FieldChecks()
        checks.requireYear(request.year, "year", "an exam year")
        try checks.check()
        let sealed = try await self.context.database.read(call) { connection in
            try await CreditBankStore.exportable(
                year: request.year, after: page.afterCode, limit: page.size + 1, connection, call.logger)
        }
        var records: [Xcert_Filing_V1_LearningOutcomeRecord] = []
        records.reserveCapacity(sealed.count)
        for entry in sealed {
            var record = entry.record
            do {
                record.nationalID = try self.sealer.open(entry.sealedID, boundTo: entry.idHMAC)
            } catch let error as SealedIDError {
                throw RPCError(.failedPrecondition, "the holder's ID of certificate \(record.certificateNumber) cannot be opened: \(error)")
            }
            records.append(record)
        }
        var response = Xcert_Filing_V1_ExportLearningOutcomesResponse()
        (response.records, response.page) = page.cut(records, key: \.certificateNumber)
        call.logger.info(
            "learning outcomes exported with full ID numbers",
            metadata: ["principal": "\(admin.name)", "year": "\(request.year)", "records": "\(response.records.count)"])
        return response
    }

    @Sendable
    func getLearningOutcomeSummary(
        _ request: Xcert_Filing_V1_GetLearningOutcomeSummaryRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_LearningOutcomeSummary {
        _ = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year, "year", "an exam year")
        try checks.check()
        return try await self.context.database.read(call) { connection in
            try await CreditBankStore.summary(year: request.year, connection, call.logger)
        }
    }
}
