import Foundation
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

@Suite(
    "Filing: the province's monthly bulletin (月度简报)",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(3)))
struct BulletinTests {
    @Test(
        """
        the month's figures and the year's to its end, from the four services: a session on a month's last day counts in that month \
        and once however often corrected; a payment counts by its paid-on day and not once reversed; the view says the same
        """
    )
    func monthlyBulletin() async throws {
        try await withFullStack { stack in
            let h = stack.harness()
            let world = try await h.rosterWorld()
            // A session on 30 June, the month's last day: ten sat, then corrected to eight of whom six passed.
            let roster = try await h.createRoster(day: 30, token: world.car)
            _ = try await h.upload(roster.id, chunk: 0, (0..<10).map { Candidates.row($0, theory: 800, practical: 700) }, token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            let correction = try await h.createRoster(day: 30, supersedes: roster.id, reason: "两人未到考", token: world.car)
            let rows =
                (0..<6).map { Candidates.row($0, theory: 800, practical: 700) }
                + (6..<8).map { Candidates.row($0, theory: 300, practical: 300) }
            _ = try await h.upload(correction.id, chunk: 0, rows, token: world.car)
            _ = try await h.seal(correction.id, token: world.car)

            // Settlement charges the session, then 4136010001 pays: on 30 June, on 1 July, and once on 1 June, reversed.
            let settlement = testClient(port: stack.settlement.port).authorized(token: stack.admin)
            var fees = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
            fees.year = RosterWorld.year
            for _ in 0..<300 {
                let table = try await settlement.unary(
                    Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, fees, options: CallOptions())
                if table.total.completed == 8 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            for (key, fen, day) in [("june", Int64(30_000), Int32(30)), ("july", 20_000, 1), ("reversed", 5_000, 1)] {
                _ = try await settlement.unary(
                    Xcert_Settlement_V1_LedgerService.Method.recordPayment,
                    SettlementTests.payment("4136010001", fen, (2026, key == "june" || key == "reversed" ? 6 : 7, day)),
                    options: CallOptions(idempotencyKey: "bulletin-\(key)"))
            }
            var reverse = Xcert_Settlement_V1_ReversePaymentRequest()
            reverse.paymentID = try #require(
                try await h.scalar("SELECT id FROM settlement.payments WHERE amount_fen = 5000", as: Int64.self))
            reverse.reason = "银行退票"
            _ = try await settlement.unary(
                Xcert_Settlement_V1_LedgerService.Method.reversePayment, reverse, options: CallOptions(idempotencyKey: "bulletin-reverse"))

            func bulletin(_ year: Int32, _ month: Int32) async throws -> Xcert_Filing_V1_MonthlyBulletin {
                var request = Xcert_Filing_V1_GetMonthlyBulletinRequest()
                request.year = year
                request.month = month
                return try await h.call(Xcert_Filing_V1_ReportService.Method.getMonthlyBulletin, request, token: h.admin)
            }
            func figures(_ f: Xcert_Filing_V1_BulletinFigures) -> String {
                "\(f.examSessions) \(f.candidatesExamined) \(f.candidatesPassed) \(f.payments) \(f.feesReceived.fen)"
            }
            let june = try await bulletin(2026, 6)
            #expect(
                LocalDate(wire: june.monthStarts)?.description == "2026-06-01"
                    && LocalDate(wire: june.monthEnds)?.description == "2026-06-30")
            #expect(figures(june.inMonth) == "1 8 6 1 30000", "one session, its correction's figures; the reversed payment not counted")
            let july = try await bulletin(2026, 7)
            #expect(figures(july.inMonth) == "0 0 0 1 20000" && figures(july.yearToDate) == "1 8 6 2 50000")
            #expect(figures(try await bulletin(2026, 5).yearToDate) == "0 0 0 0 0")

            // Filings and applications count by when they were entered: today, in this test.
            let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
            let now = try await bulletin(Int32(today.year), Int32(today.month))
            let filings = try #require(try await h.scalar("SELECT count(*)::integer FROM filing.filings", as: Int32.self))
            let approved = try #require(
                try await h.scalar("SELECT count(*)::integer FROM filing.filings WHERE review_approved", as: Int32.self))
            let applications = try #require(try await h.scalar("SELECT count(*)::integer FROM registry.pilot_applications", as: Int32.self))
            let qualifications = try #require(try await h.scalar("SELECT count(*)::integer FROM registry.qualifications", as: Int32.self))
            #expect(filings > 0 && applications > 0)
            #expect(
                [
                    now.inMonth.filingsSubmitted, now.inMonth.filingsApproved, now.inMonth.applicationsSubmitted,
                    now.inMonth.applicationsApproved,
                ]
                    == [filings, approved, applications, qualifications])

            // The analysts' view: the same figures per month.
            for month in [june, july, now] {
                let viewed = try await h.scalar(
                    """
                    SELECT concat_ws(' ', filings_submitted, filings_approved, applications_submitted, applications_approved, exam_sessions,
                                     candidates_examined, candidates_passed, payments, fees_received_fen)
                    FROM analytics.monthly_bulletin WHERE year = \(month.year) AND month = \(month.month)
                    """, as: String.self)
                let f = month.inMonth
                #expect(
                    viewed
                        == """
                        \(f.filingsSubmitted) \(f.filingsApproved) \(f.applicationsSubmitted) \(f.applicationsApproved) \
                        \(figures(f))
                        """, "\(month.year)-\(month.month)")
            }

            // Refusals: a month that is none; a school may not read it.
            var bad = Xcert_Filing_V1_GetMonthlyBulletinRequest()
            bad.year = 2026
            bad.month = 13
            #expect(
                await h.refusal(Xcert_Filing_V1_ReportService.Method.getMonthlyBulletin, bad, token: h.admin)?.fieldViolations.map(\.field)
                    == ["month"])
            let school = try await h.token(role: "school", party: "4136010001")
            bad.month = 6
            #expect(await h.refusal(Xcert_Filing_V1_ReportService.Method.getMonthlyBulletin, bad, token: school)?.code == .permissionDenied)
            var span = Xcert_Registry_V1_GetApplicationActivityRequest()
            span.from = LocalDate(year: 2026, month: 7, day: 1)!.wire
            span.to = LocalDate(year: 2026, month: 6, day: 30)!.wire
            #expect(
                await h.refusal(Xcert_Registry_V1_PilotService.Method.getApplicationActivity, span, token: h.admin)?.fieldViolations.map(
                    \.field)
                    == ["to"])

            // xctl prints it with the province's headers.
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let printed = try await runCommand(
                xctl,
                [
                    "report", "bulletin", "--year", "2026", "--month", "6", "--format", "csv", "--chinese-headers", "--filing",
                    "127.0.0.1:\(stack.filing.port)", "--token", h.admin,
                ])
            #expect(printed.status == 0 && printed.output.contains("项目,2026年6月,本年累计"), "\(printed.output)")
            #expect(printed.output.contains("收费到账金额（元）,300.00,300.00"), "\(printed.output)")
        }
    }
}
