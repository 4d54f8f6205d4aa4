import Foundation
import PostgresNIO
import SwiftProtobuf
import Testing
import XCertAPI
import XCertProto
import XCertStore
import XCertTestSupport
import XCertWire

@testable import Settlement

@Suite(
    "Settlement: ceilings, standards, receivables, payments, outstanding fees, subsidies",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .serialized, .timeLimit(.minutes(3)))
struct SettlementTests {
    @Test("fee ceilings are the province's; CheckFees names each fee above its ceiling and each level without one")
    func ceilings() async throws {
        try await withFilingStack { h in
            try await h.seedReference()
            let settlement = try await Settlement.start(h)
            var set = Xcert_Settlement_V1_SetFeeCeilingsRequest()
            set.ceilings = [(Xcert_Common_V1_CertificateLevel.elementary, Int64(25_000)), (.intermediate, 0), (.elementary, 1)].map {
                level, fen in
                var ceiling = Xcert_Settlement_V1_FeeCeiling()
                ceiling.certificateCode = "AUTO"
                ceiling.level = level
                ceiling.ceiling.fen = fen
                return ceiling
            }
            let refused = try #require(
                await settlement.refusal(Xcert_Settlement_V1_FeeCeilingService.Method.setFeeCeilings, set, token: h.admin))
            #expect(refused.fieldViolations.map(\.field) == ["ceilings[1].ceiling.fen", "ceilings[2].level"], "\(refused)")
            set.ceilings.removeLast()
            set.ceilings[1].ceiling.fen = 40_000
            let world = try await h.token(role: "organization", party: "1")
            #expect(
                await settlement.refusal(Xcert_Settlement_V1_FeeCeilingService.Method.setFeeCeilings, set, token: world)?.code
                    == .permissionDenied)
            let ceilings = try await settlement.call(Xcert_Settlement_V1_FeeCeilingService.Method.setFeeCeilings, set, token: h.admin)
            #expect(ceilings.ceilings.map(\.ceiling.fen) == [25_000, 40_000])

