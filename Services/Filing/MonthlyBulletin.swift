import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// 月度简报 (004 items 2 and 18): the month's figures and the year's to the month's end,
/// from the filing service's own records, the registry's applications and settlement's
/// payments (asked over the wire).
extension ReportService {
    @Sendable
    func getMonthlyBulletin(
        _ request: Xcert_Filing_V1_GetMonthlyBulletinRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_MonthlyBulletin {
        _ = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year)
        checks.require((1...12).contains(request.month), "month", "must be a month, 1 to 12; not \(request.month)")
        try checks.check()
        guard let starts = LocalDate(year: Int(request.year), month: Int(request.month), day: 1),
            let january = LocalDate(year: Int(request.year), month: 1, day: 1)
        else { throw RPCError(.internal, "month \(request.year)-\(request.month) checked and not a date") }
        let ends = starts.lastOfMonth
        async let inMonth = self.figures(starts...ends, call)
        async let yearToDate = self.figures(january...ends, call)
        var bulletin = Xcert_Filing_V1_MonthlyBulletin()
        bulletin.year = request.year
        bulletin.month = request.month
        bulletin.monthStarts = starts.wire
        bulletin.monthEnds = ends.wire
        bulletin.inMonth = try await inMonth
        bulletin.yearToDate = try await yearToDate
        return bulletin
    }

    /// The bulletin's figures of `days`: the filing service's in one statement, the
    /// registry's and settlement's asked at the same time.
    private func figures(_ days: ClosedRange<LocalDate>, _ call: RequestContext) async throws -> Xcert_Filing_V1_BulletinFigures {
        var applicationsRequest = Xcert_Registry_V1_GetApplicationActivityRequest()
        applicationsRequest.from = days.lowerBound.wire
        applicationsRequest.to = days.upperBound.wire
        var receiptsRequest = Xcert_Settlement_V1_GetReceiptsRequest()
        receiptsRequest.from = days.lowerBound.wire
        receiptsRequest.to = days.upperBound.wire
        async let applications = self.context.peers.call(
            "registry", Xcert_Registry_V1_PilotService.Method.getApplicationActivity, applicationsRequest, context: call)
        async let receipts = self.context.peers.call(
            "settlement", Xcert_Settlement_V1_SettlementReportService.Method.getReceipts, receiptsRequest, context: call)
        var figures = try await self.context.database.read(call) { connection in
            try await BulletinStore.figures(days, connection, call.logger)
        }
        figures.applicationsSubmitted = try await applications.submitted
        figures.applicationsApproved = try await applications.approved
        figures.payments = try await receipts.payments
        figures.feesReceived = try await receipts.received
        return figures
    }
}
