import Foundation
import Logging
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.settlement.v1.FeeCeilingService`: the province's fee ceilings (收费上限) per
/// certificate level, and the check the filing service asks before approving a filing's
/// fees (DOMAIN rule 10). Province admins set them; everyone authenticated reads them.
struct FeeCeilingService: Xcert_Settlement_V1_FeeCeilingService.Handler {
    let context: ServiceContext

    @Sendable
    func setFeeCeilings(
        _ request: Xcert_Settlement_V1_SetFeeCeilingsRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_ListFeeCeilingsResponse {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require(!request.ceilings.isEmpty, "ceilings", "must name at least one certificate level")
        var seen = Set<String>()
        for (index, ceiling) in request.ceilings.enumerated() {
            let field = "ceilings[\(index)]"
            checks.require(ceiling.certificateCode.isCertificateCode, "\(field).certificate_code", "must be a certificate's code, e.g. BIM")
            checks.require(CertificateLevel(wire: ceiling.level) != nil, "\(field).level", "must be ELEMENTARY, INTERMEDIATE or ADVANCED")
            checks.require(
                (1...100_000_000).contains(ceiling.ceiling.fen), "\(field).ceiling.fen",
                "must be 1 fen to 1,000,000 yuan, not \(ceiling.ceiling.fen)")
            if !seen.insert("\(ceiling.certificateCode)/\(ceiling.level.rawValue)").inserted {
                checks.fail("\(field).level", "\(ceiling.certificateCode) \(ceiling.level) is named twice")
            }
        }
        try checks.check()
        for (index, ceiling) in request.ceilings.enumerated() {
            _ = try await self.context.referenceData(for: call).certificate(
                ceiling.certificateCode, field: "ceilings[\(index)].certificate_code")
        }
        return try await self.context.idempotency.perform(call) { connection in
            try await FeeCeilingStore.set(request.ceilings, setBy: admin.name, connection, call.logger)
            var response = Xcert_Settlement_V1_ListFeeCeilingsResponse()
            response.ceilings = try await FeeCeilingStore.ceilings(
                certificates: Set(request.ceilings.map(\.certificateCode)), connection, call.logger
            )
            return response
        }
    }

    @Sendable
    func listFeeCeilings(
        _ request: Xcert_Settlement_V1_ListFeeCeilingsRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_ListFeeCeilingsResponse {
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Settlement_V1_ListFeeCeilingsResponse()
            response.ceilings = try await FeeCeilingStore.ceilings(
                certificates: request.certificateCode.isEmpty ? nil : [request.certificateCode], connection, call.logger
            )
            return response
        }
    }

    @Sendable
    func checkFees(
        _ request: Xcert_Settlement_V1_CheckFeesRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_CheckFeesResponse {
        var checks = FieldChecks()
        checks.require(request.certificateCode.isCertificateCode, "certificate_code", "must be a certificate's code, e.g. BIM")
        for (index, fee) in request.fees.enumerated() {
            checks.require(CertificateLevel(wire: fee.level) != nil, "fees[\(index)].level", "must be ELEMENTARY, INTERMEDIATE or ADVANCED")
            checks.require(fee.fee.fen >= 0, "fees[\(index)].fee.fen", "must not be negative")
        }
        try checks.check()
        let ceilings = try await self.context.database.read(call) { connection in
            try await FeeCeilingStore.ceilings(certificates: [request.certificateCode], connection, call.logger)
        }
        let byLevel = Dictionary(ceilings.map { ($0.level, $0.ceiling) }, uniquingKeysWith: { first, _ in first })
        var response = Xcert_Settlement_V1_CheckFeesResponse()
        for fee in request.fees {
            guard let ceiling = byLevel[fee.level] else {
                response.unconfiguredLevels.append(fee.level)
                continue
            }
            if fee.fee.fen > ceiling.fen {
                var excess = Xcert_Settlement_V1_FeeExcess()
                excess.level = fee.level
                excess.fee = fee.fee
                excess.ceiling = ceiling
                response.excesses.append(excess)
            }
        }
        response.withinCeilings = response.excesses.isEmpty
        return response
    }
}