            var check = Xcert_Settlement_V1_CheckFeesRequest()
            check.certificateCode = "AUTO"
            check.fees = [(Xcert_Common_V1_CertificateLevel.elementary, Int64(30_000)), (.intermediate, 40_000), (.advanced, 90_000)].map {
                level, fen in
                var fee = Xcert_Settlement_V1_ProposedFee()
                fee.level = level
                fee.fee.fen = fen
                return fee
            }
            let answer = try await settlement.call(Xcert_Settlement_V1_FeeCeilingService.Method.checkFees, check, token: world)
            #expect(!answer.withinCeilings)
            #expect(answer.excesses.map { "\($0.level):\($0.fee.fen)>\($0.ceiling.fen)" } == ["elementary:30000>25000"])
            #expect(answer.unconfiguredLevels == [.advanced])
            await settlement.stop()
        }
    }

    @Test(
        """
        receivables from counted rosters (a correction by a correcting entry), payments oldest first with an idempotency key, credit, \
        reversal, refund, and the reports
        """
    )
    func ledgerEndToEnd() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let assessment = try await Assessment.start(h)
            let settlement = try await Settlement.start(h, assessment: assessment)
            // The approved filing's fees became the standards: 300 yuan a level.
            let standards = try await settlement.waitFor(standards: 3, token: h.admin)
            #expect(standards.allSatisfy { $0.fee.fen == 30_000 && $0.certificateCode == "AUTO" && $0.year == 2026 })

            // Exam on 2026-06-15: ten of 4136010001 and five of 4136010003 completed.
            let roster = try await h.createRoster(token: world.car)
            _ = try await h.upload(
                roster.id, chunk: 0, (0..<10).map { Candidates.row($0) } + (10..<15).map { Candidates.row($0, school: "4136010003") },
                token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            var receivables = try await settlement.waitFor(receivables: 2, token: h.admin)
            #expect(
                receivables.map { "\($0.schoolCode):\($0.completed):\($0.amount.fen)" } == ["4136010001:10:300000", "4136010003:5:150000"])
            #expect(
                receivables.allSatisfy { ($0.dueDate.year, $0.dueDate.month, $0.dueDate.day) == (2026, 7, 15) },
                "30 days after the exam, by default")

            // 4136010001 pays 1,000 yuan by the due date, then 2,500 late: the rest is credit.
            let school = try await h.token(role: "school", party: "4136010001")
            let first = try await settlement.pay("4136010001", fen: 100_000, on: (2026, 7, 1), token: school, key: "pay-1")
            let retried = try await settlement.pay("4136010001", fen: 100_000, on: (2026, 7, 1), token: school, key: "pay-1")
            #expect(retried == first, "the same key answers the first payment")
            #expect(try await h.scalar("SELECT count(*) FROM settlement.payments", as: Int64.self) == 1)
            let late = try await settlement.pay("4136010001", fen: 250_000, on: (2026, 8, 1), token: school, key: "pay-2")
            #expect(late.allocations.map(\.amount.fen) == [200_000] && late.unallocated.fen == 50_000)
            var account = try await settlement.account("4136010001", token: school)
            #expect(
                [account.receivable.fen, account.received.fen, account.outstanding.fen, account.credit.fen] == [
                    300_000, 350_000, 0, 50_000,
                ])
            #expect(
                account.receivables[0].paidByDueDate == false && account.receivables[0].settledOn.month == 8,
                "settled in August, due in July: late")

            // A correction: two of 4136010001 never sat. The receivable is corrected by −600 yuan, the late payment's share released
            // as credit.
            let correction = try await h.createRoster(supersedes: roster.id, reason: "两人缺考", token: world.car)
            _ = try await h.upload(
                correction.id, chunk: 0, (0..<8).map { Candidates.row($0) } + (10..<15).map { Candidates.row($0, school: "4136010003") },
                token: world.car)
            _ = try await h.seal(correction.id, token: world.car)
            for _ in 0..<100 {
                account = try await settlement.account("4136010001", token: school)
                if account.receivable.fen == 240_000 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(account.receivables.count == 1, "the same receivable, corrected")
            #expect(
                account.receivables[0].entries.map { "\($0.kind):\($0.completed):\($0.amount.fen)" } == [
                    "charge:10:300000", "correction:8:-60000",
                ])
            #expect(
                [account.receivable.fen, account.received.fen, account.outstanding.fen, account.credit.fen] == [
                    240_000, 350_000, 0, 110_000,
                ])
            #expect(try await h.scalar("SELECT count(*) FROM settlement.receivables", as: Int64.self) == 2)

            // The province refunds the credit (not more), and reverses the first payment (returned by the bank).
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.refundCredit, Self.refund("4136010001", 110_001), token: h.admin)?.code
                    == .failedPrecondition)
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.refundCredit, Self.refund("4136010001", 110_000), token: school)?.code
                    == .permissionDenied)
            _ = try await settlement.call(
                Xcert_Settlement_V1_LedgerService.Method.refundCredit, Self.refund("4136010001", 110_000), token: h.admin)
            var reverse = Xcert_Settlement_V1_ReversePaymentRequest()
            reverse.paymentID = first.id
            reverse.reason = "银行退票"
            let reversed = try await settlement.call(Xcert_Settlement_V1_LedgerService.Method.reversePayment, reverse, token: h.admin)
            #expect(reversed.reversed && reversed.allocations.map(\.amount.fen) == [100_000, -100_000])
            account = try await settlement.account("4136010001", token: h.admin)
            #expect(
                [account.receivable.fen, account.received.fen, account.outstanding.fen, account.credit.fen] == [
                    240_000, 140_000, 100_000, 0,
                ])
            #expect(account.receivable.fen == account.received.fen + account.outstanding.fen - account.credit.fen)

            // Two payments at once against 4136010003's 1,500 yuan: settled once, the rest credit.
            let other = try await h.token(role: "school", party: "4136010003")
            async let a = settlement.pay("4136010003", fen: 100_000, on: (2026, 7, 10), token: other, key: "race-a")
            async let b = settlement.pay("4136010003", fen: 100_000, on: (2026, 7, 10), token: other, key: "race-b")
            _ = try await (a, b)
            let raced = try await settlement.account("4136010003", token: other)
            #expect([raced.receivable.fen, raced.received.fen, raced.outstanding.fen, raced.credit.fen] == [150_000, 200_000, 0, 50_000])
            #expect(raced.receivables[0].paidByDueDate)

            // Refused: another school's account, amounts of 0 or less or too large, a day in the future, an organization paying.
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.recordPayment, Self.payment("4136010001", 1, (2026, 7, 1)), token: other)?.code
                    == .notFound)
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.recordPayment, Self.payment("4136010003", 0, (2026, 7, 1)), token: other)?
                    .fieldViolations.map(\.field) == ["amount.fen"])
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.recordPayment, Self.payment("4136010003", -5, (2026, 7, 1)), token: other)?
                    .fieldViolations.map(\.field) == ["amount.fen"])
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.recordPayment, Self.payment("4136010003", .max, (2026, 7, 1)), token: other)?
                    .fieldViolations.map(\.field) == ["amount.fen"])
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.recordPayment, Self.payment("4136010003", 1, (2099, 1, 1)), token: other)?
                    .fieldViolations.map(\.field) == ["paid_on"])
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.recordPayment, Self.payment("4136010003", 1, (2026, 7, 1)), token: world.car)?
                    .code == .permissionDenied)
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.recordPayment, Self.payment("4136019999", 1, (2026, 7, 1)), token: h.admin)?
                    .fieldViolations.map(\.field) == ["school_code"])
            #expect(try await h.scalar("SELECT count(*) FROM settlement.payments", as: Int64.self) == 4, "nothing stored by the refusals")

            // Who sees what: a school its own receivables, an organization those owed to it, another organization none.
            var list = Xcert_Settlement_V1_ListReceivablesRequest()
            list.year = 2026
            #expect(
                try await settlement.call(Xcert_Settlement_V1_LedgerService.Method.listReceivables, list, token: other).receivables.map(
                    \.schoolCode) == ["4136010003"])
            #expect(
                try await settlement.call(Xcert_Settlement_V1_LedgerService.Method.listReceivables, list, token: world.car).receivables
                    .count == 2)
            #expect(
                try await settlement.call(Xcert_Settlement_V1_LedgerService.Method.listReceivables, list, token: world.bim).receivables
                    .isEmpty)
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_LedgerService.Method.getAccount, Self.accountRequest("4136010001"), token: world.car)?.code
                    == .permissionDenied)

            // 003's appendix table 3 and the organization's fee table.
            var outstanding = Xcert_Settlement_V1_GetOutstandingTableRequest()
            outstanding.year = 2026
            let table = try await settlement.call(
                Xcert_Settlement_V1_SettlementReportService.Method.getOutstandingTable, outstanding, token: h.admin)
            #expect(
                table.lines.map { "\($0.certificateName):\($0.level):\($0.schoolName):\($0.completed):\($0.outstanding.fen)" } == [
                    "汽车运用与维修:elementary:学校4136010001:8:100000"
                ])
            #expect(table.total.outstanding.fen == 100_000)
            var fees = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
            fees.year = 2026
            let feeTable = try await settlement.call(
                Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, fees, token: world.car)
            #expect(
                feeTable.lines.map {
                    "\($0.certificateCode):\($0.level):\($0.completed):\($0.receivable.fen):\($0.received.fen):\($0.outstanding.fen)"
                } == ["AUTO:elementary:13:390000:290000:100000"])
            // The analysts' views give the numbers of the services' reports.
            let viewed = try await withRole("xcert_analyst", on: h.postgres) { connection in
                var lines: [String] = []
                let outstandingRows = try await connection.query(
                    """
                    SELECT certificate_name, level_name, school_name, completed, outstanding_fen
                    FROM analytics.outstanding_fees
                    WHERE year = 2026
                    ORDER BY certificate_code, level, school_code
                    """,
                    logger: testLogger("analytics")
                )
                for try await (certificate, level, school, completed, outstanding) in outstandingRows.decode(
                    (String, String, String, Int64, Int64).self)
                {
                    lines.append("outstanding \(certificate):\(level):\(school):\(completed):\(outstanding)")
                }
                let feeRows = try await connection.query(
                    """
                    SELECT certificate_code, completed, receivable_fen, received_fen, outstanding_fen
                    FROM analytics.org_fee_summary
                    WHERE year = 2026
                    ORDER BY organization_id, certificate_code, level
                    """,
                    logger: testLogger("analytics")
                )
                for try await (certificate, completed, receivable, received, outstanding) in feeRows.decode(
                    (String, Int64, Int64, Int64, Int64).self)
                {
                    lines.append("fees \(certificate):\(completed):\(receivable):\(received):\(outstanding)")
                }
                let detailRows = try await connection.query(
                    """
                    SELECT school_code, declared, completed, passed
                    FROM analytics.school_assessment_detail
                    WHERE year = 2026
                    ORDER BY certificate_code, level, school_code
                    """,
                    logger: testLogger("analytics")
                )
                for try await (school, declared, completed, passed) in detailRows.decode((String, Int64, Int64, Int64).self) {
                    lines.append("detail \(school):\(declared):\(completed):\(passed)")
                }
                let filingRows = try await connection.query(
                    "SELECT certificate_code, version, state, fees FROM analytics.filings", logger: testLogger("analytics"))
                for try await (certificate, version, state, fees) in filingRows.decode((String, Int32, String, String).self) {
                    lines.append("filing \(certificate):\(version):\(state):\(fees)")
                }
                return lines
            }
            #expect(
                viewed == [
                    "outstanding 汽车运用与维修:初级:学校4136010001:8:100000",
                    "fees AUTO:13:390000:290000:100000",
                    "detail 4136010001:8:8:8", "detail 4136010003:5:5:5",
                    "filing AUTO:1:approved:初级 300.00; 中级 300.00; 高级 300.00",
                ], "the same as appendix table 3, the fee table and the roster counts")

            // The same tables through xctl, as CSV for Excel; a payment of 1.005 yuan refused before it is sent.
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let address = ["--settlement", "127.0.0.1:\(settlement.port)", "--token", h.admin]
            let csv = try await runCommand(xctl, ["settlement", "report", "outstanding", "--year", "2026", "--format", "csv"] + address)
            #expect(csv.status == 0 && csv.output.contains("1,汽车运用与维修,初级,学校4136010001,8,1000.00\r\n合计,,,,8,1000.00"), "\(csv.output)")
            let feeCSV = try await runCommand(xctl, ["settlement", "report", "fees", "--year", "2026", "--format", "csv"] + address)
            #expect(feeCSV.status == 0 && feeCSV.output.contains(",汽车运用与维修,初级,13,3900.00,2900.00,1000.00"), "\(feeCSV.output)")
            // xctl report: every table from its service, English or 003's Chinese headers.
            let services = [
                "--filing", "127.0.0.1:\(try #require(h.filingAddress).port)", "--assessment", "127.0.0.1:\(assessment.address.port)",
                "--settlement", "127.0.0.1:\(settlement.port)", "--token", h.admin,
            ]
            let chinese = try await runCommand(
                xctl, ["report", "outstanding", "--year", "2026", "--format", "csv", "--chinese-headers"] + services)
            #expect(chinese.status == 0 && chinese.output.contains("序号,证书名称,级别,试点院校名称,完成考核人数,未结金额\r\n"), "\(chinese.output)")
            let english = try await runCommand(xctl, ["report", "fees", "--year", "2026", "--format", "csv"] + services)
            #expect(
                english.status == 0
                    && english.output.contains("no,organization,certificate,level,completed,receivable,received,outstanding\r\n"),
                "\(english.output)")
            let sites = try await runCommand(xctl, ["report", "sites", "--year", "2026", "--format", "csv"] + services)
            #expect(
                sites.status == 0 && sites.output.contains("1,汽车运用与维修,初级,学校4136010001,1,2026-06-15,13\r\n合计,,,,1,,13"), "\(sites.output)")
            let declarations = try await runCommand(xctl, ["report", "declarations", "--year", "2026", "--format", "csv"] + services)
            #expect(declarations.status == 0 && declarations.output.contains("合计,,,,13,13,13,13,100.00%"), "\(declarations.output)")
            let siteView = try await withRole("xcert_analyst", on: h.postgres) { connection in
                let rows = try await connection.query(
                    "SELECT sessions, exam_dates, candidates FROM analytics.assessment_sites WHERE year = 2026",
                    logger: testLogger("analytics"))
                var lines: [String] = []
                for try await (sessions, dates, candidates) in rows.decode((Int64, String, Int64).self) {
                    lines.append("\(sessions),\(dates),\(candidates)")
                }
                return lines
            }
            #expect(siteView == ["1,2026-06-15,13"], "the view agrees with appendix table 2")
            let badAmount = try await runCommand(
                xctl,
                ["settlement", "pay", "--school", "4136010003", "--amount", "1.005", "--date", "2026-07-01", "--reference", "x"] + address)
            #expect(badAmount.status != 0 && badAmount.output.contains("--amount takes yuan"), "\(badAmount.output)")
            fees.organizationID = world.carOrganization + 1
            #expect(
                await settlement.refusal(
                    Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, fees, token: world.car)?.code == .notFound)

            // Timeliness, the inputs of 1-4-1 and 1-4-2: 4136010001 late and 1,400 of 2,400 yuan paid; 4136010003 on time, all paid.
            var timeliness = Xcert_Settlement_V1_GetPaymentTimelinessRequest()
            timeliness.year = 2026
            let schools = try await settlement.call(
                Xcert_Settlement_V1_SettlementReportService.Method.getPaymentTimeliness, timeliness, token: h.admin
            ).schools
            #expect(
                schools.map { "\($0.schoolCode):\($0.paidByDueDate)/\($0.receivablesDue):\($0.received.fen)/\($0.receivable.fen)" } == [
                    "4136010001:0/1:140000/240000", "4136010003:1/1:150000/150000",
                ])

            // The ledger is append-only: the service's role may not change an entry.
            let updateRefused = try await h.postgres.withConnection { connection in
                try await connection.query("SET ROLE xcert_settlement", logger: testLogger("settlement"))
                let refused: Bool
                do {
                    try await connection.query("UPDATE settlement.payments SET amount_fen = 1", logger: testLogger("settlement"))
                    refused = false
                } catch {
                    refused = String(reflecting: error).contains("permission denied")
                }
                try await connection.query("RESET ROLE", logger: testLogger("settlement"))
                return refused
            }
            #expect(updateRefused)

            // Subsidy by completed assessments: 8 and 5 share 1,000.01 yuan exactly.
            var subsidy = Xcert_Settlement_V1_AllocateSubsidyRequest()
            subsidy.year = 2026
            subsidy.budget.fen = 100_001
            subsidy.title = "2026年1+X证书试点补助资金"
            let allocation = try await settlement.call(Xcert_Settlement_V1_SubsidyService.Method.allocateSubsidy, subsidy, token: h.admin)
            #expect(
                allocation.shares.map { "\($0.schoolCode):\($0.weight):\($0.amount.fen)" } == ["4136010001:8:61539", "4136010003:5:38462"])
            var get = Xcert_Settlement_V1_GetSubsidyAllocationRequest()
            get.id = allocation.id
            #expect(
                try await settlement.call(Xcert_Settlement_V1_SubsidyService.Method.getSubsidyAllocation, get, token: other).shares.map(
                    \.schoolCode) == ["4136010003"])
            subsidy.weights = [("4136010001", Int64(0)), ("4136010003", 0)].map { code, weight in
                var share = Xcert_Settlement_V1_SubsidyWeight()
                share.schoolCode = code
                share.weight = weight
                return share
            }
            #expect(
                await settlement.refusal(Xcert_Settlement_V1_SubsidyService.Method.allocateSubsidy, subsidy, token: h.admin)?
                    .fieldViolations.map(\.field) == ["weights"])

            // A due policy of the province's own applies to receivables charged after it: 5 days before the exam (another session).
            var policy = Xcert_Settlement_V1_SetDuePolicyRequest()
            policy.policy.year = 2026
            policy.policy.basis = .beforeExam
            policy.policy.days = 400
            #expect(
                await settlement.refusal(Xcert_Settlement_V1_LedgerService.Method.setDuePolicy, policy, token: h.admin)?.fieldViolations
                    .map(\.field) == ["policy.days"])
            policy.policy.days = 5
            #expect(
                await settlement.refusal(Xcert_Settlement_V1_LedgerService.Method.setDuePolicy, policy, token: other)?.code
                    == .permissionDenied)
            _ = try await settlement.call(Xcert_Settlement_V1_LedgerService.Method.setDuePolicy, policy, token: h.admin)
            let later = try await h.createRoster(day: 20, token: world.car)
            _ = try await h.upload(later.id, chunk: 0, [Candidates.row(100, school: "4136010003")], token: world.car)
            _ = try await h.seal(later.id, token: world.car)
            receivables = try await settlement.waitFor(receivables: 3, token: h.admin)
            #expect(
                receivables.map { "\($0.level):\(dateText($0.examDate))→\(dateText($0.dueDate))" } == [
                    "elementary:2026-06-15→2026-07-15", "elementary:2026-06-15→2026-07-15", "elementary:2026-06-20→2026-06-15",
                ])

            await settlement.stop()
            await assessment.stop()
        }
    }

    static func payment(_ school: String, _ fen: Int64, _ day: (Int32, Int32, Int32)) -> Xcert_Settlement_V1_RecordPaymentRequest {
        var request = Xcert_Settlement_V1_RecordPaymentRequest()
        request.schoolCode = school
        request.amount.fen = fen
        request.paidOn.year = day.0
        request.paidOn.month = day.1
        request.paidOn.day = day.2
        request.reference = "ICBC-\(fen)"
        return request
    }

    static func refund(_ school: String, _ fen: Int64) -> Xcert_Settlement_V1_RefundCreditRequest {
        var request = Xcert_Settlement_V1_RefundCreditRequest()
        request.schoolCode = school
        request.amount.fen = fen
        request.refundedOn.year = 2026
        request.refundedOn.month = 9
        request.refundedOn.day = 1
        request.reference = "退款-\(fen)"
        return request
    }

    static func accountRequest(_ school: String) -> Xcert_Settlement_V1_GetAccountRequest {
        var request = Xcert_Settlement_V1_GetAccountRequest()
        request.schoolCode = school
        return request
    }
}

