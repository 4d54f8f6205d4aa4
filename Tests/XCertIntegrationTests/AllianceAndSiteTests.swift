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
    "Registry: alliances, lead schools, assessment sites, monitoring points",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct AllianceAndSiteTests {
    /// 12 higher-vocational schools qualified for BIM in 2020 (4 per city), 3 of them also for AUTO.
    private func seedAlliances(_ registry: RegistryHarness) async throws -> [String] {
        try await registry.seedReference()
        for certificate in ["BIM", "AUTO", "NEV"] { registry.filing.approve(certificate, year: 2020) }
        let cities = ["360100", "360400", "360700"]
        var schools: [String] = []
        for index in 0..<12 {
            let city = cities[index % 3]
            let code = "41" + city.prefix(4) + String(format: "%04d", index + 1)
            try await registry.createSchool(code, city: city)
            try await registry.qualify(code, "BIM", scale: Int32(10 + index))
            schools.append(code)
        }
        for code in schools.prefix(3) { try await registry.qualify(code, "AUTO") }
        return schools
    }

    @Test("000's \"fewer than 10\" counts the schools that applied (申报学校数): 9 qualified and 1 rejected make 10, open to selection")
    func applyingSchoolsCount() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            registry.filing.approve("NEV", year: 2020)
            for index in 0..<10 {
                let code = String(format: "41360100%02d", 40 + index)
                try await registry.createSchool(code)
                let application = try await registry.apply(code, "NEV")
                _ = try await registry.review(application.id, approve: index < 9, reason: index < 9 ? "" : "实训条件不足", token: registry.admin)
            }
            var get = Xcert_Registry_V1_GetAllianceRequest()
            get.certificateCode = "NEV"
            get.year = 2020
            let alliance = try await registry.call(Xcert_Registry_V1_AllianceService.Method.getAlliance, get, token: registry.admin)
            #expect(alliance.schoolCount == 9 && alliance.applicantCount == 10 && alliance.openToLeadSelection, "\(alliance)")
            var open = Xcert_Registry_V1_OpenLeadSelectionRequest()
            open.certificateCode = "NEV"
            open.year = 2020
            open.applicationsClose = LocalDate(year: 2099, month: 12, day: 31)!.wire
            _ = try await registry.call(Xcert_Registry_V1_AllianceService.Method.openLeadSelection, open, token: registry.admin)
        }
    }

    @Test(
        """
        alliances count qualified schools; under 10 not open to lead selection; the selection runs notice → applications → experts → \
        public notice → final with at most 3 leads, one primary
        """
    )
    func leadSelection() async throws {
        try await withRegistry { registry in
            let schools = try await self.seedAlliances(registry)
            var list = Xcert_Registry_V1_ListAlliancesRequest()
            list.year = 2020
            let alliances = try await registry.call(Xcert_Registry_V1_AllianceService.Method.listAlliances, list, token: registry.admin)
                .alliances
            #expect(
                alliances.map { "\($0.certificateCode):\($0.schoolCount):\($0.applicantCount):\($0.openToLeadSelection)" } == [
                    "AUTO:3:3:false", "BIM:12:12:true",
                ])
            list.onlyNotOpen = true
            #expect(
                try await registry.call(Xcert_Registry_V1_AllianceService.Method.listAlliances, list, token: registry.admin).alliances.map(
                    \.certificateCode) == ["AUTO"])

            var open = Xcert_Registry_V1_OpenLeadSelectionRequest()
            open.certificateCode = "AUTO"
            open.year = 2020
            open.applicationsClose.year = 2099
            open.applicationsClose.month = 12
            open.applicationsClose.day = 31
            let small = try #require(
                await registry.refusal(Xcert_Registry_V1_AllianceService.Method.openLeadSelection, open, token: registry.admin))
            #expect(small.code == .failedPrecondition)
            #expect(small.message.contains("has 3 applying schools (申报学校数)"), "\(small.message)")
            open.certificateCode = "BIM"
            _ = try await registry.call(Xcert_Registry_V1_AllianceService.Method.openLeadSelection, open, token: registry.admin)

            // Schools apply for themselves; irregular ones and outsiders may not.
            var irregular = Xcert_Registry_V1_RecordIrregularityRequest()
            irregular.schoolCode = schools[11]
            irregular.kind = .fundsMisused
            irregular.description_p = "试点经费挪作他用"
            irregular.year = 2020
            _ = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.recordIrregularity, irregular, token: registry.admin)
            let outsider = "4136019999"
            try await registry.createSchool(outsider)
            var applications: [Int64] = []
            for school in schools.prefix(5) + [schools[11], outsider] {
                let token = try await registry.token(role: "school", party: school)
                let outcome = await registry.refusal(
                    Xcert_Registry_V1_AllianceService.Method.submitLeadApplication, self.leadApplication(school), token: token)
                switch school {
                case schools[11]:
                    #expect(outcome?.code == .failedPrecondition)
                    #expect(outcome?.message.contains("irregularities") == true, "\(String(describing: outcome))")
                case outsider:
                    #expect(outcome?.code == .failedPrecondition)
                    #expect(outcome?.message.contains("holds no pilot qualification") == true, "\(String(describing: outcome))")
                default:
                    #expect(outcome == nil, "\(String(describing: outcome))")
                }
            }
            var form = self.leadApplication(schools[5])
            form.form = Xcert_Registry_V1_LeadApplicationForm()
            form.form.schoolProfile = String(repeating: "强", count: 501)
            let incomplete = try #require(
                await registry.refusal(Xcert_Registry_V1_AllianceService.Method.submitLeadApplication, form, token: registry.admin))
            #expect(
                Set(incomplete.fieldViolations.map(\.field)) == [
                    "form.contact_person", "form.contact_phone", "form.address", "form.school_profile", "form.implementation",
                    "form.work_plan", "form.commitment_signed",
                ])

            var get = Xcert_Registry_V1_GetLeadSelectionRequest()
            get.certificateCode = "BIM"
            get.year = 2020
            var selection = try await registry.call(Xcert_Registry_V1_AllianceService.Method.getLeadSelection, get, token: registry.admin)
            #expect(selection.phase == .applications)
            applications = selection.applications.map(\.id)
            #expect(applications.count == 5)

            // Experts score after applications close.
            var score = Xcert_Registry_V1_RecordExpertScoreRequest()
            score.applicationID = applications[0]
            score.expert = "专家甲"
            score.score = 90
            #expect(
                await registry.refusal(Xcert_Registry_V1_AllianceService.Method.recordExpertScore, score, token: registry.admin)?.code
                    == .failedPrecondition)
            var close = Xcert_Registry_V1_CloseLeadApplicationsRequest()
            close.certificateCode = "BIM"
            close.year = 2020
            _ = try await registry.call(Xcert_Registry_V1_AllianceService.Method.closeLeadApplications, close, token: registry.admin)
            _ = try await registry.call(Xcert_Registry_V1_AllianceService.Method.recordExpertScore, score, token: registry.admin)
            score.expert = "专家乙"
            score.score = 85
            let scored = try await registry.call(Xcert_Registry_V1_AllianceService.Method.recordExpertScore, score, token: registry.admin)
            #expect(scored.scores.count == 2)
            #expect((scored.averageScore.numerator, scored.averageScore.denominator) == (175, 2))
            #expect(
                await registry.refusal(Xcert_Registry_V1_AllianceService.Method.recordExpertScore, score, token: registry.admin)?.code
                    == .alreadyExists)

            // At most 3 leads, exactly one primary, all of them applicants.
            var name = Xcert_Registry_V1_NameLeadSchoolsRequest()
            name.certificateCode = "BIM"
            name.year = 2020
            name.noticeDays = 7
            name.leads = self.leads(Array(schools.prefix(4)), primary: [0])
            let four = try #require(
                await registry.refusal(Xcert_Registry_V1_AllianceService.Method.nameLeadSchools, name, token: registry.admin))
            #expect(four.fieldViolations.map(\.description) == ["at most 3 lead schools per certificate, not 4"])
            name.leads = self.leads(Array(schools.prefix(3)), primary: [0, 1])
            let twoPrimaries = try #require(
                await registry.refusal(Xcert_Registry_V1_AllianceService.Method.nameLeadSchools, name, token: registry.admin))
            #expect(twoPrimaries.fieldViolations.map(\.description) == ["exactly one lead school must be primary, not 2"])
            name.leads = self.leads([schools[0], schools[6]], primary: [0])
            #expect(
                await registry.refusal(Xcert_Registry_V1_AllianceService.Method.nameLeadSchools, name, token: registry.admin)?
                    .fieldViolations.map(\.field) == ["leads[1].school_code"])
            // An irregularity recorded after a school applied bars it when the leads are named, and nothing is named.
            irregular.schoolCode = schools[4]
            irregular.kind = .trainingOrFacilities
            irregular.description_p = "实训环境建设不规范"
            _ = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.recordIrregularity, irregular, token: registry.admin)
            name.leads = self.leads([schools[1], schools[4]], primary: [0])
            let barred = try #require(
                await registry.refusal(Xcert_Registry_V1_AllianceService.Method.nameLeadSchools, name, token: registry.admin))
            #expect(barred.code == .failedPrecondition)
            #expect(
                barred.message.contains("school \(schools[4]) has recorded irregularities during the pilot (2020: 实训环境建设不规范)")
                    && barred.message.contains("may not be named a lead school"), "\(barred.message)")
            #expect(
                try await registry.call(Xcert_Registry_V1_AllianceService.Method.getLeadSelection, get, token: registry.admin).leads.isEmpty
            )
            name.leads = self.leads(Array(schools.prefix(3)), primary: [1])
            selection = try await registry.call(Xcert_Registry_V1_AllianceService.Method.nameLeadSchools, name, token: registry.admin)
            #expect(selection.phase == .publicNotice)
            #expect(selection.leads.first?.schoolCode == schools[1])
            #expect(selection.leads.first?.primary == true)

            // The result waits for the public notice to run its course.
            var finalize = Xcert_Registry_V1_FinalizeLeadSelectionRequest()
            finalize.certificateCode = "BIM"
            finalize.year = 2020
            let early = try #require(
                await registry.refusal(Xcert_Registry_V1_AllianceService.Method.finalizeLeadSelection, finalize, token: registry.admin))
            #expect(early.code == .failedPrecondition)
            #expect(early.message.contains("public notice"), "\(early.message)")
            var alliance = Xcert_Registry_V1_GetAllianceRequest()
            alliance.certificateCode = "BIM"
            alliance.year = 2020
            #expect(
                try await registry.call(Xcert_Registry_V1_AllianceService.Method.getAlliance, alliance, token: registry.admin).leads.isEmpty
            )
            try await registry.postgres.query(
                "UPDATE registry.lead_selections SET notice_ends_at = now() - interval '1 second'", logger: testLogger("alliances"))
            selection = try await registry.call(
                Xcert_Registry_V1_AllianceService.Method.finalizeLeadSelection, finalize, token: registry.admin)
            #expect(selection.phase == .final)
            let final = try await registry.call(Xcert_Registry_V1_AllianceService.Method.getAlliance, alliance, token: registry.admin)
            #expect(final.schoolCount == 12)
            #expect(Set(final.leads.map(\.schoolCode)) == Set(schools.prefix(3)))
            #expect(final.leads.filter(\.primary).map(\.schoolCode) == [schools[1]])
            // The list names the final leads too (what the assessment service scores 6-2 from).
            list.onlyNotOpen = false
            let listed = try await registry.call(Xcert_Registry_V1_AllianceService.Method.listAlliances, list, token: registry.admin)
                .alliances
            #expect(
                listed.map { "\($0.certificateCode):\($0.leads.map(\.schoolCode).sorted())" } == [
                    "AUTO:[]", "BIM:\(Array(schools.prefix(3)).sorted())",
                ])

            // One school may lead several certificates: schools[1] leads NEV as well.
            for school in schools.prefix(10) { try await registry.qualify(school, "NEV") }
            open.certificateCode = "NEV"
            _ = try await registry.call(Xcert_Registry_V1_AllianceService.Method.openLeadSelection, open, token: registry.admin)
            var nev = self.leadApplication(schools[1])
            nev.certificateCode = "NEV"
            _ = try await registry.call(Xcert_Registry_V1_AllianceService.Method.submitLeadApplication, nev, token: registry.admin)
            close.certificateCode = "NEV"
            _ = try await registry.call(Xcert_Registry_V1_AllianceService.Method.closeLeadApplications, close, token: registry.admin)
            name.certificateCode = "NEV"
            name.leads = self.leads([schools[1]], primary: [0])
            #expect(
                try await registry.call(Xcert_Registry_V1_AllianceService.Method.nameLeadSchools, name, token: registry.admin).leads.map(
                    \.schoolCode) == [schools[1]])
            let noticed = try await registry.call(Xcert_Registry_V1_AllianceService.Method.listAlliances, list, token: registry.admin)
                .alliances
            #expect(noticed.first { $0.certificateCode == "NEV" }?.leads.isEmpty == true, "leads under public notice are not final yet")
        }
    }

    @Test(
        """
        organizations register sites for their own certificates; coverage lists each city with qualified schools but no site; monitoring \
        points report a shortfall
        """
    )
    func sitesCoverageAndMonitoring() async throws {
        try await withRegistry { registry in
            let schools = try await self.seedAlliances(registry)
            let car = try await registry.token(
                role: "organization",
                party: try #require(
                    try await registry.scalar(
                        "SELECT organization_id::text FROM registry.certificates WHERE code = 'AUTO'", as: String.self)))
            let bim = try await registry.token(
                role: "organization",
                party: try #require(
                    try await registry.scalar("SELECT organization_id::text FROM registry.certificates WHERE code = 'BIM'", as: String.self)
                ))
            let school = try await registry.token(role: "school", party: schools[0])

            var site = Xcert_Registry_V1_RegisterSiteRequest()
            site.schoolCode = schools[0]  // 南昌
            site.certificateCode = "AUTO"
            site.levels = [.elementary, .intermediate]
            site.capacity = 60
            site.yearOpened = 2020
            let registered = try await registry.call(Xcert_Registry_V1_SiteService.Method.registerSite, site, token: car)
            #expect(registered.cityCode == "360100")
            #expect(await registry.refusal(Xcert_Registry_V1_SiteService.Method.registerSite, site, token: car)?.code == .alreadyExists)
            #expect(await registry.refusal(Xcert_Registry_V1_SiteService.Method.registerSite, site, token: bim)?.code == .permissionDenied)
            #expect(
                await registry.refusal(Xcert_Registry_V1_SiteService.Method.registerSite, site, token: school)?.code == .permissionDenied)
            // A site opened in 2021 does not cover 2020.
            site.schoolCode = schools[1]  // 九江
            site.yearOpened = 2021
            _ = try await registry.call(Xcert_Registry_V1_SiteService.Method.registerSite, site, token: car)
            site.certificateCode = "BIM"
            site.schoolCode = schools[2]  // 赣州
            site.yearOpened = 2020
            _ = try await registry.call(Xcert_Registry_V1_SiteService.Method.registerSite, site, token: bim)

            var coverage = Xcert_Registry_V1_GetSiteCoverageRequest()
            coverage.year = 2020
            let gaps = try await registry.call(Xcert_Registry_V1_SiteService.Method.getSiteCoverage, coverage, token: registry.admin).gaps
            #expect(
                gaps.map { "\($0.certificateCode)@\($0.cityCode)=\($0.qualifiedSchools)" } == [
                    "AUTO@360400=1", "AUTO@360700=1", "BIM@360100=4", "BIM@360400=4",
                ])
            #expect(gaps.first?.cityName == "九江市")
            let own = try await registry.call(Xcert_Registry_V1_SiteService.Method.getSiteCoverage, coverage, token: car)
            #expect(Set(own.gaps.map(\.certificateCode)) == ["AUTO"], "an organization sees its own certificates' gaps")
            // Each organization's cities: its sites opened by the year, out of the province's cities.
            let cities = try #require(try await registry.scalar("SELECT count(*)::integer FROM registry.cities", as: Int32.self))
            let organizations = try await registry.call(
                Xcert_Registry_V1_SiteService.Method.getSiteCoverage, coverage, token: registry.admin
            ).organizations
            let carID = try #require(
                try await registry.scalar("SELECT organization_id FROM registry.certificates WHERE code = 'AUTO'", as: Int64.self))
            let bimID = try #require(
                try await registry.scalar("SELECT organization_id FROM registry.certificates WHERE code = 'BIM'", as: Int64.self))
            let byID = Dictionary(uniqueKeysWithValues: organizations.map { ($0.organizationID, $0) })
            #expect(byID[carID]?.coveredCityCodes == ["360100"], "the 2021 site in 九江 does not count for 2020")
            #expect(byID[bimID]?.coveredCityCodes == ["360700"])
            #expect(byID[carID]?.cities == cities)
            #expect(organizations.filter { $0.organizationID != carID && $0.organizationID != bimID }.allSatisfy { $0.coveredCities == 0 })
            #expect(own.organizations.map(\.organizationID) == [carID], "an organization sees its own coverage")
            coverage.year = 2021
            #expect(
                try await registry.call(Xcert_Registry_V1_SiteService.Method.getSiteCoverage, coverage, token: car).organizations.first?
                    .coveredCityCodes == ["360100", "360400"])
            coverage.year = 2020
            let listed = try await registry.call(
                Xcert_Registry_V1_SiteService.Method.listSites, Xcert_Registry_V1_ListSitesRequest(), token: bim
            ).sites
            #expect(listed.map(\.certificateCode) == ["BIM"], "an organization lists its own sites")

            // Monitoring points: about 10, spread over the cities; fewer is said, not hidden.
            var select = Xcert_Registry_V1_SelectMonitoringPointsRequest()
            select.certificateCode = "BIM"
            select.year = 2020
            let picked = try await registry.call(Xcert_Registry_V1_SiteService.Method.selectMonitoringPoints, select, token: registry.admin)
            #expect(picked.points.count == 10)
            #expect(picked.qualifiedSchools == 12)
            #expect(picked.shortfall.isEmpty)
            // One per city in turn, the city with the largest pilot (赣州, scale 21) first: 4 + 3 + 3.
            #expect(Dictionary(grouping: picked.points, by: \.cityCode).mapValues(\.count) == ["360700": 4, "360400": 3, "360100": 3])
            select.certificateCode = "AUTO"
            let few = try await registry.call(Xcert_Registry_V1_SiteService.Method.selectMonitoringPoints, select, token: registry.admin)
            #expect(few.points.count == 3)
            #expect(few.shortfall.contains("only 3 schools hold a pilot qualification"), "\(few.shortfall)")
            select.schoolCodes = [schools[0], schools[5]]
            #expect(
                await registry.refusal(Xcert_Registry_V1_SiteService.Method.selectMonitoringPoints, select, token: registry.admin)?
                    .fieldViolations.map(\.field) == ["school_codes[1]"])
            #expect(
                await registry.refusal(Xcert_Registry_V1_SiteService.Method.selectMonitoringPoints, select, token: car)?.code
                    == .permissionDenied)
            var get = Xcert_Registry_V1_GetMonitoringPointsRequest()
            get.certificateCode = "AUTO"
            get.year = 2020
            #expect(try await registry.call(Xcert_Registry_V1_SiteService.Method.getMonitoringPoints, get, token: car).points.count == 3)
        }
    }

    @Test(
        """
        the province assigns the leads of a certificate under 10 applicants and adjusts final leads (replace, remove, add) with reasons \
        and history; an organization's opinion and bureaus' recommendations are recorded with an application before the leads are named
        """
    )
    func leadsAfterSelection() async throws {
        try await withRegistry { registry in
            let schools = try await self.seedAlliances(registry)
            let method = Xcert_Registry_V1_AllianceService.Method.self
            var assign = Xcert_Registry_V1_AssignLeadSchoolsRequest()
            assign.certificateCode = "AUTO"
            assign.year = 2020
            assign.reason = "申报学校数未达到10所，由省教育厅指定学校负责（000 第五条）"

            // Refused: a school outside the alliance, two primaries, a school with an irregularity, a certificate open to selection.
            assign.leads = self.leads([schools[0], schools[3]], primary: [0])
            let outsider = await registry.refusal(method.assignLeadSchools, assign, token: registry.admin)
            #expect(outsider?.code == .failedPrecondition && outsider?.message.contains("holds no pilot qualification for AUTO") == true)
            assign.leads = self.leads([schools[0], schools[1]], primary: [0, 1])
            #expect(
                await registry.refusal(method.assignLeadSchools, assign, token: registry.admin)?.fieldViolations.map(\.field) == ["leads"])
            var irregular = Xcert_Registry_V1_RecordIrregularityRequest()
            irregular.schoolCode = schools[2]
            irregular.kind = .reformDefects
            irregular.description_p = "书证融通工作存在明显缺陷"
            irregular.year = 2020
            _ = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.recordIrregularity, irregular, token: registry.admin)
            assign.leads = self.leads([schools[0], schools[2]], primary: [0])
            #expect(
                await registry.refusal(method.assignLeadSchools, assign, token: registry.admin)?.message.contains(
                    "may not lead an alliance")
                    == true)
            var bim = assign
            bim.certificateCode = "BIM"
            bim.leads = self.leads([schools[0]], primary: [0])
            #expect(
                await registry.refusal(method.assignLeadSchools, bim, token: registry.admin)?.message.contains(
                    "its leads are selected openly")
                    == true)

            // Assigned: final at once, in the alliance, with the history.
            assign.leads = self.leads([schools[0], schools[1]], primary: [0])
            var selection = try await registry.call(method.assignLeadSchools, assign, token: registry.admin)
            #expect(selection.phase == .final && selection.assigned && selection.changes.map(\.kind) == [.assigned, .assigned])
            #expect(await registry.refusal(method.assignLeadSchools, assign, token: registry.admin)?.code == .alreadyExists)
            var alliance = Xcert_Registry_V1_GetAllianceRequest()
            alliance.certificateCode = "AUTO"
            alliance.year = 2020
            #expect(
                try await registry.call(method.getAlliance, alliance, token: registry.admin).leads.map { "\($0.schoolCode):\($0.primary)" }
                    == ["\(schools[0]):true", "\(schools[1]):false"])

            // Adjusted: removed, added as the new primary; the primary cannot go without a successor, an irregular school cannot come.
            var adjust = Xcert_Registry_V1_AdjustLeadSchoolsRequest()
            adjust.certificateCode = "AUTO"
            adjust.year = 2020
            adjust.reason = "牵头工作不力，动态调整（000 第三条）"
            adjust.removeSchoolCode = schools[1]
            selection = try await registry.call(method.adjustLeadSchools, adjust, token: registry.admin)
            #expect(selection.leads.map(\.schoolCode) == [schools[0]] && selection.changes.last?.kind == .removed)
            adjust.removeSchoolCode = ""
            adjust.add = self.leads([schools[1]], primary: [0])[0]
            selection = try await registry.call(method.adjustLeadSchools, adjust, token: registry.admin)
            #expect(selection.leads.map { "\($0.schoolCode):\($0.primary)" } == ["\(schools[1]):true", "\(schools[0]):false"])
            adjust.removeSchoolCode = schools[1]
            adjust.clearAdd()
            let orphaned = await registry.refusal(method.adjustLeadSchools, adjust, token: registry.admin)
            #expect(
                orphaned?.code == .failedPrecondition
                    && orphaned?.message.contains("exactly one lead school must be primary, not 0") == true)
            adjust.removeSchoolCode = schools[0]
            adjust.add = self.leads([schools[2]], primary: [])[0]
            #expect(
                await registry.refusal(method.adjustLeadSchools, adjust, token: registry.admin)?.message.contains("may not lead") == true)
            adjust.reason = " "
            #expect(
                await registry.refusal(method.adjustLeadSchools, adjust, token: registry.admin)?.fieldViolations.map(\.field) == ["reason"])
            #expect(
                try await registry.scalar(
                    """
                    SELECT string_agg(kind, ',' ORDER BY change_id) || ' ' || (SELECT string_agg(named_by || ':' || adjustments, ',')
                    FROM analytics.lead_schools WHERE certificate_code = 'AUTO') FROM analytics.lead_changes WHERE certificate_code = 'AUTO'
                    """, as: String.self) == "assigned,assigned,removed,added assigned:2,assigned:2")

            // BIM's selection: opinions and recommendations while it takes applications; no adjustment before it is final.
            var open = Xcert_Registry_V1_OpenLeadSelectionRequest()
            open.certificateCode = "BIM"
            open.year = 2020
            open.applicationsClose = LocalDate(year: 2099, month: 12, day: 31)!.wire
            _ = try await registry.call(method.openLeadSelection, open, token: registry.admin)
            let application = try await registry.call(method.submitLeadApplication, self.leadApplication(schools[0]), token: registry.admin)
            let seeded = try #require(
                try await registry.scalar("SELECT organization_id FROM registry.certificates WHERE code = 'BIM'", as: Int64.self))
            let bimOrganization = try await registry.token(role: "organization", party: String(seeded))
            let car = try #require(
                try await registry.scalar("SELECT organization_id FROM registry.certificates WHERE code = 'AUTO'", as: Int64.self))
            let carOrganization = try await registry.token(role: "organization", party: String(car))
            var opinion = Xcert_Registry_V1_RecordOrganizationOpinionRequest()
            opinion.applicationID = application.id
            opinion.opinion = .supports
            opinion.text = "该校为本证书省级协调中心，支持其牵头"
            #expect(await registry.refusal(method.recordOrganizationOpinion, opinion, token: carOrganization)?.code == .notFound)
            let opined = try await registry.call(method.recordOrganizationOpinion, opinion, token: bimOrganization)
            #expect(opined.organizationOpinion.opinion == .supports && opined.organizationOpinion.text == opinion.text)
            #expect(await registry.refusal(method.recordOrganizationOpinion, opinion, token: bimOrganization)?.code == .alreadyExists)
            var recommend = Xcert_Registry_V1_RecommendLeadApplicantRequest()
            recommend.applicationID = application.id
            recommend.text = "推荐该校牵头"
            let nanchang = try await registry.token(role: "city_reviewer", party: "360100")
            let jiujiang = try await registry.token(role: "city_reviewer", party: "360400")
            #expect(await registry.refusal(method.recommendLeadApplicant, recommend, token: jiujiang)?.code == .notFound)
            _ = try await registry.call(method.recommendLeadApplicant, recommend, token: nanchang)
            #expect(
                await registry.refusal(method.recommendLeadApplicant, recommend, token: registry.admin)?.fieldViolations.map(\.field) == [
                    "reviewing_unit_code"
                ])
            recommend.reviewingUnitCode = "360400"
            let recommended = try await registry.call(method.recommendLeadApplicant, recommend, token: registry.admin)
            #expect(recommended.recommendations.map(\.reviewingUnitCode) == ["360100", "360400"])
            #expect(recommended.recommendations.first?.reviewingUnitName == "南昌市")
            var get = Xcert_Registry_V1_GetLeadSelectionRequest()
            get.certificateCode = "BIM"
            get.year = 2020
            #expect(
                try await registry.call(method.getLeadSelection, get, token: bimOrganization).applications.map(\.recommendations.count) == [
                    2
                ])
            #expect(try await registry.call(method.getLeadSelection, get, token: carOrganization).applications.isEmpty)
            #expect(try await registry.call(method.getLeadSelection, get, token: nanchang).applications.count == 1)
            #expect(try await registry.call(method.getLeadSelection, get, token: jiujiang).applications.isEmpty)
            adjust.certificateCode = "BIM"
            adjust.reason = "调整"
            #expect(
                await registry.refusal(method.adjustLeadSchools, adjust, token: registry.admin)?.message.contains("not final yet") == true)
            var close = Xcert_Registry_V1_CloseLeadApplicationsRequest()
            close.certificateCode = "BIM"
            close.year = 2020
            _ = try await registry.call(method.closeLeadApplications, close, token: registry.admin)
            var name = Xcert_Registry_V1_NameLeadSchoolsRequest()
            name.certificateCode = "BIM"
            name.year = 2020
            name.noticeDays = 7
            name.leads = self.leads([schools[0]], primary: [0])
            _ = try await registry.call(method.nameLeadSchools, name, token: registry.admin)
            opinion.opinion = .opposes
            let late = await registry.refusal(method.recordOrganizationOpinion, opinion, token: bimOrganization)
            #expect(late?.code == .failedPrecondition && late?.message.contains("are named") == true)
        }
    }

    @Test(
        """
        small certificates merged by specialty category into one selection: each under 10, together at least 10 (9 refused); the \
        schools of every merged alliance apply; the leads named lead every certificate of the group
        """
    )
    func mergedSelection() async throws {
        try await withRegistry { registry in
            let schools = try await self.seedAlliances(registry)  // AUTO: schools 0-2 (3 applying); BIM: 12
            for school in schools[3..<9] { try await registry.qualify(school, "NEV") }  // NEV: 6 more, 9 together with AUTO
            let method = Xcert_Registry_V1_AllianceService.Method.self
            var open = Xcert_Registry_V1_OpenLeadSelectionRequest()
            open.certificateCode = "AUTO"
            open.year = 2020
            open.applicationsClose = LocalDate(year: 2099, month: 12, day: 31)!.wire
            open.mergedCertificateCodes = ["NEV"]
            #expect(
                await registry.refusal(method.openLeadSelection, open, token: registry.admin)?.fieldViolations.map(\.field) == [
                    "specialty_category"
                ])
            open.specialtyCategory = "交通运输大类"
            let nine = await registry.refusal(method.openLeadSelection, open, token: registry.admin)
            #expect(
                nine?.code == .failedPrecondition && nine?.message.contains("have 9 applying schools together in 2020") == true,
                "\(String(describing: nine))")
            open.mergedCertificateCodes = ["NEV", "BIM"]
            #expect(
                await registry.refusal(method.openLeadSelection, open, token: registry.admin)?.message.contains(
                    "BIM has 12 applying schools in 2020: it holds a selection of its own") == true)
            try await registry.qualify(schools[9], "NEV")  // 10 together
            open.mergedCertificateCodes = ["NEV"]
            var selection = try await registry.call(method.openLeadSelection, open, token: registry.admin)
            #expect(selection.mergedCertificateCodes == ["NEV"] && selection.specialtyCategory == "交通运输大类")

            // NEV has no selection of its own now, nor assigned leads.
            var nev = open
            nev.certificateCode = "NEV"
            nev.mergedCertificateCodes = ["AUTO"]
            #expect(await registry.refusal(method.openLeadSelection, nev, token: registry.admin)?.code == .alreadyExists)
            var assign = Xcert_Registry_V1_AssignLeadSchoolsRequest()
            assign.certificateCode = "NEV"
            assign.year = 2020
            assign.leads = self.leads([schools[3]], primary: [0])
            assign.reason = "指定"
            #expect(await registry.refusal(method.assignLeadSchools, assign, token: registry.admin)?.code == .alreadyExists)

            // A school of NEV's alliance applies to the group's selection; one of BIM's only does not.
            var apply = self.leadApplication(schools[5])
            apply.certificateCode = "AUTO"
            _ = try await registry.call(method.submitLeadApplication, apply, token: registry.admin)
            apply = self.leadApplication(schools[10])
            apply.certificateCode = "AUTO"
            #expect(
                await registry.refusal(method.submitLeadApplication, apply, token: registry.admin)?.message.contains(
                    "holds no pilot qualification") == true)
            var close = Xcert_Registry_V1_CloseLeadApplicationsRequest()
            close.certificateCode = "AUTO"
            close.year = 2020
            _ = try await registry.call(method.closeLeadApplications, close, token: registry.admin)
            var name = Xcert_Registry_V1_NameLeadSchoolsRequest()
            name.certificateCode = "AUTO"
            name.year = 2020
            name.noticeDays = 7
            name.leads = self.leads([schools[5]], primary: [0])
            _ = try await registry.call(method.nameLeadSchools, name, token: registry.admin)
            try await registry.postgres.query(
                "UPDATE registry.lead_selections SET notice_ends_at = now() - interval '1 second'", logger: testLogger("merged"))
            var finalize = Xcert_Registry_V1_FinalizeLeadSelectionRequest()
            finalize.certificateCode = "AUTO"
            finalize.year = 2020
            selection = try await registry.call(method.finalizeLeadSelection, finalize, token: registry.admin)
            #expect(selection.phase == .final)

            // The leads lead both certificates.
            var alliance = Xcert_Registry_V1_GetAllianceRequest()
            alliance.certificateCode = "NEV"
            alliance.year = 2020
            let merged = try await registry.call(method.getAlliance, alliance, token: registry.admin)
            #expect(merged.mergedIntoCertificateCode == "AUTO" && merged.leads.map(\.schoolCode) == [schools[5]])
            var list = Xcert_Registry_V1_ListAlliancesRequest()
            list.year = 2020
            let listed = try await registry.call(method.listAlliances, list, token: registry.admin).alliances
            #expect(
                listed.map { "\($0.certificateCode):\($0.leads.map(\.schoolCode))" } == [
                    "AUTO:[\"\(schools[5])\"]", "BIM:[]", "NEV:[\"\(schools[5])\"]",
                ])
            #expect(
                try await registry.scalar(
                    "SELECT string_agg(certificate_code || ':' || named_by, ',' ORDER BY certificate_code) FROM analytics.lead_schools",
                    as: String.self) == "AUTO:selected,NEV:merged")
        }
    }

    private func leadApplication(_ school: String) -> Xcert_Registry_V1_SubmitLeadApplicationRequest {
        var request = Xcert_Registry_V1_SubmitLeadApplicationRequest()
        request.certificateCode = "BIM"
        request.year = 2020
        request.schoolCode = school
        request.form.contactPerson = "王老师"
        request.form.contactPhone = "0791-88888888"
        request.form.address = "江西省南昌市"
        request.form.schoolProfile = "国家示范性高职院校，建筑类专业群实力突出。"
        request.form.implementation = "2019年起试点BIM证书，通过率92%。"
        request.form.advantages = ["入选中国特色高水平高职学校建设单位"]
        request.form.workPlan = "组建联盟，开展师资培训，协调考点设立。"
        request.form.commitmentSigned = true
        return request
    }

    @Test(
        """
        002 appendix 2: one line per school with a qualification in force, by school type then code, with its certificates and levels, \
        specialties, scale and computed remarks (lead school, revoked); the view says the same, and xctl prints it under 002's headers
        """
    )
    func pilotSummaryTable() async throws {
        try await withRegistry { registry in
            let schools = try await self.seedAlliances(registry)
            try await registry.createSchool("4136010099", type: .vocationalUndergraduate)
            try await registry.qualify("4136010099", "NEV", scale: 120)
            let revokedApplication = try #require(
                try await registry.call(
                    Xcert_Registry_V1_PilotService.Method.listQualifications,
                    {
                        var list = Xcert_Registry_V1_ListQualificationsRequest()
                        list.schoolCode = schools[1]
                        list.certificateCode = "AUTO"
                        return list
                    }(), token: registry.admin
                ).qualifications.first)
            var revoke = Xcert_Registry_V1_RevokeQualificationRequest()
            revoke.qualificationID = revokedApplication.id
            revoke.reason = "实训条件不达标"
            _ = try await registry.call(Xcert_Registry_V1_PilotService.Method.revokeQualification, revoke, token: registry.admin)
            var assign = Xcert_Registry_V1_AssignLeadSchoolsRequest()
            assign.certificateCode = "AUTO"
            assign.year = 2020
            assign.reason = "申报学校数未达到10所，由省教育厅指定学校负责（000 第五条）"
            assign.leads = self.leads([schools[0]], primary: [0])
            _ = try await registry.call(Xcert_Registry_V1_AllianceService.Method.assignLeadSchools, assign, token: registry.admin)

            var request = Xcert_Registry_V1_GetPilotSummaryTableRequest()
            request.year = 2020
            let table = try await registry.call(Xcert_Registry_V1_PilotService.Method.getPilotSummaryTable, request, token: registry.admin)
            #expect(table.lines.map(\.schoolCode) == schools.sorted() + ["4136010099"], "higher vocational first, by code")
            #expect(table.lines.map(\.number) == Array(1...13))
            #expect(table.schools == 13 && table.certificates == 3)
            let bimScale: Int64 = (10...21).reduce(0, +)
            #expect(table.studentScale == bimScale + 50 * 2 + 120, "AUTO of the second school revoked")
            let first = try #require(table.lines.first { $0.schoolCode == schools[0] })
            let auto = try #require(first.certificates.first)
            #expect(first.certificates.map(\.certificateCode) == ["AUTO", "BIM"] && auto.levels == [.elementary])
            #expect(first.specialtyCount == 1 && first.specialtyNames == ["专业1"] && first.studentScale == 50 + 10)
            #expect(first.schoolType == .higherVocational && first.remarks == "牵头院校：\(auto.certificateName)")
            let second = try #require(table.lines.first { $0.schoolCode == schools[1] })
            #expect(second.certificates.map(\.certificateCode) == ["BIM"])
            #expect(second.remarks == "已撤销：\(auto.certificateName)（实训条件不达标）")
            #expect(table.lines.last?.schoolType == .vocationalUndergraduate && table.lines.last?.remarks == "")

            // One reviewing unit's schools; a city reviewer only the secondary schools under its unit (none here); a bad year.
            request.reviewingUnitCode = "360400"
            #expect(
                try await registry.call(Xcert_Registry_V1_PilotService.Method.getPilotSummaryTable, request, token: registry.admin)
                    .lines.map(\.schoolCode) == schools.filter { $0.hasPrefix("413604") })
            request.reviewingUnitCode = ""
            let reviewer = try await registry.token(role: "city_reviewer", party: "360100")
            #expect(
                try await registry.call(Xcert_Registry_V1_PilotService.Method.getPilotSummaryTable, request, token: reviewer).lines.isEmpty)
            request.year = 1999
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.getPilotSummaryTable, request, token: registry.admin)?
                    .fieldViolations.map(\.field) == ["year"])
            let organization = try await registry.token(role: "organization", party: "1")
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.getPilotSummaryTable, request, token: organization)?.code
                    == .permissionDenied)

            // The analysts' view: the same lines.
            let viewed = try await withRole("xcert_analyst", on: registry.postgres) { connection in
                var rows: [String] = []
                for try await (number, school, type, certificates, count, scale, remarks) in try await connection.query(
                    """
                    SELECT number, school_code, school_type_name, certificates, specialty_count, student_scale, remarks
                    FROM analytics.pilot_summary WHERE year = 2020 ORDER BY number
                    """, logger: testLogger("pilot-summary")
                ).decode((Int32, String, String, String, Int32, Int64, String).self) {
                    rows.append("\(number) \(school) \(type) \(certificates) \(count) \(scale) \(remarks)")
                }
                return rows
            }
            #expect(
                viewed
                    == table.lines.map { line in
                        let certificates = line.certificates.map { certificate in
                            let levels = certificate.levels.compactMap { CertificateLevel(wire: $0)?.chineseName }
                            return "\(certificate.certificateName)（\(levels.joined(separator: "、"))）"
                        }
                        return """
                            \(line.number) \(line.schoolCode) \(SchoolType(wire: line.schoolType)?.chineseName ?? "") \
                            \(certificates.joined(separator: "；")) \(line.specialtyCount) \(line.studentScale) \(line.remarks)
                            """
                    })

            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let printed = try await runCommand(
                xctl,
                [
                    "report", "pilot-summary", "--year", "2020", "--format", "csv", "--chinese-headers", "--registry",
                    "127.0.0.1:\(registry.registry.port)", "--token", registry.admin,
                ])
            #expect(printed.status == 0, "\(printed.output)")
            #expect(printed.output.contains("序号,试点院校名称,学校类型,参与试点证书及等级,参与试点专业数量,参与试点专业名称,参与试点学生规模,备注"))
            #expect(printed.output.contains("13,"), "\(printed.output)")
            #expect(printed.output.contains("合计,13 所"), "\(printed.output)")
        }
    }

    private func leads(_ schools: [String], primary: Set<Int>) -> [Xcert_Registry_V1_LeadSchool] {
        schools.enumerated().map { index, school in
            var lead = Xcert_Registry_V1_LeadSchool()
            lead.schoolCode = school
            lead.primary = primary.contains(index)
            return lead
        }
    }
}
