import Foundation
import SwiftProtobuf
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

@testable import Assessment

@Suite(
    "Assessment: outcomes followed from sealed rosters and qualifications",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .serialized, .timeLimit(.minutes(4)))
struct OutcomeTests {
    @Test("sealed rosters become outcomes per school and level with exact rates; a correction replaces its version's counts exactly once")
    func followsAndReplaces() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let assessment = try await Assessment.start(h)
            let first = try await h.createRoster(token: world.car)
            let rows = Candidates.rows(from: 0, count: 10)
            _ = try await h.upload(first.id, chunk: 0, rows, token: world.car)
            _ = try await h.seal(first.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 1, h)

            let outcomes = try await assessment.outcomes(token: h.admin)
            #expect(outcomes.outcomes.map(\.schoolCode) == ["4136010001", "4136010003"])
            for (outcome, tally) in zip(outcomes.outcomes, RosterTests.tallies(rows)) {
                #expect(
                    [outcome.declared, outcome.approved, outcome.completed, outcome.passed] == [
                        tally.declared, tally.approved, tally.completed, tally.passed,
                    ])
                #expect(outcome.passRate.value.numerator == tally.passed && outcome.passRate.value.denominator == tally.completed)
                #expect(
                    outcome.participationRate.value.numerator == tally.completed
                        && outcome.participationRate.value.denominator == tally.approved)
                #expect(outcome.level == .elementary && outcome.year == 2026 && outcome.organizationID == world.carOrganization)
            }
            #expect(outcomes.total.declared == 10)

            // A correction: school 4136010003 loses two candidates, who were never there.
            var corrected = rows
            corrected.removeAll { $0.candidateNumber == rows[1].candidateNumber || $0.candidateNumber == rows[3].candidateNumber }
            let correction = try await h.createRoster(supersedes: first.id, reason: "两名考生重复报名", token: world.car)
            _ = try await h.upload(correction.id, chunk: 0, corrected, token: world.car)
            _ = try await h.seal(correction.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 2, h)
            let after = try await assessment.outcomes(token: h.admin)
            #expect(
                after.outcomes.map(\.declared) == RosterTests.tallies(corrected).map(\.declared),
                "replaced, not added: \(after.outcomes.map(\.declared))")
            #expect(after.total.declared == 8)

            // The registration rate: declared over the qualified pilot scale (50 each).
            var request = Xcert_Assessment_V1_ListCertificateOutcomesRequest()
            request.year = 2026
            let byCertificate = try await assessment.call(
                Xcert_Assessment_V1_OutcomeService.Method.listCertificateOutcomes, request, token: h.admin)
            #expect(byCertificate.outcomes.map(\.schoolCode) == ["4136010001", "4136010003"])
            #expect(byCertificate.outcomes.map(\.qualifiedScale) == [50, 50])
            #expect(byCertificate.outcomes.map(\.registrationRate.value.numerator) == [5, 3])
            #expect(byCertificate.outcomes.allSatisfy { $0.registrationRate.value.denominator == 50 })
            await assessment.stop()
        }
    }

    @Test(
        """
        004 item 14: each school's qualified scale against the candidates it had examined (absent ones do not count), the shortfall and \
        its total; only the short ones on request; a school sees its own line; the analysts' view agrees
        """
    )
    func examCoverage() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let assessment = try await Assessment.start(h)
            let roster = try await h.createRoster(token: world.car)
            // 4136010001: 3 sat and 1 absent; 4136010003: 50 sat, its whole scale.
            var absent = Candidates.row(3, school: "4136010001")
            absent.attended = false
            absent.componentScoresTenths = []
            absent.passed = false
            let rows =
                (0..<3).map { Candidates.row($0, school: "4136010001") } + [absent]
                + (100..<150).map { Candidates.row($0, school: "4136010003") }
            _ = try await h.upload(roster.id, chunk: 0, rows, token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 1, h)

            var request = Xcert_Assessment_V1_GetExamCoverageTableRequest()
            request.year = RosterWorld.year
            let table = try await assessment.call(Xcert_Assessment_V1_OutcomeService.Method.getExamCoverageTable, request, token: h.admin)
            #expect(
                table.lines.map { "\($0.schoolCode) \($0.qualifiedScale) \($0.examined) \($0.shortfall)" } == [
                    "4136010001 50 3 47", "4136010003 50 50 0",
                ])
            #expect(table.lines[0].certificateName == "汽车运用与维修" && !table.lines[0].schoolName.isEmpty)
            #expect(table.lines[0].examRate.value.numerator == 3 && table.lines[0].examRate.value.denominator == 50)
            #expect([table.total.qualifiedScale, table.total.examined, table.total.shortfall] == [100, 53, 47])
            request.shortOnly = true
            let short = try await assessment.call(Xcert_Assessment_V1_OutcomeService.Method.getExamCoverageTable, request, token: h.admin)
            #expect(short.lines.map(\.schoolCode) == ["4136010001"] && short.total.shortfall == 47)
            request.shortOnly = false
            let school = try await h.token(role: "school", party: "4136010003")
            #expect(
                try await assessment.call(Xcert_Assessment_V1_OutcomeService.Method.getExamCoverageTable, request, token: school).lines
                    .map(\.schoolCode) == ["4136010003"])
            #expect(
                try await h.scalar(
                    """
                    SELECT string_agg(school_code || ' ' || qualified_scale || ' ' || examined || ' ' || shortfall, '; '
                                      ORDER BY school_code)
                    FROM analytics.exam_coverage WHERE year = \(RosterWorld.year)
                    """, as: String.self) == "4136010001 50 3 47; 4136010003 50 50 0")
            await assessment.stop()
        }
    }

    @Test("zero denominators are no data, never 0 % or 100 %; all passed is exactly 100 %")
    func rateEdges() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let assessment = try await Assessment.start(h)
            let roster = try await h.createRoster(token: world.car)
            // 4136010001: every candidate declared only (nobody approved); 4136010003: approved, all passed.
            var rows: [Xcert_Filing_V1_CandidateRow] = []
            for n in 0..<3 {
                var declared = Candidates.row(n, school: "4136010001")
                declared.registration = .declared
                declared.attended = false
                declared.componentScoresTenths = []
                declared.passed = false
                rows.append(declared)
                rows.append(Candidates.row(100 + n, school: "4136010003", theory: 900, practical: 900))
            }
            _ = try await h.upload(roster.id, chunk: 0, rows, token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 1, h)
            let outcomes = try await assessment.outcomes(token: h.admin).outcomes
            let declaredOnly = try #require(outcomes.first { $0.schoolCode == "4136010001" })
            #expect(declaredOnly.declared == 3 && declaredOnly.approved == 0)
            #expect(!declaredOnly.participationRate.hasValue && !declaredOnly.passRate.hasValue, "no data")
            let allPassed = try #require(outcomes.first { $0.schoolCode == "4136010003" })
            #expect(allPassed.passRate.value.numerator == 3 && allPassed.passRate.value.denominator == 3)

            // A qualified school without candidates: a registration rate of exactly 0 (its scale is not 0).
            var request = Xcert_Assessment_V1_ListCertificateOutcomesRequest()
            request.year = 2026
            request.schoolCode = "4136010001"
            let one = try await assessment.call(Xcert_Assessment_V1_OutcomeService.Method.listCertificateOutcomes, request, token: h.admin)
            #expect(one.outcomes.map(\.registrationRate.value.numerator) == [3])
            request.year = 2025
            #expect(
                try await assessment.call(Xcert_Assessment_V1_OutcomeService.Method.listCertificateOutcomes, request, token: h.admin)
                    .outcomes.isEmpty)
            await assessment.stop()
        }
    }

    @Test(
        """
        stopped while rosters are sealed, restarted: it catches up with nothing lost or doubled; rebuilding from the feeds' start gives \
        the same outcomes, every time
        """
    )
    func catchesUp() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let assessment = try await Assessment.startProcess(h)
            let first = try await h.createRoster(day: 15, token: world.car)
            _ = try await h.upload(first.id, chunk: 0, Candidates.rows(from: 0, count: 20), token: world.car)
            _ = try await h.seal(first.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 1, h)
            let process = try #require(assessment.process)
            kill(process.pid, SIGKILL)
            _ = try await process.waitForExit(within: .seconds(10))

            // While it is down: two more sessions and a correction of the first.
            for (day, first) in [(Int32(16), 100), (Int32(17), 200)] {
                let roster = try await h.createRoster(day: day, token: world.car)
                _ = try await h.upload(roster.id, chunk: 0, Candidates.rows(from: first, count: 20), token: world.car)
                _ = try await h.seal(roster.id, token: world.car)
            }
            let correction = try await h.createRoster(supersedes: first.id, reason: "补录", token: world.car)
            _ = try await h.upload(correction.id, chunk: 0, Candidates.rows(from: 0, count: 30), token: world.car)
            _ = try await h.seal(correction.id, token: world.car)

            let restarted = try await Assessment.start(h)
            try await restarted.waitFor(rostersCounted: 3, cursor: 4, h)
            let outcomes = try await restarted.outcomes(token: h.admin)
            #expect(outcomes.total.declared == 30 + 20 + 20, "every sealed version counted once, the replaced one not at all")
            #expect(
                try await h.scalar("SELECT count(*) FROM assessment.roster_counts", as: Int64.self) == 8,
                "two schools × four versions, each stored once")

            // Recomputation from the feeds' start is idempotent: twice, the same outcomes.
            var table = Xcert_Assessment_V1_GetDeclarationTableRequest()
            table.year = 2026
            let declarations = try await restarted.call(
                Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, table, token: h.admin)
            var byCertificate = Xcert_Assessment_V1_ListCertificateOutcomesRequest()
            byCertificate.year = 2026
            let rates = try await restarted.call(
                Xcert_Assessment_V1_OutcomeService.Method.listCertificateOutcomes, byCertificate, token: h.admin)
            #expect(rates.outcomes.map(\.qualifiedScale) == [50, 50])
            #expect(
                await restarted.refusal(
                    Xcert_Assessment_V1_OutcomeService.Method.rebuildOutcomes, Xcert_Assessment_V1_RebuildOutcomesRequest(),
                    token: world.car)?.code == .permissionDenied)
            for _ in 0..<2 {
                let reset = try await restarted.call(
                    Xcert_Assessment_V1_OutcomeService.Method.rebuildOutcomes, Xcert_Assessment_V1_RebuildOutcomesRequest(), token: h.admin)
                #expect(reset.rostersCounted == 0 || reset.rosterCursor > 0, "forgotten, or already following again: \(reset)")
                try await restarted.waitFor(rostersCounted: 3, cursor: 4, h)
                #expect(try await restarted.outcomes(token: h.admin) == outcomes)
                #expect(
                    try await restarted.call(Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, table, token: h.admin)
                        == declarations)
                #expect(
                    try await restarted.call(
                        Xcert_Assessment_V1_OutcomeService.Method.listCertificateOutcomes, byCertificate, token: h.admin) == rates)
                #expect(try await h.scalar("SELECT count(*) FROM assessment.roster_counts", as: Int64.self) == 8)
            }
            await restarted.stop()
        }
    }

    @Test("003 appendix table 1 with the registry's names and its total, as a method and through xctl as CSV")
    func declarationTable() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let assessment = try await Assessment.start(h)
            let roster = try await h.createRoster(token: world.car)
            let rows = Candidates.rows(from: 0, count: 10)
            _ = try await h.upload(roster.id, chunk: 0, rows, token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 1, h)

            var request = Xcert_Assessment_V1_GetDeclarationTableRequest()
            request.year = 2026
            let table = try await assessment.call(Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, request, token: h.admin)
            let tallies = RosterTests.tallies(rows)
            #expect(table.lines.map(\.schoolName) == ["学校4136010001", "学校4136010003"])
            #expect(table.lines.allSatisfy { $0.certificateName == "汽车运用与维修" && $0.level == .elementary })
            #expect(table.lines.map(\.passed) == tallies.map(\.passed))
            #expect(table.total.declared == 10 && table.total.passed == tallies.map(\.passed).reduce(0, +))
            request.year = 0
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, request, token: h.admin)?
                    .fieldViolations.map(\.field) == ["year"])

            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let csv = try await runCommand(
                xctl,
                [
                    "assessment", "report", "declarations", "--year", "2026", "--format", "csv",
                    "--assessment", "127.0.0.1:\(assessment.address.port)", "--token", h.admin,
                ])
            let first = tallies[0]
            let rate = String(format: "%.2f%%", Double(first.passed) * 100 / Double(first.completed))
            #expect(csv.status == 0 && csv.output.contains("1,汽车运用与维修,初级,学校4136010001,5,5,5,\(first.passed),\(rate)"), "\(csv.output)")
            #expect(csv.output.contains("合计,,,,10,10,10,"), "\(csv.output)")
            await assessment.stop()
        }
    }

    @Test("a school sees its own outcomes, an organization its certificates', the feed position is for the province")
    func authorization() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let assessment = try await Assessment.start(h)
            let roster = try await h.createRoster(token: world.car)
            _ = try await h.upload(roster.id, chunk: 0, Candidates.rows(from: 0, count: 6), token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 1, h)

            let school = try await h.token(role: "school", party: "4136010003")
            #expect(try await assessment.outcomes(token: school).outcomes.map(\.schoolCode) == ["4136010003"])
            var other = Xcert_Assessment_V1_ListOutcomesRequest()
            other.schoolCode = "4136010001"
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_OutcomeService.Method.listOutcomes, other, token: school)?.code == .notFound)
            #expect(try await assessment.outcomes(token: world.car).outcomes.count == 2)
            #expect(try await assessment.outcomes(token: world.bim).outcomes.isEmpty)
            var byCertificate = Xcert_Assessment_V1_ListCertificateOutcomesRequest()
            byCertificate.year = 2026
            #expect(
                try await assessment.call(
                    Xcert_Assessment_V1_OutcomeService.Method.listCertificateOutcomes, byCertificate, token: world.bim
                ).outcomes.isEmpty)
            #expect(
                try await assessment.call(
                    Xcert_Assessment_V1_OutcomeService.Method.listCertificateOutcomes, byCertificate, token: world.car
                ).outcomes.count == 2)
            #expect(
                await assessment.refusal(
                    Xcert_Assessment_V1_OutcomeService.Method.getFollowing, Xcert_Assessment_V1_GetFollowingRequest(), token: world.car)?
                    .code == .permissionDenied)
            let reviewer = try await h.token(role: "city_reviewer", party: "360100")
            #expect(
                await assessment.refusal(
                    Xcert_Assessment_V1_OutcomeService.Method.listOutcomes, Xcert_Assessment_V1_ListOutcomesRequest(), token: reviewer)?
                    .code == .permissionDenied)
            await assessment.stop()
        }
    }
}

