import Foundation
import SwiftProtobuf
import Testing
import XCertProto
import XCertTestSupport
import XCertWire

@Suite("Assessment: evaluation schemes", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct SchemeTests {
    @Test("the default template is 003's table: 7 first-level and 33 second-level indicators, the six computable ones computed")
    func defaultTemplate() async throws {
        try await withFilingStack { h in
            let assessment = try await Assessment.start(h)
            let template = try await assessment.scheme("GetDefaultTemplate", Xcert_Assessment_V1_GetDefaultTemplateRequest(), token: h.admin)
            #expect(template.indicators.count == 33)
            #expect(Set(template.indicators.map(\.firstLevel)).count == 7)
            #expect(template.indicators.filter { $0.kind == .computed }.map(\.code) == ["1-1", "1-2", "1-3", "1-4-1", "1-4-2", "1-5", "6-2"])
            #expect(template.totalMaxPointsTenths == 1000 && template.bonusMaxPointsTenths == 80)
            #expect(template.indicators.first { $0.code == "1-4-1" }?.name == "考核费用支付时间")
            _ = try await assessment.process.terminate()
        }
    }

    @Test("a draft changes; a published scheme is frozen and a change makes a new version; the scheme in use is the latest published")
    func frozenOncePublished() async throws {
        try await withFilingStack { h in
            let assessment = try await Assessment.start(h)
            var create = Xcert_Assessment_V1_CreateSchemeRequest()
            create.year = 2026
            let first = try await assessment.scheme("CreateScheme", create, token: h.admin)
            #expect(first.version == 1 && first.state == .draft && first.indicators.count == 33)
            #expect(await assessment.schemeRefusal("GetScheme", { var r = Xcert_Assessment_V1_GetSchemeRequest(); r.year = 2026; return r }(), token: h.admin)?.code == .notFound)

            var update = Xcert_Assessment_V1_UpdateSchemeRequest()
            update.year = 2026
            update.version = 1
            update.indicators = first.indicators
            update.indicators[0].maxPointsTenths = 80
            update.note = "报考率提高到8分"
            #expect(try await assessment.scheme("UpdateScheme", update, token: h.admin).totalMaxPointsTenths == 1020)
            var publish = Xcert_Assessment_V1_PublishSchemeRequest()
            publish.year = 2026
            publish.version = 1
            let published = try await assessment.scheme("PublishScheme", publish, token: h.admin)
            #expect(published.state == .published && published.note == "报考率提高到8分")

            update.indicators[0].maxPointsTenths = 60
            let frozen = try #require(await assessment.schemeRefusal("UpdateScheme", update, token: h.admin))
            #expect(frozen.code == .failedPrecondition && frozen.message.contains("frozen"), "\(frozen.message)")
            create.indicators = update.indicators
            let second = try await assessment.scheme("CreateScheme", create, token: h.admin)
            #expect(second.version == 2 && second.state == .draft)

            var inUse = Xcert_Assessment_V1_GetSchemeRequest()
            inUse.year = 2026
            #expect(try await assessment.scheme("GetScheme", inUse, token: h.admin).version == 1, "a draft is not in use")
            publish.version = 2
            _ = try await assessment.scheme("PublishScheme", publish, token: h.admin)
            let school = try await h.token(role: "school", party: "4136010001")
            let now = try await assessment.scheme("GetScheme", inUse, token: school)
            #expect(now.version == 2 && now.indicators[0].maxPointsTenths == 60)
            inUse.version = 1
            #expect(try await assessment.scheme("GetScheme", inUse, token: school).indicators[0].maxPointsTenths == 80, "version 1 unchanged")
            #expect(await assessment.schemeRefusal("CreateScheme", create, token: school)?.code == .permissionDenied)
            _ = try await assessment.process.terminate()
        }
    }

    @Test("each unsound indicator is named: code, duplicate, points, a computed item without a rule or with the wrong kind of rule, thresholds")
    func unsoundIndicators() async throws {
        try await withFilingStack { h in
            let assessment = try await Assessment.start(h)
            var indicators = try await assessment.scheme("GetDefaultTemplate", Xcert_Assessment_V1_GetDefaultTemplateRequest(), token: h.admin).indicators
            indicators[0].rateRule.lowBasisPoints = 9500          // above high
            indicators[1].rule = nil                               // computed without a rule
            indicators[5].rateRule.lowBasisPoints = 0              // new sites is a count
            indicators[5].rateRule.highBasisPoints = 100
            indicators[6].maxPointsTenths = 0
            indicators[7].code = "2-1"                             // twice
            indicators[8].code = "2.3"
            indicators[9].source = .passRate                       // a manual item with a source
            var create = Xcert_Assessment_V1_CreateSchemeRequest()
            create.year = 2026
            create.indicators = indicators
            let refused = try #require(await assessment.schemeRefusal("CreateScheme", create, token: h.admin))
            #expect(refused.code == .invalidArgument)
            #expect(Set(refused.fieldViolations.map(\.field)) == [
                "indicators[0].rate_rule", "indicators[1].rule", "indicators[5].rate_rule", "indicators[6].max_points_tenths",
                "indicators[7].code", "indicators[8].code", "indicators[9].kind",
            ], "\(refused.fieldViolations)")
            #expect(try await h.scalar("SELECT count(*) FROM assessment.schemes", as: Int64.self) == 0)
            _ = try await assessment.process.terminate()
        }
    }
}

extension Assessment {
    func scheme<Request: SwiftProtobuf.Message>(_ method: String, _ request: Request, token: String) async throws -> Xcert_Assessment_V1_Scheme {
        try await self.client.unary("/xcert.assessment.v1.SchemeService/" + method, request, as: Xcert_Assessment_V1_Scheme.self, metadata: ["authorization": "Bearer \(token)"])
    }

    func schemeRefusal<Request: SwiftProtobuf.Message>(_ method: String, _ request: Request, token: String) async -> RPCError? {
        do {
            _ = try await self.scheme(method, request, token: token)
            return nil
        } catch {
            return error as? RPCError ?? RPCError(.unknown, "\(error)")
        }
    }
}
