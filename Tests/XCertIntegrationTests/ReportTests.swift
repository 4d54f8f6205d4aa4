import Foundation
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertTestSupport
import XCertWire

@Suite(
    "Filing: organizations' yearly reports", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .serialized, .timeLimit(.minutes(3)))
struct ReportTests {
    @Test(
        """
        a report of every section reads back with its pass rates; returned, resubmitted as version 2 and accepted; version 1 stays as it was
        """
    )
    func versionChain() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let first = try await h.call(Xcert_Filing_V1_ReportService.Method.submitReport, Self.report(), token: car)
            #expect(first.version == 1 && first.state == .submitted && first.organizationID == seeded.carOrganization)
            #expect(first.content.exams[0].province.passRate.numerator == 90 && first.content.exams[0].province.passRate.denominator == 110)
            #expect(!first.content.exams[1].province.hasPassRate, "no candidate completed: no data, not 0 %")
            #expect(first.content.textbooks[0].authors == ["张三", "李四"] && first.content.fees[0].outstanding.fen == 200_000)

            var returning = Xcert_Filing_V1_ReviewReportRequest()
            returning.id = first.id
            #expect(
                await h.refusal(Xcert_Filing_V1_ReportService.Method.reviewReport, returning, token: h.admin)?.fieldViolations.map(\.field)
                    == ["reason"])
            #expect(await h.refusal(Xcert_Filing_V1_ReportService.Method.reviewReport, returning, token: car)?.code == .permissionDenied)
            returning.reason = "师资培训人数与明细不符"
            let returned = try await h.call(Xcert_Filing_V1_ReportService.Method.reviewReport, returning, token: h.admin)
            #expect(returned.state == .returned && returned.reviewReason == "师资培训人数与明细不符")

            var corrected = Self.report()
            corrected.content.trainings[0].participantsProvince = 30
            let second = try await h.call(Xcert_Filing_V1_ReportService.Method.submitReport, corrected, token: car)
            #expect(second.version == 2 && second.id != first.id)
            let live = try #require(await h.refusal(Xcert_Filing_V1_ReportService.Method.submitReport, corrected, token: car))
            #expect(live.code == .alreadyExists && live.message.contains("report \(second.id)"), "\(live.message)")
            var accept = Xcert_Filing_V1_ReviewReportRequest()
            accept.id = second.id
            accept.accept = true
            #expect(try await h.call(Xcert_Filing_V1_ReportService.Method.reviewReport, accept, token: h.admin).state == .accepted)
            #expect(await h.refusal(Xcert_Filing_V1_ReportService.Method.reviewReport, accept, token: h.admin)?.code == .failedPrecondition)

            var get = Xcert_Filing_V1_GetReportRequest()
            get.id = first.id
            let firstNow = try await h.call(Xcert_Filing_V1_ReportService.Method.getReport, get, token: car)
            #expect(firstNow == returned, "version 1 is unchanged")
            var list = Xcert_Filing_V1_ListReportsRequest()
            list.year = 2025
            #expect(try await h.call(Xcert_Filing_V1_ReportService.Method.listReports, list, token: h.admin).reports.map(\.version) == [2])
            list.allVersions = true
            #expect(
                try await h.call(Xcert_Filing_V1_ReportService.Method.listReports, list, token: h.admin).reports.map(\.version) == [1, 2])
        }
    }

    @Test("each inconsistent figure is its own field violation; a certificate not the organization's is named; nothing is stored")
    func fieldViolations() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            var bad = Self.report()
            bad.content.exams[0].province.declared = 3001  // more than the 3000 nationally
            bad.content.exams[0].national.approved = 5000  // more than declared
            bad.content.fees[0].outstanding.fen = 1  // not receivable − received
            bad.content.textbooks[0].authors = ["一", "二", "三", "四", "五", "六"]
            bad.content.trainings[0].days = 0
            bad.content.sites[0].level = .unspecified
            let refused = try #require(await h.refusal(Xcert_Filing_V1_ReportService.Method.submitReport, bad, token: car))
            #expect(refused.code == .invalidArgument)
            #expect(
                Set(refused.fieldViolations.map(\.field)) == [
                    "content.exams[0].province.declared", "content.exams[0].national.approved", "content.fees[0].outstanding.fen",
                    "content.textbooks[0].authors", "content.trainings[0].days", "content.sites[0].level",
                ], "\(refused.fieldViolations)")
            #expect(
                refused.fieldViolations.first { $0.field == "content.fees[0].outstanding.fen" }?.description.contains("200000 fen") == true)

            var foreign = Self.report()
            foreign.content.exams[1].certificateCode = "BIM"
            let notOwn = try #require(await h.refusal(Xcert_Filing_V1_ReportService.Method.submitReport, foreign, token: car))
            #expect(notOwn.fieldViolations.map(\.field) == ["content.exams[1].certificate_code"])
            #expect(notOwn.fieldViolations[0].description.contains("BIM is not one of this organization's certificates"))
            #expect(try await h.scalar("SELECT count(*) FROM filing.reports", as: Int64.self) == 0)
        }
    }

    @Test("an organization reads only its own reports; a school may not read them; withdrawing needs a reason")
    func isolation() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let bim = try await h.token(role: "organization", party: String(seeded.bimOrganization))
            let report = try await h.call(Xcert_Filing_V1_ReportService.Method.submitReport, Self.report(), token: car)
            var get = Xcert_Filing_V1_GetReportRequest()
            get.id = report.id
            #expect(await h.refusal(Xcert_Filing_V1_ReportService.Method.getReport, get, token: bim)?.code == .notFound)
            var list = Xcert_Filing_V1_ListReportsRequest()
            list.organizationID = seeded.carOrganization
            #expect(try await h.call(Xcert_Filing_V1_ReportService.Method.listReports, list, token: bim).reports.isEmpty)
            let school = try await h.token(role: "school", party: "4136010001")
            #expect(await h.refusal(Xcert_Filing_V1_ReportService.Method.getReport, get, token: school)?.code == .permissionDenied)
            var withdraw = Xcert_Filing_V1_WithdrawReportRequest()
            withdraw.id = report.id
            #expect(
                await h.refusal(Xcert_Filing_V1_ReportService.Method.withdrawReport, withdraw, token: car)?.fieldViolations.map(\.field)
                    == ["reason"])
            withdraw.reason = "数据有误"
            #expect(await h.refusal(Xcert_Filing_V1_ReportService.Method.withdrawReport, withdraw, token: bim)?.code == .notFound)
            #expect(try await h.call(Xcert_Filing_V1_ReportService.Method.withdrawReport, withdraw, token: car).state == .withdrawn)
            #expect(try await h.call(Xcert_Filing_V1_ReportService.Method.submitReport, Self.report(), token: car).version == 2)
        }
    }

    @Test(
        """
        003 appendix table 4 across organizations: the textbooks of each live report (a returned one drops out, its resubmission \
        comes in), an organization its own, the same as analytics.textbooks and as xctl report textbooks with Chinese headers
        """
    )
    func textbookTable() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let bim = try await h.token(role: "organization", party: String(seeded.bimOrganization))
            var submit = Self.report()
            var planned = submit.content.textbooks[0]
            planned.title = "新能源汽车技术（中级）"
            planned.authors = ["王一", "王二", "王三", "王四", "王五"]
            planned.nationalPlanning = true
            planned.certificateCode = "NEV"
            planned.level = .intermediate
            submit.content.textbooks.append(planned)
            let report = try await h.call(Xcert_Filing_V1_ReportService.Method.submitReport, submit, token: car)
            var table = Xcert_Filing_V1_GetTextbookTableRequest()
            table.year = 2025
            let lines = try await h.call(Xcert_Filing_V1_ReportService.Method.getTextbookTable, table, token: h.admin)
            #expect(lines.lines.map(\.number) == [1, 2] && lines.nationalPlanning == 1)
            #expect(lines.lines.map(\.title) == ["汽车运用与维修（初级）", "新能源汽车技术（中级）"])
            #expect(
                lines.lines.allSatisfy {
                    $0.organizationID == seeded.carOrganization && !$0.organizationName.isEmpty && $0.reportID == report.id
                })
            #expect(lines.lines[1].authors.count == 5 && !lines.lines[1].certificateName.isEmpty && lines.lines[1].level == .intermediate)
            #expect(try await h.call(Xcert_Filing_V1_ReportService.Method.getTextbookTable, table, token: bim).lines.isEmpty)
            #expect(try await h.call(Xcert_Filing_V1_ReportService.Method.getTextbookTable, table, token: car).lines.count == 2)
            table.year = 2018
            #expect(
                await h.refusal(Xcert_Filing_V1_ReportService.Method.getTextbookTable, table, token: h.admin)?.fieldViolations.map(\.field)
                    == ["year"])
            table.year = 2025

            // The view says the same, line by line.
            let view = try await h.scalar(
                """
                SELECT string_agg(title || '|' || authors || '|' || published_on || '|' || national_planning || '|' || level, ';'
                                  ORDER BY organization_id, position)
                FROM analytics.textbooks WHERE year = 2025
                """, as: String.self)
            #expect(
                view
                    == "汽车运用与维修（初级）|张三、李四|2024-09-01|false|初级;新能源汽车技术（中级）|王一、王二、王三、王四、王五|2024-09-01|true|中级")

            // Returned, it drops out; resubmitted, the new version comes in.
            var returning = Xcert_Filing_V1_ReviewReportRequest()
            returning.id = report.id
            returning.reason = "教材出版时间有误"
            _ = try await h.call(Xcert_Filing_V1_ReportService.Method.reviewReport, returning, token: h.admin)
            #expect(try await h.call(Xcert_Filing_V1_ReportService.Method.getTextbookTable, table, token: h.admin).lines.isEmpty)
            let second = try await h.call(Xcert_Filing_V1_ReportService.Method.submitReport, submit, token: car)
            #expect(
                try await h.call(Xcert_Filing_V1_ReportService.Method.getTextbookTable, table, token: h.admin).lines.map(\.reportID) == [
                    second.id, second.id,
                ])

            // xctl report textbooks, with 003's headers.
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let result = try await runCommand(
                xctl,
                [
                    "report", "textbooks", "--year", "2025", "--format", "csv", "--chinese-headers", "--filing",
                    "127.0.0.1:\(try #require(h.filingAddress).port)", "--registry", "127.0.0.1:\(h.registry.port)", "--token", h.admin,
                ])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("序号,教材名称,参编人员(前五),出版社名称,出版时间,是否是国家规划教材,对应证书名称及级别"), "\(result.output)")
            #expect(result.output.contains("2,新能源汽车技术（中级）,王一、王二、王三、王四、王五,高等教育出版社,2024-09-01,是,"), "\(result.output)")
        }
    }

    @Test(
        """
        reconciliation against the real services: every figure the rosters, the registry's sites, the ledger and the textbook list do \
        not back is listed with both numbers, as the view lists it; the province returns the report with them; a corrected one agrees
        """
    )
    func reconciliation() async throws {
        try await withFullStack { stack in
            let h = stack.harness()
            let world = try await h.rosterWorld()
            // Sites of AUTO: one at 4136010001 for both levels, one at 4136010003 for the elementary level.
            for (school, levels, opened) in [
                ("4136010001", [Xcert_Common_V1_CertificateLevel.elementary, .intermediate], Int32(2026)),
                ("4136010003", [.elementary], 2026),
            ] {
                var site = Xcert_Registry_V1_RegisterSiteRequest()
                site.schoolCode = school
                site.certificateCode = "AUTO"
                site.levels = levels
                site.capacity = 100
                site.yearOpened = opened
                _ = try await h.call(Xcert_Registry_V1_SiteService.Method.registerSite, site, token: world.car)
            }
            // One session: ten of 4136010001 and five of 4136010003.
            let roster = try await h.createRoster(token: world.car)
            _ = try await h.upload(
                roster.id, chunk: 0, (0..<10).map { Candidates.row($0) } + (10..<15).map { Candidates.row($0, school: "4136010003") },
                token: world.car)
            let sealed = try await h.seal(roster.id, token: world.car)
            let passed = sealed.tallies.reduce(0) { $0 + $1.passed }
            // Settlement charges 300 yuan each (the filing's fee); 4136010001 pays 1,000 yuan.
            let settlement = testClient(port: stack.settlement.port).authorized(token: stack.admin)
            var fees = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
            fees.year = RosterWorld.year
            fees.organizationID = world.carOrganization
            for _ in 0..<300 {
                let table = try await settlement.unary(
                    Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, fees, options: CallOptions())
                if table.total.completed == 15 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            _ = try await settlement.unary(
                Xcert_Settlement_V1_LedgerService.Method.recordPayment, SettlementTests.payment("4136010001", 100_000, (2026, 7, 1)),
                options: CallOptions(idempotencyKey: "reconcile-pay"))

            // Its training at 4136010001: three teachers, five days.
            var training = Xcert_Registry_V1_TrainingRecord()
            training.schoolCode = "4136010001"
            training.certificateCode = "AUTO"
            training.level = .elementary
            training.trainingName = "汽车运用与维修师资培训"
            training.startOn = LocalDate(year: 2026, month: 7, day: 10)!.wire
            training.endOn = LocalDate(year: 2026, month: 7, day: 14)!.wire
            training.hours = 40
            var trainings = Xcert_Registry_V1_RecordTrainingsRequest()
            trainings.records = ["王一", "王二", "王三"].map { teacher in
                var record = training
                record.teacherName = teacher
                return record
            }
            _ = try await h.call(Xcert_Registry_V1_TeacherTrainingService.Method.recordTrainings, trainings, token: world.car)

            // The report: five declared too many, four trained where three were, no line for the intermediate site, the payment
            // counted as 1,500 yuan, two textbooks counted but one listed.
            var submit = Self.report()
            submit.year = RosterWorld.year
            submit.content.exams = [submit.content.exams[0]]
            submit.content.trainings[0].startDate = training.startOn
            submit.content.trainings[0].participantsProvince = 4
            submit.content.exams[0].province.declared = 20
            submit.content.exams[0].province.approved = 15
            submit.content.exams[0].province.completed = 15
            submit.content.exams[0].province.passed = passed
            submit.content.sites[0].sitesProvince = 2
            submit.content.sites[0].candidatesAssessed = 15
            submit.content.sites[0].examSessions = 1
            submit.content.fees[0].completed = 15
            submit.content.fees[0].receivable.fen = 450_000
            submit.content.fees[0].received.fen = 150_000
            submit.content.fees[0].outstanding.fen = 300_000
            submit.content.resources[0].publishedTextbooks = 2
            submit.content.textbooks = [submit.content.textbooks[0]]
            let report = try await h.call(Xcert_Filing_V1_ReportService.Method.submitReport, submit, token: world.car)

            var reconcile = Xcert_Filing_V1_GetReportReconciliationRequest()
            reconcile.reportID = report.id
            let reconciliation = try await h.call(Xcert_Filing_V1_ReportService.Method.getReportReconciliation, reconcile, token: h.admin)
            let expected = [
                "1 AUTO 1 province.declared 20 15 rosters false",
                "2 汽车运用与维修师资培训 2026-07-10 0 participants_province 4 3 training records false",
                "3 AUTO 2 sites_province 0 1 registry sites true",
                "4 AUTO 1 received 150000 100000 ledger false", "4 AUTO 1 outstanding 300000 350000 ledger false",
                "5 AUTO 1 published_textbooks 2 1 textbook list false",
            ]
            func lines(_ differences: [Xcert_Filing_V1_ReportDifference]) -> [String] {
                differences.map {
                    """
                    \($0.table.rawValue) \($0.training.isEmpty ? $0.certificateCode : $0.training) \($0.level.rawValue) \
                    \($0.figure) \($0.reported) \($0.recorded) \
                    \($0.source) \($0.lineMissing)
                    """
                }
            }
            #expect(lines(reconciliation.differences) == expected)
            #expect(
                reconciliation.figuresChecked == 4 + 2 + 2 * 3 + 4 + 1,
                "one exam line, one training, two site lines, one fee line, one resource line")
            #expect(reconciliation.differences[0].label == "申报人数" && reconciliation.differences[3].label == "实收金额(分)")
            // The organization reconciles its own; another organization's is not found; a school may not.
            #expect(
                try await h.call(Xcert_Filing_V1_ReportService.Method.getReportReconciliation, reconcile, token: world.car)
                    == reconciliation)
            #expect(
                await h.refusal(Xcert_Filing_V1_ReportService.Method.getReportReconciliation, reconcile, token: world.bim)?.code
                    == .notFound)
            let school = try await h.token(role: "school", party: "4136010001")
            #expect(
                await h.refusal(Xcert_Filing_V1_ReportService.Method.getReportReconciliation, reconcile, token: school)?.code
                    == .permissionDenied)

            // The analysts' view lists the same.
            let viewed = try await withRole("xcert_analyst", on: stack.postgres) { connection in
                var rows: [String] = []
                for try await row in try await connection.query(
                    """
                    SELECT table_no, coalesce(training, certificate_code), coalesce(level, 0), figure, reported, recorded, source,
                           line_missing
                    FROM analytics.report_differences WHERE report_id = \(report.id) ORDER BY table_no, certificate_code, level, position
                    """, logger: testLogger("reconciliation")
                ).decode((Int32, String, Int32, String, Int64, Int64, String, Bool).self) {
                    rows.append("\(row.0) \(row.1) \(row.2) \(row.3) \(row.4) \(row.5) \(row.6) \(row.7)")
                }
                return rows
            }
            #expect(viewed == expected)

            // Returned with them: the reason lists them, the report keeps them; accepting "with differences" is refused.
            var review = Xcert_Filing_V1_ReviewReportRequest()
            review.id = report.id
            review.accept = true
            review.withDifferences = true
            #expect(
                await h.refusal(Xcert_Filing_V1_ReportService.Method.reviewReport, review, token: h.admin)?.fieldViolations.map(\.field)
                    == ["with_differences"])
            review.accept = false
            review.reason = "请核对后重新报送。"
            let returned = try await h.call(Xcert_Filing_V1_ReportService.Method.reviewReport, review, token: h.admin)
            #expect(returned.state == .returned && lines(returned.returnedWith) == expected)
            #expect(
                returned.reviewReason.hasPrefix("请核对后重新报送。\n与系统记录不符 6 处：AUTO 初级 申报人数 填报 20，系统 15；")
                    && returned.reviewReason.contains("AUTO 中级 考核站点数 缺少该行（系统 1）"), "\(returned.reviewReason)")
            #expect(
                try await h.scalar("SELECT count(*) FROM analytics.report_differences WHERE report_id = \(report.id)", as: Int64.self) == 0,
                "a returned report is no longer live")

            // Corrected: it agrees, and there is nothing to return it with.
            submit.content.exams[0].province.declared = 15
            submit.content.trainings[0].participantsProvince = 3
            var intermediate = submit.content.sites[0]
            intermediate.level = .intermediate
            intermediate.sitesProvince = 1
            intermediate.candidatesAssessed = 0
            intermediate.examSessions = 0
            submit.content.sites.append(intermediate)
            submit.content.fees[0].received.fen = 100_000
            submit.content.fees[0].outstanding.fen = 350_000
            submit.content.resources[0].publishedTextbooks = 1
            let corrected = try await h.call(Xcert_Filing_V1_ReportService.Method.submitReport, submit, token: world.car)
            reconcile.reportID = corrected.id
            #expect(
                try await h.call(Xcert_Filing_V1_ReportService.Method.getReportReconciliation, reconcile, token: h.admin).differences
                    .isEmpty)
            review.id = corrected.id
            let agrees = try #require(await h.refusal(Xcert_Filing_V1_ReportService.Method.reviewReport, review, token: h.admin))
            #expect(agrees.code == .failedPrecondition && agrees.message.contains("agrees with the system's figures"))

            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let printed = try await runCommand(
                xctl,
                [
                    "report", "reconciliation", "--report-id", String(report.id), "--chinese-headers", "--format", "csv", "--filing",
                    "127.0.0.1:\(stack.filing.port)", "--token", h.admin,
                ])
            #expect(printed.status == 0 && printed.output.contains("表,证书或培训,级别,项目,填报数,系统数,系统数来源,缺少该行"), "\(printed.output)")
            #expect(printed.output.contains("一.3,AUTO,中级,考核站点数,0,1,registry sites,是"), "\(printed.output)")
            await h.client.close()
            await h.filingClient?.close()
        }
    }

    /// A consistent 2025 report of organization "car" (certificates AUTO and NEV).
    static func report() -> Xcert_Filing_V1_SubmitReportRequest {
        func counts(_ declared: Int64, _ approved: Int64, _ completed: Int64, _ passed: Int64) -> Xcert_Filing_V1_CandidateCounts {
            var counts = Xcert_Filing_V1_CandidateCounts()
            counts.declared = declared
            counts.approved = approved
            counts.completed = completed
            counts.passed = passed
            return counts
        }
        func date(_ year: Int32, _ month: Int32, _ day: Int32) -> Xcert_Common_V1_Date {
            var date = Xcert_Common_V1_Date()
            date.year = year
            date.month = month
            date.day = day
            return date
        }
        var request = Xcert_Filing_V1_SubmitReportRequest()
        request.year = 2025
        var exam = Xcert_Filing_V1_ExamLine()
        exam.certificateCode = "AUTO"
        exam.level = .elementary
        exam.national = counts(3000, 2800, 2600, 2000)
        exam.province = counts(120, 115, 110, 90)
        var planned = Xcert_Filing_V1_ExamLine()
        planned.certificateCode = "NEV"
        planned.level = .intermediate
        planned.national = counts(500, 400, 300, 200)
        planned.province = counts(20, 0, 0, 0)
        request.content.exams = [exam, planned]
        var training = Xcert_Filing_V1_TeacherTraining()
        training.name = "汽车运用与维修师资培训"
        training.startDate = date(2025, 7, 10)
        training.days = 5
        training.place = "南昌"
        training.participantsNational = 200
        training.participantsProvince = 40
        request.content.trainings = [training]
        var site = Xcert_Filing_V1_SiteLine()
        site.certificateCode = "AUTO"
        site.level = .elementary
        site.sitesNational = 120
        site.sitesProvince = 6
        site.candidatesAssessed = 110
        site.examSessions = 4
        request.content.sites = [site]
        var fee = Xcert_Filing_V1_FeeLine()
        fee.certificateCode = "AUTO"
        fee.level = .elementary
        fee.completed = 110
        fee.receivable.fen = 3_300_000
        fee.received.fen = 3_100_000
        fee.outstanding.fen = 200_000
        request.content.fees = [fee]
        var resource = Xcert_Filing_V1_ResourceLine()
        resource.certificateCode = "AUTO"
        resource.level = .elementary
        resource.publishedTextbooks = 3
        resource.questionBankSize = 5000
        resource.mockPapers = 10
        resource.resourcePack = true
        request.content.resources = [resource]
        var book = Xcert_Filing_V1_Textbook()
        book.title = "汽车运用与维修（初级）"
        book.authors = ["张三", "李四"]
        book.publisher = "高等教育出版社"
        book.publishedOn = date(2024, 9, 1)
        book.nationalPlanning = false
        book.certificateCode = "AUTO"
        book.level = .elementary
        request.content.textbooks = [book]
        request.content.narrative = "二、开展工作的具体举措……"
        return request
    }
}
