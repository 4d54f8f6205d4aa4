import Foundation
import SwiftProtobuf
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

@Suite(
    "Assessment: the year's results", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .serialized,
    .timeLimit(.minutes(3)))
struct ResultTests {
    @Test("totals, ranks within school type (provisional until reviewed), tiers and exit warnings by the province's policy")
    func results() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            try await h.createSchool("4136070001", type: .secondaryVocational, city: "360700")
            let assessment = try await Assessment.start(h)
            let scheme = try await assessment.publishDefaultScheme(token: h.admin)
            let manual = scheme.indicators.filter { $0.kind == .manual }.map(\.code)

            // 20 candidates of 4136010001 (40 % of its 50), 10 of 4136010003 (20 %); all sat and passed.
            let roster = try await h.createRoster(token: world.car)
            _ = try await h.upload(
                roster.id, chunk: 0, (0..<20).map { Candidates.row($0) } + (20..<30).map { Candidates.row($0, school: "4136010003") },
                token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 1, h)

            func evaluate(_ school: String, _ scores: [String: Int32], review: Bool) async throws {
                var submit = Xcert_Assessment_V1_SubmitSelfEvaluationRequest()
                submit.schoolCode = school
                submit.year = 2026
                submit.scores = scores.map { EvaluationTests.score($0.key, $0.value) }
                submit.report = EvaluationTests.report
                _ = try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, token: h.admin)
                guard review else { return }
                var request = Xcert_Assessment_V1_ReviewEvaluationRequest()
                request.schoolCode = school
                request.year = 2026
                request.scores = manual.map { EvaluationTests.review($0, scores[$0] ?? 0, "") }
                _ = try await assessment.call(Xcert_Assessment_V1_EvaluationService.Method.reviewEvaluation, request, token: h.admin)
            }
            try await evaluate("4136010001", ["2-1": 40], review: true)  // 4.0 + 6.0 (1-2) + 6.0 (1-3) = 16.0
            try await evaluate("4136010003", ["2-1": 40], review: false)  // not reviewed: 12.0 computed only
            try await evaluate("4136010002", [:], review: true)  // no candidates: 0
            try await evaluate("4136070001", ["3-1": 50], review: true)  // 5.0

            var policy = Xcert_Assessment_V1_SetResultPolicyRequest()
            policy.year = 2026
            policy.policy.tiers = [("合格", Int32(100)), ("优秀", 150), ("合格", 90)].map { name, minimum in
                var tier = Xcert_Assessment_V1_Tier()
                tier.name = name
                tier.minTotalTenths = minimum
                return tier
            }
            policy.policy.failingTotalTenths = 100
            policy.policy.registrationFloorBasisPoints = 3000
            let refused = try #require(
                await assessment.refusal(Xcert_Assessment_V1_ResultService.Method.setResultPolicy, policy, token: h.admin))
            #expect(refused.fieldViolations.map(\.field) == ["policy.tiers[2].name"])
            policy.policy.tiers.removeLast()
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_ResultService.Method.setResultPolicy, policy, token: world.car)?.code
                    == .permissionDenied)
            _ = try await assessment.call(Xcert_Assessment_V1_ResultService.Method.setResultPolicy, policy, token: h.admin)

            var list = Xcert_Assessment_V1_ListResultsRequest()
            list.year = 2026
            let results = try await assessment.call(Xcert_Assessment_V1_ResultService.Method.listResults, list, token: h.admin).results
            #expect(results.map(\.schoolCode) == ["4136070001", "4136010001", "4136010003", "4136010002"])
            #expect(results.map(\.totalTenths) == [50, 160, 120, 0])
            #expect(results.map(\.rankInType) == [1, 1, 2, 3])
            #expect(results.map(\.tier) == ["", "优秀", "合格", ""])
            #expect(results.map(\.reviewed) == [true, true, false, true])
            #expect(results[1].warnings.isEmpty, "\(results[1].warnings)")
            #expect(results[2].warnings == ["registration rate 20.00% is below the floor 30.00%"])
            #expect(results[3].warnings.first == "total 0.0 is below the failing threshold 10.0")
            #expect(results[3].warnings.last?.hasPrefix("no registration rate") == true)
            #expect(results[1].schoolName == "学校4136010001" && results[0].schoolType == .secondaryVocational)

            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let csv = try await runCommand(
                xctl,
                [
                    "assessment", "results", "--year", "2026", "--format", "csv", "--assessment", "127.0.0.1:\(assessment.address.port)",
                    "--token", h.admin,
                ])
            #expect(
                csv.status == 0
                    && csv.output.contains(
                        "4136010003,学校4136010003,高职,12.0,provisional,2,合格,20.00%,registration rate 20.00% is below the floor 30.00%"),
                "\(csv.output)")

            let school = try await h.token(role: "school", party: "4136010003")
            let own = try await assessment.call(Xcert_Assessment_V1_ResultService.Method.listResults, list, token: school).results
            #expect(
                own.map(\.schoolCode) == ["4136010003"] && own.first?.rankInType == 2,
                "its own result, ranked among all schools of its type")
            var other = Xcert_Assessment_V1_GetResultPolicyRequest()
            other.year = 2025
            #expect(
                try await assessment.call(Xcert_Assessment_V1_ResultService.Method.getResultPolicy, other, token: school).failingTotalTenths
                    == 600, "the default policy")
            await assessment.stop()
        }
    }

    @Test(
        """
        per organization: the pass rate of each of its certificate levels (no data where nobody sat) and the share of the province's \
        cities its sites are in
        """
    )
    func organizationResults() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let assessment = try await Assessment.start(h)
            // AUTO elementary: 20 at 4136010001 (15 pass), 10 at 4136010003 (all pass).
            let roster = try await h.createRoster(token: world.car)
            let rows =
                (0..<15).map { Candidates.row($0) } + (15..<20).map { Candidates.row($0, theory: 300, practical: 300) }
                + (20..<30).map { Candidates.row($0, school: "4136010003") }
            _ = try await h.upload(roster.id, chunk: 0, rows, token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            try await assessment.waitFor(rostersCounted: 1, cursor: 1, h)
            // car's sites: 南昌 in 2026 counts, 九江 opened in 2027 does not yet. A site is
            // registered no later than the current year, so the later one is made as a year
            // from now would see it: registered by the province, its year moved on directly.
            try await h.createSchool("4136040001", city: "360400")
            try await h.registerSite("4136010001", "AUTO", opened: 2026, token: world.car)
            let later = try await h.registerSite("4136040001", "AUTO", opened: 2026, token: h.admin)
            try await h.postgres.query(
                "UPDATE registry.assessment_sites SET year_opened = 2027 WHERE id = \(later.id)", logger: testLogger("results"))
            let cities = try #require(try await h.scalar("SELECT count(*)::integer FROM registry.cities", as: Int32.self))

            var request = Xcert_Assessment_V1_ListOrganizationResultsRequest()
            request.year = 2026
            let all = try await assessment.call(Xcert_Assessment_V1_ResultService.Method.listOrganizationResults, request, token: h.admin)
                .organizations
            let car = try #require(all.first { $0.organizationID == world.carOrganization })
            let rates = car.passRates.map { rate in
                "\(rate.certificateCode)/\(rate.level):\(rate.completed)/\(rate.passed):"
                    + (rate.passRate.hasValue ? "\(rate.passRate.value.numerator)/\(rate.passRate.value.denominator)" : "no data")
            }
            #expect(
                rates == [
                    "AUTO/elementary:30/25:25/30", "AUTO/intermediate:0/0:no data", "AUTO/advanced:0/0:no data",
                    "NEV/elementary:0/0:no data", "NEV/intermediate:0/0:no data", "NEV/advanced:0/0:no data",
                ])
            #expect(car.coveredCities == 1 && car.cities == cities)
            #expect(car.cityCoverage.value.numerator == 1 && car.cityCoverage.value.denominator == Int64(cities))
            #expect(car.uncoveredCityCodes.count == Int(cities) - 1 && !car.uncoveredCityCodes.contains("360100"))
            let bim = try #require(
                all.first { $0.organizationID != world.carOrganization && $0.passRates.contains { $0.certificateCode == "BIM" } })
            #expect(bim.coveredCities == 0 && bim.passRates.allSatisfy { !$0.passRate.hasValue })

            // An organization reads its own; schools read none.
            let own = try await assessment.call(Xcert_Assessment_V1_ResultService.Method.listOrganizationResults, request, token: world.car)
                .organizations
            #expect(own == [car])
            request.organizationID = bim.organizationID
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_ResultService.Method.listOrganizationResults, request, token: world.car)?.code
                    == .notFound, "another's results are not disclosed")
            #expect(
                try await assessment.call(Xcert_Assessment_V1_ResultService.Method.listOrganizationResults, request, token: h.admin)
                    .organizations == [bim])
            let school = try await h.token(role: "school", party: "4136010001")
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_ResultService.Method.listOrganizationResults, request, token: school)?.code
                    == .permissionDenied)
            request.year = 1999
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_ResultService.Method.listOrganizationResults, request, token: h.admin)?
                    .fieldViolations.map(\.field) == ["year"])
            await assessment.stop()
        }
    }
}