/// An assessment service beside the filing stack, following its registry and filing: served
/// in the test process, or as a process where the process is the subject (killed).
struct Assessment {
    let address: ServiceAddress
    let client: RPCClient
    /// The process, when it runs as one (``startProcess(_:port:)``).
    let process: ServiceProcess?
    private let stopService: @Sendable () async -> Void

    /// Serves assessment in the test process.
    static func start(_ h: RegistryHarness) async throws -> Assessment {
        let service = try await InProcessService.start(AssessmentParts.definition(), database: h.database, environment: try environment(h))
        return Assessment(
            address: service.address, client: testClient(port: service.port), process: nil, stopService: { await service.terminate() })
    }

    /// Starts assessment as a process (on `port`, when given).
    static func startProcess(_ h: RegistryHarness, port: Int? = nil) async throws -> Assessment {
        let process = try await ServiceProcess.start("assessment", database: h.database, port: port, environment: try environment(h))
        try await process.waitForHealth(.serving)
        return Assessment(
            address: process.address, client: testClient(port: process.port), process: process,
            stopService: { _ = try? await process.terminate() })
    }

    /// Its peers' addresses and its service token.
    private static func environment(_ h: RegistryHarness) async throws -> [String: String] {
        [
            "XCERT_REGISTRY_ADDRESS": "127.0.0.1:\(h.registry.port)",
            "XCERT_FILING_ADDRESS": "127.0.0.1:\(try #require(h.filingAddress).port)",
            "XCERT_SETTLEMENT_ADDRESS": try #require(h.filingEnvironment["XCERT_SETTLEMENT_ADDRESS"]),
            "XCERT_SERVICE_TOKEN": try await h.token(role: "service", party: "assessment"),
        ]
    }

