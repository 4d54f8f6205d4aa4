import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.settlement.v1.SettlementReportService`: 003's appendix table 3 (outstanding fees
/// per school), the organization report's fee table, and each school's payment timeliness
/// (the inputs of indicators 1-4-1 and 1-4-2), all derived from the receivables.
struct SettlementReportService: Xcert_Settlement_V1_SettlementReportService.Handler {
    let context: ServiceContext

    @Sendable
    func getOutstandingTable(
        _ request: Xcert_Settlement_V1_GetOutstandingTableRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_GetOutstandingTableResponse {
        let reader = try await self.provinceOrOrganization(call)
        try FieldChecks.checkYear(request.year, "year", "an exam year")
        var filter = LedgerStore.Filter()
        filter.year = request.year
        filter.organization = reader
        filter.certificate = request.certificateCode.nonEmpty
        let receivables = try await self.context.database.read(call) { connection in
            try await LedgerStore.receivables(filter, connection, call.logger)
        }
        async let schools = self.context.referenceData(for: call).allSchools()
        async let certificates = self.context.referenceData(for: call).allCertificates(of: reader)
        let certificateNames = Dictionary(try await certificates.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        let schoolNames = try await schools.mapValues(\.name)
        var response = Xcert_Settlement_V1_GetOutstandingTableResponse()
        let groups = Dictionary(grouping: receivables) {
            Key(certificate: $0.certificateCode, level: $0.level.rawValue, school: $0.schoolCode)
        }
        for (key, group) in groups.sorted(by: { $0.key < $1.key }) {
            let outstanding = group.reduce(Int64(0)) { $0 + $1.outstanding.fen }
            guard outstanding > 0 else { continue }
            var line = Xcert_Settlement_V1_OutstandingLine()
            line.certificateCode = key.certificate
            line.certificateName = certificateNames[key.certificate] ?? ""
            line.level = group[0].level
            line.schoolCode = key.school
            line.schoolName = schoolNames[key.school] ?? ""
            line.completed = group.reduce(0) { $0 + $1.completed }
            line.outstanding.fen = outstanding
            response.lines.append(line)
            response.total.completed += line.completed
            response.total.outstanding.fen += outstanding
        }
        return response
    }

    @Sendable
    func getOrganizationFeeTable(
        _ request: Xcert_Settlement_V1_GetOrganizationFeeTableRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_GetOrganizationFeeTableResponse {
        var organization = try await self.provinceOrOrganization(call)
        try FieldChecks.checkYear(request.year, "year", "an exam year")
        if request.organizationID != 0 {
            if let own = organization, own != request.organizationID {
                throw RPCError.notFound("the fee table of organization \(request.organizationID)")
            }
            organization = request.organizationID
        }
        var filter = LedgerStore.Filter()
        filter.year = request.year
        filter.organization = organization
        let receivables = try await self.context.database.read(call) { connection in
            try await LedgerStore.receivables(filter, connection, call.logger)
        }
        let certificates = Dictionary(
            try await self.context.referenceData(for: call).allCertificates(of: organization).map { ($0.code, $0) },
            uniquingKeysWith: { first, _ in first })
        var response = Xcert_Settlement_V1_GetOrganizationFeeTableResponse()
        let groups = Dictionary(grouping: receivables) {
            FeeKey(organization: $0.organizationID, certificate: $0.certificateCode, level: $0.level.rawValue)
        }
        for (key, group) in groups.sorted(by: { $0.key < $1.key }) {
            var line = Xcert_Settlement_V1_FeeLine()
            line.organizationID = key.organization
            line.organizationName = certificates[key.certificate]?.organizationName ?? ""
            line.certificateCode = key.certificate
            line.certificateName = certificates[key.certificate]?.name ?? ""
            line.level = group[0].level
            line.completed = group.reduce(0) { $0 + $1.completed }
            line.receivable.fen = group.reduce(0) { $0 + $1.amount.fen }
            line.received.fen = group.reduce(0) { $0 + $1.settled.fen }
            line.outstanding.fen = group.reduce(0) { $0 + $1.outstanding.fen }
            response.lines.append(line)
            response.total.completed += line.completed
            response.total.receivable.fen += line.receivable.fen
            response.total.received.fen += line.received.fen
            response.total.outstanding.fen += line.outstanding.fen
        }
        return response
    }

    @Sendable
    func getPaymentTimeliness(
        _ request: Xcert_Settlement_V1_GetPaymentTimelinessRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_GetPaymentTimelinessResponse {
        let reader = try call.readScope()
        try FieldChecks.checkYear(request.year, "year", "an exam year")
        var school = request.schoolCode.nonEmpty
        if let own = reader.school {
            guard school == nil || school == own else { throw RPCError.notFound("school \(school ?? "")'s payments") }
            school = own
        }
        var filter = LedgerStore.Filter()
        filter.year = request.year
        filter.school = school
        let receivables = try await self.context.database.read(call) { connection in
            try await LedgerStore.receivables(filter, connection, call.logger)
        }
        let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
        var response = Xcert_Settlement_V1_GetPaymentTimelinessResponse()
        for (code, group) in Dictionary(grouping: receivables, by: \.schoolCode).sorted(by: { $0.key < $1.key }) {
            var timeliness = Xcert_Settlement_V1_SchoolPaymentTimeliness()
            timeliness.schoolCode = code
            // Receivables with an amount whose due date has come; nothing owed is nothing late.
            let due = group.filter { receivable in
                receivable.amount.fen > 0 && LocalDate(wire: receivable.dueDate).map { $0 <= today } == true
            }
            timeliness.receivablesDue = Int32(due.count)
            timeliness.paidByDueDate = Int32(due.filter(\.paidByDueDate).count)
            timeliness.receivable.fen = group.reduce(0) { $0 + $1.amount.fen }
            timeliness.received.fen = group.reduce(0) { $0 + $1.settled.fen }
            response.schools.append(timeliness)
        }
        return response
    }

    /// Settlement's part of the province's monthly bulletin: the payments paid on the days asked.
    @Sendable
    func getReceipts(
        _ request: Xcert_Settlement_V1_GetReceiptsRequest, _ call: RequestContext
    ) async throws -> Xcert_Settlement_V1_GetReceiptsResponse {
        _ = try call.caller()
        let days = try FieldChecks.checkDays(from: request.from, to: request.to)
        return try await self.context.database.read(call) { connection in
            try await LedgerStore.receipts(days, connection, call.logger)
        }
    }

    // MARK: - Helpers

    private struct Key: Hashable, Comparable {
        var certificate: String
        var level: Int
        var school: String
        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.certificate, lhs.level, lhs.school) < (rhs.certificate, rhs.level, rhs.school) }
    }

    private struct FeeKey: Hashable, Comparable {
        var organization: Int64
        var certificate: String
        var level: Int
        static func < (lhs: FeeKey, rhs: FeeKey) -> Bool {
            (lhs.organization, lhs.certificate, lhs.level) < (rhs.organization, rhs.certificate, rhs.level)
        }
    }

    /// nil for the province and services; an organization's id for an organization.
    private func provinceOrOrganization(_ call: RequestContext) async throws -> Int64? {
        try call.readScope().organization
    }

}
