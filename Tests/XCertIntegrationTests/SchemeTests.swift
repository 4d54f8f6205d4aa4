import Foundation
import SwiftProtobuf
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

@Suite(
    "Assessment: evaluation schemes", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .serialized,
    .timeLimit(.minutes(3)))
struct SchemeTests {
    @Test(
        """
        the default template is 003's table: 7 first-level and 33 second-level indicators, the computable ones (1-1 … 1-5, 4-1, 4-2, \
        6-2, 6-3) computed
        """
    )
    func defaultTemplate() async throws {
        try await withFilingStack { h in
            let assessment = try await Assessment.start(h)
            let template = try await assessment.call(
                Xcert_Assessment_V1_SchemeService.Method.getDefaultTemplate, Xcert_Assessment_V1_GetDefaultTemplateRequest(), token: h.admin
            )
            #expect(template.indicators.count == 33)
            #expect(Set(template.indicators.map(\.firstLevel)).count == 7)
            #expect(
                template.indicators.filter { $0.kind == .computed }.map(\.code) == [
                    "1-1", "1-2", "1-3", "1-4-1", "1-4-2", "1-5", "4-1", "4-2", "6-2", "6-3",
                ])
            #expect(template.indicators.first { $0.code == "4-1" }?.source == .certifiedTraining)
            #expect(template.totalMaxPointsTenths == 1000 && template.bonusMaxPointsTenths == 80)
            #expect(template.indicators.first { $0.code == "1-4-1" }?.name == "考核费用支付时间")
            await assessment.stop()
        }
    }

    @Test("a draft changes; a published scheme is frozen and a change makes a new version; the scheme in use is the latest published")
    func frozenOncePublished() async throws {
        try await withFilingStack { h in
            let assessment = try await Assessment.start(h)
            var create = Xcert_Assessment_V1_CreateSchemeRequest()
            create.year = 2026
            let first = try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.createScheme, create, token: h.admin)
            #expect(first.version == 1 && first.state == .draft && first.indicators.count == 33)
            #expect(
                await assessment.refusal(
                    Xcert_Assessment_V1_SchemeService.Method.getScheme,
                    {
                        var r = Xcert_Assessment_V1_GetSchemeRequest()
                        r.year = 2026
                        return r
                    }(), token: h.admin)?.code == .notFound)

            var update = Xcert_Assessment_V1_UpdateSchemeRequest()
            update.year = 2026
            update.version = 1
            update.indicators = first.indicators
            update.indicators[0].maxPointsTenths = 80
            update.note = "报考率提高到8分"
            #expect(
                try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.updateScheme, update, token: h.admin)
                    .totalMaxPointsTenths == 1020)
            var publish = Xcert_Assessment_V1_PublishSchemeRequest()
            publish.year = 2026
            publish.version = 1
            let published = try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.publishScheme, publish, token: h.admin)
            #expect(published.state == .published && published.note == "报考率提高到8分")

            update.indicators[0].maxPointsTenths = 60
            let frozen = try #require(
                await assessment.refusal(Xcert_Assessment_V1_SchemeService.Method.updateScheme, update, token: h.admin))
            #expect(frozen.code == .failedPrecondition && frozen.message.contains("frozen"), "\(frozen.message)")
            create.indicators = update.indicators
            let second = try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.createScheme, create, token: h.admin)
            #expect(second.version == 2 && second.state == .draft)

            var inUse = Xcert_Assessment_V1_GetSchemeRequest()
            inUse.year = 2026
            #expect(
                try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.getScheme, inUse, token: h.admin).version == 1,
                "a draft is not in use")
            publish.version = 2
            _ = try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.publishScheme, publish, token: h.admin)
            let school = try await h.token(role: "school", party: "4136010001")
            let now = try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.getScheme, inUse, token: school)
            #expect(now.version == 2 && now.indicators[0].maxPointsTenths == 60)
            inUse.version = 1
            #expect(
                try await assessment.call(Xcert_Assessment_V1_SchemeService.Method.getScheme, inUse, token: school).indicators[0]
                    .maxPointsTenths == 80, "version 1 unchanged")
            #expect(
                await assessment.refusal(Xcert_Assessment_V1_SchemeService.Method.createScheme, create, token: school)?.code
                    == .permissionDenied)
            await assessment.stop()
        }
    }

    @Test(
        """
        each unsound indicator is named: code, duplicate, points, a computed item without a rule or with the wrong kind of rule, thresholds
        """
    )
    func unsoundIndicators() async throws {
        try await withFilingStack { h in
            let assessment = try await Assessment.start(h)
            var indicators = try await assessment.call(
                Xcert_Assessment_V1_SchemeService.Method.getDefaultTemplate, Xcert_Assessment_V1_GetDefaultTemplateRequest(), token: h.admin
            ).indicators
            indicators[0].rateRule.lowBasisPoints = 9500  // above high
            indicators[1].rule = nil  // computed without a rule
            indicators[5].rateRule.lowBasisPoints = 0  // new sites is a count
            indicators[5].rateRule.highBasisPoints = 100
            indicators[6].maxPointsTenths = 0
            indicators[7].code = "2-1"  // twice
            indicators[8].code = "2.3"
            indicators[9].source = .passRate  // a manual item with a source
            var create = Xcert_Assessment_V1_CreateSchemeRequest()
            create.year = 2026
            create.indicators = indicators
            let refused = try #require(
                await assessment.refusal(Xcert_Assessment_V1_SchemeService.Method.createScheme, create, token: h.admin))
            #expect(refused.code == .invalidArgument)
            #expect(
                Set(refused.fieldViolations.map(\.field)) == [
                    "indicators[0].rate_rule", "indicators[1].rule", "indicators[5].rate_rule", "indicators[6].max_points_tenths",
                    "indicators[7].code", "indicators[8].code", "indicators[9].kind",
                ], "\(refused.fieldViolations)")
            #expect(try await h.scalar("SELECT count(*) FROM assessment.schemes", as: Int64.self) == 0)
            await assessment.stop()
        }
    }
}

