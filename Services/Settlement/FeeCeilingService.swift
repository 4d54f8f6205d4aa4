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
    func setFeeCeilings(_ request: Xcert_Settlement_V1_SetFeeCeilingsRequest, _ call: RequestContext) async throws -> Xcert_Settlement_V1_ListFeeCeilingsResponse {
        let admin = try call.caller()
        var checks = FieldChecks()
        checks.require(!request.ceilings.isEmpty, "ceilings", "must name at least one certificate level")
        var seen = Set<String>()
        for (index, ceiling) in request.ceilings.enumerated() {
            let field = "ceilings[\(index)]"
            checks.require(ceiling.certificateCode.isCertificateCode, "\(field).certificate_code", "must be a certificate's code, e.g. BIM")
            checks.require(CertificateLevel(wire: ceiling.level) != nil, "\(field).level", "must be ELEMENTARY, INTERMEDIATE or ADVANCED")
            checks.require((1...100_000_000).contains(ceiling.ceiling.fen), "\(field).ceiling.fen", "must be 1 fen to 1,000,000 yuan, not \(ceiling.ceiling.fen)")
            if !seen.insert("\(ceiling.certificateCode)/\(ceiling.level.rawValue)").inserted {
                checks.fail("\(field).level", "\(ceiling.certificateCode) \(ceiling.level) is named twice")
            }
        }
        try checks.check()
        for (index, ceiling) in request.ceilings.enumerated() {
            _ = try await RegistryLookups.certificate(ceiling.certificateCode, field: "ceilings[\(index)].certificate_code", self.context, call)
        }
        return try await self.context.idempotency.perform(call) { connection in
            try await connection.query(
                """
                INSERT INTO settlement.fee_ceilings (certificate_code, level, ceiling_fen, set_by)
                SELECT c, l, f, \(admin.name) FROM unnest(\(request.ceilings.map(\.certificateCode))::text[], \(request.ceilings.map { Int32($0.level.rawValue) })::smallint[],
                                                        \(request.ceilings.map(\.ceiling.fen))::bigint[]) AS x(c, l, f)
                ON CONFLICT (certificate_code, level) DO UPDATE SET ceiling_fen = excluded.ceiling_fen, set_by = excluded.set_by, set_at = now()
                """,
                logger: call.logger
            )
            var response = Xcert_Settlement_V1_ListFeeCeilingsResponse()
            response.ceilings = try await Self.ceilings(certificates: Set(request.ceilings.map(\.certificateCode)), connection, call.logger)
            return response
        }
    }

    @Sendable
    func listFeeCeilings(_ request: Xcert_Settlement_V1_ListFeeCeilingsRequest, _ call: RequestContext) async throws -> Xcert_Settlement_V1_ListFeeCeilingsResponse {
        return try await self.context.database.transaction(call) { connection in
            var response = Xcert_Settlement_V1_ListFeeCeilingsResponse()
            response.ceilings = try await Self.ceilings(certificates: request.certificateCode.isEmpty ? nil : [request.certificateCode], connection, call.logger)
            return response
        }
    }

    @Sendable
    func checkFees(_ request: Xcert_Settlement_V1_CheckFeesRequest, _ call: RequestContext) async throws -> Xcert_Settlement_V1_CheckFeesResponse {
        var checks = FieldChecks()
        checks.require(request.certificateCode.isCertificateCode, "certificate_code", "must be a certificate's code, e.g. BIM")
        for (index, fee) in request.fees.enumerated() {
            checks.require(CertificateLevel(wire: fee.level) != nil, "fees[\(index)].level", "must be ELEMENTARY, INTERMEDIATE or ADVANCED")
            checks.require(fee.fee.fen >= 0, "fees[\(index)].fee.fen", "must not be negative")
        }
        try checks.check()
        let ceilings = try await self.context.database.transaction(call) { connection in
            try await Self.ceilings(certificates: [request.certificateCode], connection, call.logger)
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

    /// The ceilings of some certificates (nil: all), by certificate and level.
    static func ceilings(certificates: Set<String>?, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Xcert_Settlement_V1_FeeCeiling] {
        let codes = certificates.map { Array($0) }
        let rows = try await connection.query(
            """
            SELECT certificate_code, level, ceiling_fen, set_by, set_at FROM settlement.fee_ceilings
            WHERE \(codes)::text[] IS NULL OR certificate_code = ANY(\(codes))
            ORDER BY certificate_code, level
            """,
            logger: logger
        )
        var ceilings: [Xcert_Settlement_V1_FeeCeiling] = []
        for try await (code, level, fen, setBy, setAt) in rows.decode((String, Int16, Int64, String, Date).self) {
            var ceiling = Xcert_Settlement_V1_FeeCeiling()
            ceiling.certificateCode = code
            ceiling.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(level)) ?? .unspecified
            ceiling.ceiling.fen = fen
            ceiling.setBy = setBy
            ceiling.setAt = .init(setAt)
            ceilings.append(ceiling)
        }
        return ceilings
    }
}
