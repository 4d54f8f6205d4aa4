import Foundation
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

@Suite(
    "Registry: reviewing units (审核单位), the cities and the bureaus the province designates beside them",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct ReviewingUnitTests {
    static func bureau(_ code: String, _ name: String) -> Xcert_Registry_V1_CreateReviewingBureauRequest {
        var request = Xcert_Registry_V1_CreateReviewingBureauRequest()
        request.bureau.code = code
        request.bureau.name = name
        return request
    }

    @Test(
        """
        a designated bureau reviews the secondary schools put under it, in place of their city; the city's reviewer no longer sees them; \
        the qualification and the analysts' view name the unit
        """
    )
    func bureauReviewsItsSchools() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            let created = try await registry.call(
                Xcert_Registry_V1_ReferenceDataService.Method.createReviewingBureau, Self.bureau("369001", "赣江新区社会发展局"),
                token: registry.admin)
            #expect(created.designated && created.code == "369001" && created.secondarySchools == 0)

            // The school is in Nanchang, under the new area's bureau; its neighbour is under its city.
            let school = try await registry.createSchool("4136010009", type: .secondaryVocational, reviewingUnit: "369001")
            #expect(school.cityCode == "360100" && school.reviewingUnitCode == "369001")
            let neighbour = try await registry.createSchool("4136010008", type: .secondaryVocational)
            #expect(neighbour.reviewingUnitCode == "360100", "no unit given: its city reviews it")
            registry.filing.approve("AUTO", year: 2020)

            var principal = Xcert_Registry_V1_CreatePrincipalRequest()
            principal.name = "赣江新区社会发展局审核员"
            principal.role = .cityReviewer
            principal.party = "369001"
            _ = try await registry.call(Xcert_Registry_V1_PrincipalService.Method.createPrincipal, principal, token: registry.admin)
            principal.party = "369002"
            let unknown = try #require(
                await registry.refusal(Xcert_Registry_V1_PrincipalService.Method.createPrincipal, principal, token: registry.admin))
            #expect(
                unknown.code == .invalidArgument && unknown.fieldViolations.map(\.field) == ["party"]
                    && unknown.fieldViolations[0].description.contains("no reviewing unit"), "\(unknown)")

            let newArea = try await registry.token(role: "city_reviewer", party: "369001", name: "赣江新区社会发展局")
            let nanchang = try await registry.token(role: "city_reviewer", party: "360100", name: "南昌市教育局")
            let application = try await registry.apply("4136010009", "AUTO")
            #expect(application.state == .awaitingCityReview && application.reviewingUnitCode == "369001")
            let early = try #require(
                await rpcRefusal { _ = try await registry.review(application.id, approve: true, token: registry.admin) })
            #expect(early.code == .failedPrecondition && early.message.contains("reviewing unit 369001"), "\(early.message)")
            #expect(
                await rpcRefusal { _ = try await registry.review(application.id, approve: true, token: nanchang) }?.code == .notFound,
                "the city does not review a school the province put under a bureau")

            let listed = { (token: String, unit: String) in
                var request = Xcert_Registry_V1_ListApplicationsRequest()
                request.reviewingUnitCode = unit
                return try await registry.call(Xcert_Registry_V1_PilotService.Method.listApplications, request, token: token)
                    .applications.map(\.schoolCode)
            }
            #expect(try await listed(newArea, "") == ["4136010009"])
            #expect(try await listed(nanchang, "").isEmpty)
            #expect(try await listed(registry.admin, "369001") == ["4136010009"])
            #expect(try await listed(registry.admin, "360100").isEmpty)

            _ = try await registry.review(application.id, approve: true, reason: "材料齐全", token: newArea)
            let approved = try await registry.review(application.id, approve: true, token: registry.admin)
            #expect(approved.reviews.map(\.reviewer) == ["赣江新区社会发展局", "省厅管理员"])
            var get = Xcert_Registry_V1_GetQualificationRequest()
            get.id = approved.qualificationID
            let qualification = try await registry.call(Xcert_Registry_V1_PilotService.Method.getQualification, get, token: newArea)
            #expect(qualification.cityCode == "360100" && qualification.reviewingUnitCode == "369001")
            #expect(
                try await registry.scalar(
                    "SELECT reviewing_unit_code || ' ' || reviewing_unit_name FROM analytics.pilot_qualifications", as: String.self)
                    == "369001 赣江新区社会发展局")

            let units = try await registry.call(
                Xcert_Registry_V1_ReferenceDataService.Method.listReviewingUnits, Xcert_Registry_V1_ListReviewingUnitsRequest(),
                token: nanchang
            ).units
            #expect(
                units.map { "\($0.code) \($0.name) \($0.designated ? "bureau" : "city") \($0.secondarySchools)" } == [
                    "360100 南昌市 city 1", "360400 九江市 city 0", "360700 赣州市 city 0", "369001 赣江新区社会发展局 bureau 1",
                ])
        }
    }

    @Test(
        """
        a bureau's code may not be a city's or outside the province, its name not another unit's; a school under a unit that does not \
        exist is refused naming the field; the CSV imports name the line and column
        """
    )
    func refusals() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            let create = { (code: String, name: String) in
                await registry.refusal(
                    Xcert_Registry_V1_ReferenceDataService.Method.createReviewingBureau, Self.bureau(code, name), token: registry.admin)
            }
            let cityCode = try #require(await create("360100", "南昌新区"))
            #expect(
                cityCode.code == .invalidArgument && cityCode.fieldViolations.map(\.field) == ["bureau.code"]
                    && cityCode.fieldViolations[0].description.contains("is the city 南昌市"), "\(cityCode)")
            #expect(await create("36900", "赣江新区社会发展局")?.fieldViolations.map(\.field) == ["bureau.code"])
            #expect(await create("440001", "某新区")?.fieldViolations.map(\.field) == ["bureau.code"], "outside the province")
            #expect(await create("369001", "南昌市")?.code == .alreadyExists, "a city's name")
            #expect(await create("369001", "赣江新区社会发展局") == nil)
            #expect(await create("369001", "赣江新区社会发展局")?.code == .alreadyExists)
            var rename = Xcert_Registry_V1_UpdateReviewingBureauRequest()
            rename.bureau.code = "369002"
            rename.bureau.name = "某局"
            #expect(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.updateReviewingBureau, rename, token: registry.admin)?
                    .code == .notFound)

            let stray = try #require(
                await rpcRefusal { _ = try await registry.createSchool("4136010007", type: .secondaryVocational, reviewingUnit: "369002") })
            #expect(
                stray.code == .invalidArgument && stray.fieldViolations.map(\.field) == ["school.reviewing_unit_code"]
                    && stray.fieldViolations[0].description.contains("no designated bureau 369002"), "\(stray)")
            #expect(try await registry.scalar("SELECT count(*)::integer FROM registry.schools", as: Int32.self) == 0, "nothing stored")

            // The imports: bureaus, then schools naming theirs by name or code.
            var bureaus = Xcert_Registry_V1_ImportRequest()
            bureaus.kind = .reviewingBureaus
            bureaus.csv = Data("代码,名称\n369001,赣江新区社会发展局\n369005,南昌市\n".utf8)
            let clash = try #require(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.import, bureaus, token: registry.admin))
            #expect(clash.fieldViolations.map(\.field) == ["line 3, column 1 (代码 / code)"], "\(clash)")
            bureaus.csv = Data("代码,名称\n369001,赣江新区社会发展局\n369005,某示范区教育局\n".utf8)
            let imported = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.import, bureaus, token: registry.admin)
            #expect([imported.created, imported.unchanged] == [1, 1])

            var schools = Xcert_Registry_V1_ImportRequest()
            schools.kind = .schools
            let header = "学校标识码,学校名称,学校类型,所在城市,专业数,在校生数,审核单位\n"
            schools.csv = Data((header + "4136010011,甲中专,中职,南昌市,10,3000,赣江新区社会发展局\n4136010012,乙中专,中职,南昌市,10,3000,新区\n").utf8)
            let badUnit = try #require(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.import, schools, token: registry.admin))
            #expect(badUnit.fieldViolations.map(\.field) == ["line 3, column 7 (审核单位 / reviewing_unit)"], "\(badUnit)")
            schools.csv = Data(
                (header + "4136010011,甲中专,中职,南昌市,10,3000,赣江新区社会发展局\n4136010012,乙中专,中职,南昌市,10,3000,369005\n4136010013,丙中专,中职,南昌市,10,3000,\n")
                    .utf8)
            _ = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.import, schools, token: registry.admin)
            var list = Xcert_Registry_V1_ListSchoolsRequest()
            list.cityCode = "360100"
            let listed = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.listSchools, list, token: registry.admin)
            #expect(
                listed.schools.map { "\($0.code) \($0.reviewingUnitCode)" } == [
                    "4136010011 369001", "4136010012 369005", "4136010013 360100",
                ])
            list.cityCode = ""
            list.reviewingUnitCode = "369001"
            #expect(
                try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.listSchools, list, token: registry.admin).schools
                    .map(\.code) == ["4136010011"])
        }
    }
}