extension SchemeTests {
    @Test("through xctl: the template as CSV and JSON, a draft from JSON, publishing, the frozen version refused, the list")
    func throughXctl() async throws {
        try await withFilingStack { h in
            let assessment = try await Assessment.start(h)
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            @discardableResult
            func run(_ arguments: [String], status: Int32 = 0) async throws -> String {
                let result = try await runCommand(
                    xctl,
                    ["assessment", "scheme"] + arguments + ["--assessment", "127.0.0.1:\(assessment.address.port)", "--token", h.admin])
                #expect(result.status == status, "xctl assessment scheme \(arguments.joined(separator: " ")): \(result.output)")
                return result.output
            }
            let csv = try await run(["template", "--format", "csv"])
            #expect(csv.contains("1-4-1,1. 年度目标完成情况,考核费用支付时间,4.0,50.00% → 100.00%"), "\(csv)")
            #expect(csv.contains("6-2,6. 配合省1+X推进办工作情况,证书联盟牵头院校作用发挥,6.0,3.0 per unit"), "\(csv)")
            let json = FileManager.default.temporaryDirectory.appendingPathComponent("scheme-\(UUID().uuidString).json")
            try Data(try await run(["template", "--json"]).utf8).write(to: json)
            defer { try? FileManager.default.removeItem(at: json) }

            #expect(
                try await run(["create", "--year", "2026"]).contains(
                    "scheme 2026 version 1: draft, 33 indicators, 100.0 points + 8.0 bonus"))
            #expect(try await run(["create", "--year", "2026", "--json", json.path, "--note", "按模板"]).contains("version 2: draft"))
            #expect(try await run(["publish", "--year", "2026", "--version", "2"]).contains("version 2: published"))
            let frozen = try await run(["update", "--year", "2026", "--version", "2", "--json", json.path], status: 1)
            #expect(frozen.contains("FAILED_PRECONDITION") && frozen.contains("frozen"), "\(frozen)")
            #expect(
                try await run(["show", "--year", "2026", "--format", "csv"]).contains(
                    "7-8,7. 特色加分项目,参与本土培训评价组织申报及推广工作,1.0,\"manual, bonus\""))
            let list = try await run(["list", "--format", "csv"])
            #expect(list.contains("2026,1,draft,33,100.0,8.0,") && list.contains("2026,2,published,33,100.0,8.0,按模板"), "\(list)")
            await assessment.stop()
        }
    }
}

extension Assessment {
    /// The default template as the year's first version, published: where evaluations start.
    @discardableResult
    func publishDefaultScheme(year: Int32 = 2026, token: String) async throws -> Xcert_Assessment_V1_Scheme {
        var create = Xcert_Assessment_V1_CreateSchemeRequest()
        create.year = year
        let draft = try await self.call(Xcert_Assessment_V1_SchemeService.Method.createScheme, create, token: token)
        var publish = Xcert_Assessment_V1_PublishSchemeRequest()
        publish.year = year
        publish.version = draft.version
        return try await self.call(Xcert_Assessment_V1_SchemeService.Method.publishScheme, publish, token: token)
    }

}