private func dateText(_ date: Xcert_Common_V1_Date) -> String {
    String(format: "%04d-%02d-%02d", date.year, date.month, date.day)
}

/// A settlement service beside the filing stack (and an assessment service, when given),
/// served in the test process.
struct Settlement {
    let service: InProcessService
    let client: RPCClient
    var port: Int { self.service.port }

    static func start(_ h: RegistryHarness, assessment: Assessment? = nil) async throws -> Settlement {
        let token = try await h.token(role: "service", party: "settlement")
        var environment = [
            "XCERT_REGISTRY_ADDRESS": "127.0.0.1:\(h.registry.port)",
            "XCERT_FILING_ADDRESS": "127.0.0.1:\(try #require(h.filingAddress).port)",
            "XCERT_SERVICE_TOKEN": token,
        ]
        if let assessment { environment["XCERT_ASSESSMENT_ADDRESS"] = "127.0.0.1:\(assessment.address.port)" }
        let service = try await InProcessService.start(SettlementParts.definition(), database: h.database, environment: environment)
        return Settlement(service: service, client: testClient(port: service.port))
    }

    /// Stops it and closes its client.
    func stop() async {
        await self.client.close()
        await self.service.terminate()
    }

    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, token: String, key: String? = nil
    ) async throws -> Response {
        try await self.client.authorized(token: token).unary(method, request, options: CallOptions(idempotencyKey: key))
    }

    func refusal<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, token: String
    ) async -> RPCError? {
        do {
            _ = try await self.call(method, request, token: token)
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(.unknown, "\(error)")
        }
    }

    func pay(
        _ school: String, fen: Int64, on day: (Int32, Int32, Int32), token: String, key: String
    ) async throws -> Xcert_Settlement_V1_Payment {
        try await self.call(
            Xcert_Settlement_V1_LedgerService.Method.recordPayment, SettlementTests.payment(school, fen, day), token: token, key: key)
    }

    func account(_ school: String, token: String) async throws -> Xcert_Settlement_V1_Account {
        try await self.call(Xcert_Settlement_V1_LedgerService.Method.getAccount, SettlementTests.accountRequest(school), token: token)
    }

    /// The year 2026's fee standards once there are `count` (at most 30 s).
    func waitFor(standards count: Int, token: String) async throws -> [Xcert_Settlement_V1_FeeStandard] {
        var request = Xcert_Settlement_V1_ListFeeStandardsRequest()
        request.year = 2026
        var standards: [Xcert_Settlement_V1_FeeStandard] = []
        for _ in 0..<300 {
            standards = try await self.call(Xcert_Settlement_V1_LedgerService.Method.listFeeStandards, request, token: token).standards
            if standards.count >= count { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(standards.count == count)
        return standards
    }

    /// The year 2026's receivables once there are `count` (at most 30 s).
    func waitFor(receivables count: Int, token: String) async throws -> [Xcert_Settlement_V1_Receivable] {
        var request = Xcert_Settlement_V1_ListReceivablesRequest()
        request.year = 2026
        var receivables: [Xcert_Settlement_V1_Receivable] = []
        for _ in 0..<300 {
            receivables = try await self.call(Xcert_Settlement_V1_LedgerService.Method.listReceivables, request, token: token).receivables
            if receivables.count >= count { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(receivables.count == count)
        return receivables
    }
}
