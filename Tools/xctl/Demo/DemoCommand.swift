import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xctl demo`: a whole pilot year driven through the four services over the wire, as
/// the province's officers, city bureaus, schools and organizations would, each with its
/// own token; then the province's report tables. `scripts/up --demo` runs it.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive a whole pilot year through the running services, then print the province's report tables.",
        discussion: """
            Needs a running stack with the reference data loaded (scripts/up) and a province
            admin's token (.xcert/admin.token by default). Everything goes through the
            services' methods: schools and organizations, tokens for every party, fee
            ceilings, filings in two rounds (some rejected and filed again, one organization
            late), applications (some refused by the 40 % / 30 % caps) reviewed by city
            bureaus and the province, alliances and lead schools, assessment sites with a
            few coverage gaps, exam rosters, results on notice and certificates, the credit
            bank's export, payments (some late, some outstanding),
            self-evaluations and reviews. The same --seed gives the same year. A year already
            driven on the stack is not driven again: its reports are printed.
            """
    )

    @Option(help: "The seed of every random choice: the same seed gives the same year.") var seed: UInt64 = 1
    @Option(help: "The pilot year (default: last year, so that every exam and payment is in the past).") var year: Int32?
    @Option(help: "How many schools the province has.") var schools: Int = 120
    @Option(help: "About how many candidates sit the year's exams.") var candidates: Int = 50_000
    @Flag(help: "Print only the summary, not the report tables.") var summaryOnly = false
    @Option(help: "Where to write the year's credit bank export (CSV, with full IDs; default .xcert/learning-outcomes-YEAR.csv).")
    var creditBankFile: String?
    @Option(help: "The registry, host:port.") var registry: String = "127.0.0.1:7101"
    @Option(help: "The filing service, host:port.") var filing: String = "127.0.0.1:7102"
    @Option(help: "The assessment service, host:port.") var assessment: String = "127.0.0.1:7103"
    @Option(help: "The settlement service, host:port.") var settlement: String = "127.0.0.1:7104"
    @OptionGroup var credentials: Credentials

    func validate() throws {
        guard (10...2_000).contains(self.schools) else { throw ValidationError("--schools must be 10 to 2000") }
        guard (100...2_000_000).contains(self.candidates) else { throw ValidationError("--candidates must be 100 to 2000000") }
    }

    func run() async throws {
        guard let authorization = try self.credentials.metadata()["authorization"] else {
            throw CLIError("no token: pass --token, set XCERT_TOKEN, or keep a province admin's token in .xcert/admin.token")
        }
        let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
        let year = self.year ?? Int32(today.year - 1)
        let stack = try DemoStack(registry: self.registry, filing: self.filing, assessment: self.assessment, settlement: self.settlement)
        defer { Task { await stack.close() } }
        let run = DemoRun(
            stack: stack, province: Party(name: "省厅管理员", token: String(authorization.dropFirst("Bearer ".count))),
            year: year, seed: self.seed, schoolCount: self.schools, candidateTarget: self.candidates
        )
        do {
            if let reference = try await run.reference() {
                run.progress("demo", "pilot year \(year), seed \(self.seed): \(self.schools) schools, about \(self.candidates) candidates")
                try await self.drive(run, reference)
            } else {
                run.progress(
                    "demo", "pilot year \(year) has already been driven on this stack; printing its reports (pass --year for another year)")
            }
            try await self.printReports(run)
        } catch let error as RPCError {
            printError(error)
            throw ExitCode(1)
        }
    }

    private func drive(_ run: DemoRun, _ reference: DemoReference) async throws {
        let (schools, reference) = try await run.schoolsAndOrganizations(reference)
        let parties = try await run.parties(reference, schools: schools)
        try await run.feeCeilings(reference)
        try await run.filings(reference, parties)
        let qualifications = try await run.applications(reference, schools, parties)
        try await run.alliances(schools, parties)
        try await run.assignedLeads(schools)
        let sites = try await run.sites(reference, schools, qualifications, parties)
        let (_, completed) = try await run.exams(reference, schools, qualifications, sites, parties)
        try await run.awaitFollowers(completed: completed)
        try await run.notices(reference, parties)
        try await run.creditBank(reference, file: self.creditBankFile ?? ".xcert/learning-outcomes-\(run.year).csv")
        try await run.payments()
        try await run.trainings(reference, qualifications, parties)
        try await run.yearlyReports(reference, parties)
        try await run.inspections(reference)
        try await run.oversight(reference, sites, parties)
        try await run.periodicReports(qualifications)
        try await run.evaluations(qualifications, parties)
        run.progress("demo", "the pilot year \(run.year) is done")
    }

    /// 003's appendix tables 1–3, the organization fee table, and a short summary.
    private func printReports(_ run: DemoRun) async throws {
        let stack = run.stack
        var declarationsRequest = Xcert_Assessment_V1_GetDeclarationTableRequest()
        declarationsRequest.year = run.year
        let declarations = try await stack.call(
            Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, declarationsRequest, by: run.province, kind: .read)
        var sitesRequest = Xcert_Filing_V1_GetSiteSessionTableRequest()
        sitesRequest.year = run.year
        let sites = try await stack.call(
            Xcert_Filing_V1_RosterService.Method.getSiteSessionTable, sitesRequest, by: run.province, kind: .read)
        var outstandingRequest = Xcert_Settlement_V1_GetOutstandingTableRequest()
        outstandingRequest.year = run.year
        let outstanding = try await stack.call(
            Xcert_Settlement_V1_SettlementReportService.Method.getOutstandingTable, outstandingRequest, by: run.province, kind: .read)
        var feesRequest = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
        feesRequest.year = run.year
        let fees = try await stack.call(
            Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, feesRequest, by: run.province, kind: .read)
        var coverageRequest = Xcert_Assessment_V1_GetExamCoverageTableRequest()
        coverageRequest.year = run.year
        coverageRequest.shortOnly = true
        let coverage = try await stack.call(
            Xcert_Assessment_V1_OutcomeService.Method.getExamCoverageTable, coverageRequest, by: run.province, kind: .read)
        var resultsRequest = Xcert_Assessment_V1_ListResultsRequest()
        resultsRequest.year = run.year
        let results = try await stack.call(
            Xcert_Assessment_V1_ResultService.Method.listResults, resultsRequest, by: run.province, kind: .read)
        // December's bulletin: its year-to-date column is the whole year.
        var bulletinRequest = Xcert_Filing_V1_GetMonthlyBulletinRequest()
        bulletinRequest.year = run.year
        bulletinRequest.month = 12
        let bulletin = try await stack.call(
            Xcert_Filing_V1_ReportService.Method.getMonthlyBulletin, bulletinRequest, by: run.province, kind: .read)

        if !self.summaryOnly {
            for (title, table) in [
                (
                    "附表1 试点院校证书申报与考核情况 (appendix table 1: declaration and assessment per school; xctl report declarations)",
                    ReportTables.declarations(declarations)
                ),
                ("附表2 考核站点情况 (appendix table 2: exam sessions per site; xctl report sites)", ReportTables.sites(sites)),
                (
                    "附表3 考核费用未结情况 (appendix table 3: outstanding fees per school; xctl report outstanding)",
                    ReportTables.outstanding(outstanding)
                ),
                ("培训评价组织考核费用结算情况 (the organization fee table; xctl report fees)", ReportTables.fees(fees)),
                (
                    """
                    月度简报 (the monthly bulletin of December, with the year to its end; xctl report bulletin --month 12). Filings and \
                    applications count in the month they were entered: this run's are in \(run.today.year)-\(run.today.month)'s bulletin
                    """,
                    ReportTables.bulletin(bulletin)
                ),
            ] {
                print("\n\(title), \(run.year)\n")
                table.write(chineseHeaders: true, format: .table)
            }
        }

        let total = declarations.total
        var tiers: [String: Int] = [:]
        for result in results.results { tiers[result.tier.isEmpty ? "（未达等级）" : result.tier, default: 0] += 1 }
        let warned = results.results.filter { !$0.warnings.isEmpty }.count
        let provisional = results.results.filter { !$0.reviewed }.count
        print(
            """

            Summary of the pilot year \(run.year)
              schools with a qualification  \(Set(declarations.lines.map(\.schoolCode)).count) (of \(run.schoolCount) schools made by the \
            demo)
              declared / approved / completed / passed  \(total.declared) / \(total.approved) / \(total.completed) / \
            \(total.passed)  (pass rate \(rateText(total.passRate)))
              exam sessions  \(sites.total.sessions) at \(sites.lines.count) site lines, \(sites.total.candidates) candidates
              every pilot student examined?  \(coverage.lines.count) school × certificate lines fall short, \
            \(coverage.total.shortfall) of their \(coverage.total.qualifiedScale) qualified students not examined \
            (xctl report exam-coverage)
              fees  receivable \(Money(fen: fees.total.receivable.fen)), received \(Money(fen: fees.total.received.fen)), outstanding \
            \(Money(fen: fees.total.outstanding.fen)) yuan; \(outstanding.lines.count) school × certificate lines still owe
              evaluation  \(results.results.count) schools: \
            \(tiers.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")); \(provisional) provisional \
            (review pending); \(warned) with exit warnings
            """)
        if run.counted("filings submitted") > 0 {
            print(
                """
                  filings  \(run.counted("filings submitted")) submitted; \(run.counted("filings rejected and filed again")) rejected and \
                filed again (\(run.counted("approvals refused: fee above the ceiling")) for a fee above its ceiling); \
                \(run.counted("filings in round 2")) late, in round 2
                  applications  \(run.counted("applications")) submitted, \(run.counted("applications approved")) approved; \
                \(run.counted("applications rejected by a city bureau")) rejected by reviewing units \
                (\(run.counted("applications reviewed by a designated bureau")) reviewed by a designated bureau), \
                \(run.counted("applications rejected by the province")) by the province; \
                \(run.counted("applications refused by the 40 % / 30 % caps")) refused by the caps, \
                \(run.counted("applications refused: technical school")) from technical schools, \
                \(run.counted("applications refused: no open window")) outside any application window, \
                \(run.counted("applications refused: ineligible specialty")) with an ineligible specialty (双师型 under 50 %); \
                \(run.counted("reviews overdue")) reviews overdue (xctl pilot overdue)
                  alliances  \(run.counted("alliances")), \(run.counted("alliances selecting leads")) selecting leads \
                (\(run.counted("lead schools named")) named, in public notice for 7 days: finalize with xctl alliance; \
                \(run.counted("organization opinions")) organization opinions, \(run.counted("bureau recommendations")) bureau \
                recommendations); \(run.counted("small certificates given leads")) small certificates given leads by the province, \
                \(run.counted("leads replaced")) lead replaced (analytics.lead_changes)
                  sites  \(run.counted("sites")) registered, \(run.counted("coverage gaps")) coverage gaps
                  rosters  \(run.counted("rosters sealed")) sealed, \(run.counted("rosters corrected")) corrected; \
                results on notice: \(run.counted("notices closed")) final with \(run.counted("certificates issued")) certificates \
                (\(run.counted("certificates revoked")) revoked; xctl certificates list|export|verify), \
                \(run.counted("learning outcomes exported")) learning outcomes exported to the credit bank file \
                (\(run.counted("certificate levels to map")) certificate levels still to map; xctl credit-bank summary), \
                \(run.counted("objections")) objections \
                (\(run.counted("objections upheld by a correction")) upheld by a correction, \(run.counted("objections rejected")) \
                rejected; xctl results objections list); \
                \(run.counted("payments")) payments recorded
                  双周报  \(run.counted("periodic reports on time")) on time, \(run.counted("periodic reports late")) late, \
                \(run.counted("periodic reports missing")) never came, \(run.counted("periodic reports incomplete")) without text \
                (recorded on receipt, 补录; xctl filing periodic status; indicator 6-3)
                  yearly reports  \(run.counted("yearly reports")) accepted, \(run.counted("textbooks")) published textbooks \
                (xctl report textbooks)
                  oversight  \(run.counted("organization irregularities")) irregularity recorded, \
                \(run.counted("organizations suspended")) organization suspended \
                (\(run.counted("rosters refused: organization suspended")) roster refused meanwhile), \
                \(run.counted("organizations reinstated")) reinstated (analytics.standing_changes); \(run.counted("inspections")) \
                inspections at monitoring points, \(run.counted("inspection items not fulfilled")) agreement items not fulfilled, \
                \(run.counted("inspections resolved after follow-up")) resolved after follow-up (xctl report inspections)
                """)
        }
        print(
            """

            The same numbers, for analysts (schema analytics, read-only):
              PGPASSWORD=$(cat .xcert/analyst.password) psql -h 127.0.0.1 -p 55432 -U xcert_analyst xcert \\
                -c "SELECT sum(declared), sum(approved), sum(completed), sum(passed) FROM analytics.school_assessment_detail WHERE year = \
            \(run.year)"
            """)
    }
}