    /// Stops it and closes its client.
    func stop() async {
        await self.client.close()
        await self.stopService()
    }

    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, token: String
    ) async throws -> Response {
        try await self.client.authorized(token: token).unary(method, request, options: CallOptions())
    }

    func refusal<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, token: String
    ) async -> RPCError? {
        do {
            _ = try await self.call(method, request, token: token)
            return nil
        } catch {
            return error as? RPCError ?? RPCError(.unknown, "\(error)")
        }
    }

    func outcomes(token: String) async throws -> Xcert_Assessment_V1_ListOutcomesResponse {
        try await self.call(Xcert_Assessment_V1_OutcomeService.Method.listOutcomes, Xcert_Assessment_V1_ListOutcomesRequest(), token: token)
    }

    /// Waits until the follower has applied the roster feed up to `cursor` (at most 30 s).
    func waitFor(rostersCounted: Int64, cursor: Int64, _ h: RegistryHarness) async throws {
        var following = Xcert_Assessment_V1_GetFollowingResponse()
        for _ in 0..<300 {
            following = try await self.call(
                Xcert_Assessment_V1_OutcomeService.Method.getFollowing, Xcert_Assessment_V1_GetFollowingRequest(), token: h.admin)
            if following.rosterCursor >= cursor && following.qualificationCursor > 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(following.rosterCursor == cursor && following.rostersCounted == rostersCounted, "\(following)")
    }
}
