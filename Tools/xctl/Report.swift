import ArgumentParser
import Foundation
import SwiftProtobuf
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xctl report NAME --year Y`: the province's report tables, from the services that own
/// them, under English headers or (`--chinese-headers`) 003's own.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: """
            The province's report tables: 003's appendix tables 1–4, 002's pilot summary, the organization fee table, a yearly \
            report's reconciliation, the year's results, the monthly bulletin.
            """,
        subcommands: [
            Declarations.self, Sites.self, Outstanding.self, Fees.self, Results.self, ExamCoverage.self, Inspections.self, Textbooks.self,
            PilotSummary.self, Reconciliation.self, Bulletin.self,
        ]
    )

    struct Declarations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "003 appendix table 1: declaration and assessment per pilot school (from assessment).")
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Assessment_V1_GetDeclarationTableRequest()
            request.year = self.report.year
            let response = try await self.report.call(
                self.report.assessment, Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, request)
            ReportTables.declarations(response).write(self.report)
        }
    }

    struct Sites: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "003 appendix table 2: exam sessions per site school (from filing).")
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Filing_V1_GetSiteSessionTableRequest()
            request.year = self.report.year
            let response = try await self.report.call(self.report.filing, Xcert_Filing_V1_RosterService.Method.getSiteSessionTable, request)
            ReportTables.sites(response).write(self.report)
        }
    }

    struct Outstanding: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "003 appendix table 3: outstanding fees per pilot school (from settlement).")
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Settlement_V1_GetOutstandingTableRequest()
            request.year = self.report.year
            let response = try await self.report.call(
                self.report.settlement, Xcert_Settlement_V1_SettlementReportService.Method.getOutstandingTable, request)
            ReportTables.outstanding(response).write(self.report)
        }
    }

    struct Fees: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The organization report's fee table: receivable, received, outstanding per certificate level (from settlement).")
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
            request.year = self.report.year
            let response = try await self.report.call(
                self.report.settlement, Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, request
            )
            ReportTables.fees(response).write(self.report)
        }
    }

    struct ExamCoverage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "exam-coverage",
            abstract: "004 item 14: each school's qualified scale against the candidates it had examined (from assessment).")
        @Flag(help: "Only the schools that examined fewer than their qualified scale.") var shortOnly = false
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Assessment_V1_GetExamCoverageTableRequest()
            request.year = self.report.year
            request.shortOnly = self.shortOnly
            let response = try await self.report.call(
                self.report.assessment, Xcert_Assessment_V1_OutcomeService.Method.getExamCoverageTable, request)
            ReportTables.examCoverage(response).write(self.report)
        }
    }

    struct Textbooks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "003 appendix table 4: the published textbooks of every organization's live yearly report (from filing).")
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Filing_V1_GetTextbookTableRequest()
            request.year = self.report.year
            let response = try await self.report.call(self.report.filing, Xcert_Filing_V1_ReportService.Method.getTextbookTable, request)
            ReportTables.textbooks(response).write(self.report)
        }
    }

    struct PilotSummary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pilot-summary",
            abstract: "002 appendix 2: the pilot schools' summary table, one line per school (from the registry).")
        @Option(help: "Only the schools under this reviewing unit (审核单位) code.") var unit: String = ""
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetPilotSummaryTableRequest()
            request.year = self.report.year
            request.reviewingUnitCode = self.unit
            let response = try await self.report.call(
                self.report.registry, Xcert_Registry_V1_PilotService.Method.getPilotSummaryTable, request)
            ReportTables.pilotSummary(response).write(self.report)
        }
    }

    struct Bulletin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                The monthly bulletin (月度简报): filings, applications, exams, passes and fees received in a month and in the year to \
                its end (from filing, which asks the registry and settlement).
                """)
        @Option(help: "The month, 1 to 12.") var month: Int32
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Filing_V1_GetMonthlyBulletinRequest()
            request.year = self.report.year
            request.month = self.month
            let bulletin = try await self.report.call(self.report.filing, Xcert_Filing_V1_ReportService.Method.getMonthlyBulletin, request)
            ReportTables.bulletin(bulletin).write(self.report)
        }
    }

    struct Reconciliation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                An organization's yearly report against the system's own figures (rosters, sites, ledger, textbook list): every \
                figure that differs, with both numbers (from filing).
                """)
        @Option(help: "The yearly report's id.") var reportId: Int64
        @Option(help: "table or csv (UTF-8 with a BOM, for Excel).") var format: OutputFormat = .table
        @Flag(help: "Chinese column headers instead of English ones.") var chineseHeaders = false
        @Option(help: "The filing service, host:port.") var filing: String = "127.0.0.1:7102"
        @OptionGroup var credentials: Credentials
        @Option(help: "The call's deadline in milliseconds.") var timeoutMs: Int = 30_000
        func run() async throws {
            var request = Xcert_Filing_V1_GetReportReconciliationRequest()
            request.reportID = self.reportId
            let response = try await callService(
                address: self.filing, Xcert_Filing_V1_ReportService.Method.getReportReconciliation, request,
                credentials: self.credentials, timeoutMs: self.timeoutMs)
            ReportTables.reconciliation(response).write(chineseHeaders: self.chineseHeaders, format: self.format)
            if self.format == .table {
                print(
                    "\(response.figuresChecked) figures checked, \(response.differences.count) differ"
                        + " (report \(response.reportID), version \(response.version), \(response.year))")
            }
        }
    }

    struct Inspections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "004 item 19: each organization's monitoring points, inspections and findings in the year (from the registry).")
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetInspectionTableRequest()
            request.year = self.report.year
            let response = try await self.report.call(
                self.report.registry, Xcert_Registry_V1_OversightService.Method.getInspectionTable, request)
            ReportTables.inspections(response).write(self.report)
        }
    }

    struct Results: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The year's evaluation results: totals, ranks within school type, tiers, exit warnings (from assessment).")
        @OptionGroup var report: ReportOptions
        func run() async throws {
            var request = Xcert_Assessment_V1_ListResultsRequest()
            request.year = self.report.year
            let response = try await self.report.call(self.report.assessment, Xcert_Assessment_V1_ResultService.Method.listResults, request)
            ReportTables.results(response).write(self.report)
        }
    }
}

/// What every report takes: the year, the output, and where the services are.
struct ReportOptions: ParsableArguments {
    @Option(help: "The year.") var year: Int32
    @Option(help: "table or csv (UTF-8 with a BOM, for Excel).") var format: OutputFormat = .table
    @Flag(help: "003's Chinese column headers instead of English ones.") var chineseHeaders = false
    @Option(help: "The registry, host:port.") var registry: String = "127.0.0.1:7101"
    @Option(help: "The filing service, host:port.") var filing: String = "127.0.0.1:7102"
    @Option(help: "The assessment service, host:port.") var assessment: String = "127.0.0.1:7103"
    @Option(help: "The settlement service, host:port.") var settlement: String = "127.0.0.1:7104"
    @OptionGroup var credentials: Credentials
    @Option(help: "The call's deadline in milliseconds.") var timeoutMs: Int = 30_000

    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ address: String, _ method: MethodDescriptor<Request, Response>, _ request: Request
    ) async throws -> Response {
        try await callService(address: address, method, request, credentials: self.credentials, timeoutMs: self.timeoutMs)
    }
}

/// A report as a table: its rows under English headers or 003's Chinese ones.
struct ReportTable {
    var english: [String]
    var chinese: [String]
    var rows: [[String]]

    func write(_ options: ReportOptions) {
        self.write(chineseHeaders: options.chineseHeaders, format: options.format)
    }

    func write(chineseHeaders: Bool, format: OutputFormat) {
        emit(chineseHeaders ? self.chinese : self.english, self.rows, format: format)
    }
}

/// The report tables, shared by `xctl report` and the services' own `report` commands.
enum ReportTables {
    static func declarations(_ response: Xcert_Assessment_V1_GetDeclarationTableResponse) -> ReportTable {
        let rows =
            response.lines.enumerated().map { index, line in
                [
                    String(index + 1), line.certificateName.isEmpty ? line.certificateCode : line.certificateName, levelNames([line.level]),
                    line.schoolName.isEmpty ? line.schoolCode : line.schoolName,
                    String(line.declared), String(line.approved), String(line.completed), String(line.passed), rateText(line.passRate),
                ]
            } + [
                [
                    "合计", "", "", "", String(response.total.declared), String(response.total.approved), String(response.total.completed),
                    String(response.total.passed), rateText(response.total.passRate),
                ]
            ]
        return ReportTable(
            english: ["no", "certificate", "level", "school", "declared", "approved", "completed", "passed", "pass_rate"],
            chinese: ["序号", "证书名称", "级别", "试点院校名称", "申报人数", "获批人数", "完成考核人数", "通过人数", "通过率"],
            rows: rows
        )
    }

    static func sites(_ response: Xcert_Filing_V1_GetSiteSessionTableResponse) -> ReportTable {
        let rows =
            response.lines.enumerated().map { index, line in
                [
                    String(index + 1), line.certificateName.isEmpty ? line.certificateCode : line.certificateName, levelNames([line.level]),
                    line.siteSchoolName.isEmpty ? line.siteSchoolCode : line.siteSchoolName, String(line.sessions),
                    line.examDates.map(dateText).joined(separator: "、"), String(line.candidates),
                ]
            } + [["合计", "", "", "", String(response.total.sessions), "", String(response.total.candidates)]]
        return ReportTable(
            english: ["no", "certificate", "level", "site_school", "sessions", "exam_dates", "candidates"],
            chinese: ["序号", "证书名称", "级别", "考核站点院校名称", "开展考核次数", "考核时间", "考核人数"],
            rows: rows
        )
    }

    static func outstanding(_ response: Xcert_Settlement_V1_GetOutstandingTableResponse) -> ReportTable {
        let rows =
            response.lines.enumerated().map { index, line in
                [
                    String(index + 1), line.certificateName.isEmpty ? line.certificateCode : line.certificateName, levelNames([line.level]),
                    line.schoolName.isEmpty ? line.schoolCode : line.schoolName, String(line.completed),
                    Money(fen: line.outstanding.fen).description,
                ]
            } + [["合计", "", "", "", String(response.total.completed), Money(fen: response.total.outstanding.fen).description]]
        return ReportTable(
            english: ["no", "certificate", "level", "school", "completed", "outstanding"],
            chinese: ["序号", "证书名称", "级别", "试点院校名称", "完成考核人数", "未结金额"],
            rows: rows
        )
    }

    static func fees(_ response: Xcert_Settlement_V1_GetOrganizationFeeTableResponse) -> ReportTable {
        let rows =
            response.lines.enumerated().map { index, line in
                [
                    String(index + 1), line.organizationName, line.certificateName.isEmpty ? line.certificateCode : line.certificateName,
                    levelNames([line.level]),
                    String(line.completed), Money(fen: line.receivable.fen).description, Money(fen: line.received.fen).description,
                    Money(fen: line.outstanding.fen).description,
                ]
            } + [
                [
                    "合计", "", "", "", String(response.total.completed), Money(fen: response.total.receivable.fen).description,
                    Money(fen: response.total.received.fen).description, Money(fen: response.total.outstanding.fen).description,
                ]
            ]
        return ReportTable(
            english: ["no", "organization", "certificate", "level", "completed", "receivable", "received", "outstanding"],
            chinese: ["序号", "评价组织", "证书名称", "级别", "完成考核人数", "应收金额", "实收金额", "未结金额"],
            rows: rows
        )
    }

    static func examCoverage(_ response: Xcert_Assessment_V1_GetExamCoverageTableResponse) -> ReportTable {
        let rows =
            response.lines.enumerated().map { index, line in
                [
                    String(index + 1), line.certificateName.isEmpty ? line.certificateCode : line.certificateName,
                    line.schoolName.isEmpty ? line.schoolCode : line.schoolName, String(line.qualifiedScale), String(line.examined),
                    String(line.shortfall), rateText(line.examRate),
                ]
            } + [
                [
                    "合计", "", "", String(response.total.qualifiedScale), String(response.total.examined), String(response.total.shortfall),
                    rateText(response.total.examRate),
                ]
            ]
        return ReportTable(
            english: ["no", "certificate", "school", "qualified_scale", "examined", "shortfall", "exam_rate"],
            chinese: ["序号", "证书名称", "试点院校名称", "试点规模", "完成考核人数", "未考核人数", "考核覆盖率"],
            rows: rows
        )
    }

    static func textbooks(_ response: Xcert_Filing_V1_GetTextbookTableResponse) -> ReportTable {
        ReportTable(
            english: ["no", "title", "authors", "publisher", "published_on", "national_planning", "certificate_and_level", "organization"],
            chinese: ["序号", "教材名称", "参编人员(前五)", "出版社名称", "出版时间", "是否是国家规划教材", "对应证书名称及级别", "培训评价组织"],
            rows: response.lines.map { line in
                [
                    String(line.number), line.title, line.authors.joined(separator: "、"), line.publisher, dateText(line.publishedOn),
                    line.nationalPlanning ? "是" : "否",
                    "\(line.certificateName.isEmpty ? line.certificateCode : line.certificateName) "
                        + (CertificateLevel(wire: line.level)?.chineseName ?? ""),
                    line.organizationName,
                ]
            }
        )
    }

    static func bulletin(_ bulletin: Xcert_Filing_V1_MonthlyBulletin) -> ReportTable {
        let month = bulletin.inMonth
        let year = bulletin.yearToDate
        // The bulletin's lines are its figures, named as the province writes them.
        let lines: [(String, (Xcert_Filing_V1_BulletinFigures) -> String)] = [
            ("提交备案（份）", { String($0.filingsSubmitted) }),
            ("备案通过（份）", { String($0.filingsApproved) }),
            ("院校申报（项）", { String($0.applicationsSubmitted) }),
            ("获批试点（项）", { String($0.applicationsApproved) }),
            ("考核场次", { String($0.examSessions) }),
            ("参加考核人数", { String($0.candidatesExamined) }),
            ("通过人数", { String($0.candidatesPassed) }),
            ("收费笔数", { String($0.payments) }),
            ("收费到账金额（元）", { "\(Money(fen: $0.feesReceived.fen))" }),
        ]
        return ReportTable(
            english: ["figure", "\(bulletin.year)-\(bulletin.month)", "year_to_date"],
            chinese: ["项目", "\(bulletin.year)年\(bulletin.month)月", "本年累计"],
            rows: lines.map { name, value in [name, value(month), value(year)] }
        )
    }

    static func pilotSummary(_ response: Xcert_Registry_V1_GetPilotSummaryTableResponse) -> ReportTable {
        ReportTable(
            english: [
                "no", "school", "school_type", "certificates_and_levels", "specialty_count", "specialties", "student_scale", "remarks",
            ],
            chinese: ["序号", "试点院校名称", "学校类型", "参与试点证书及等级", "参与试点专业数量", "参与试点专业名称", "参与试点学生规模", "备注"],
            rows: response.lines.map { line in
                [
                    String(line.number), line.schoolName, SchoolType(wire: line.schoolType)?.chineseName ?? "",
                    self.certificatesAndLevels(line.certificates), String(line.specialtyCount),
                    line.specialtyNames.joined(separator: "、"), String(line.studentScale), line.remarks,
                ]
            } + [["合计", "\(response.schools) 所", "", "\(response.certificates) 个证书", "", "", String(response.studentScale), ""]]
        )
    }

    /// 参与试点证书及等级 as the view shows it: `汽车运用与维修（初级、中级）；Web前端开发（初级）`.
    static func certificatesAndLevels(_ certificates: [Xcert_Registry_V1_PilotSummaryCertificate]) -> String {
        certificates.map { "\($0.certificateName.isEmpty ? $0.certificateCode : $0.certificateName)（\(levelNames($0.levels))）" }
            .joined(separator: "；")
    }

    static func reconciliation(_ response: Xcert_Filing_V1_ReportReconciliation) -> ReportTable {
        ReportTable(
            english: ["table", "certificate_or_training", "level", "figure", "reported", "recorded", "source", "line_missing"],
            chinese: ["表", "证书或培训", "级别", "项目", "填报数", "系统数", "系统数来源", "缺少该行"],
            rows: response.differences.map { difference in
                [
                    "一.\(difference.table.rawValue)", difference.training.isEmpty ? difference.certificateCode : difference.training,
                    levelNames([difference.level]), difference.label,
                    String(difference.reported), String(difference.recorded), difference.source, difference.lineMissing ? "是" : "",
                ]
            }
        )
    }

    static func inspections(_ response: Xcert_Registry_V1_GetInspectionTableResponse) -> ReportTable {
        let row = { (name: String, line: Xcert_Registry_V1_InspectionLine) in
            [
                name, String(line.monitoringPoints), String(line.pointsInspected), String(line.inspections), String(line.findings),
                String(line.nonCompliant), String(line.unresolved),
            ]
        }
        return ReportTable(
            english: ["organization", "monitoring_points", "points_inspected", "inspections", "findings", "non_compliant", "unresolved"],
            chinese: ["培训评价组织名称", "监测点数", "已检查监测点数", "检查次数", "检查事项数", "问题数", "未整改完成"],
            rows: response.lines.map { row($0.organizationName, $0) } + [row("合计", response.total)]
        )
    }

    static func results(_ response: Xcert_Assessment_V1_ListResultsResponse) -> ReportTable {
        ReportTable(
            english: ["school", "name", "type", "total", "reviewed", "rank_in_type", "tier", "registration_rate", "warnings"],
            chinese: ["院校代码", "院校名称", "院校类型", "总分", "审核", "类型内排名", "等级", "报考率", "预警"],
            rows: response.results.map { result in
                [
                    result.schoolCode, result.schoolName, SchoolType(wire: result.schoolType)?.chineseName ?? "",
                    pointsText(result.totalTenths),
                    result.reviewed ? "yes" : "provisional", String(result.rankInType), result.tier, rateText(result.registrationRate),
                    result.warnings.joined(separator: "; "),
                ]
            }
        )
    }
}
