import Foundation
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

@Suite(
    "Registry: reference data and CSV imports", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(3)))
struct ReferenceDataTests {
    @Test("schools: create, read, update with a version check, list with filters in pages; every bad field named")
    func schools() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            let created = try await registry.createSchool("4136010001", specialties: 3, name: "江西交通职业技术学院")
            #expect(created.version == 1)
            #expect(created.specialties.map(\.code) == ["S001", "S002", "S003"])
            try await registry.createSchool("4136070001", type: .secondaryVocational, city: "360700", name: "赣州市中等专业学校")
            try await registry.createSchool("4136070002", city: "360700", name: "赣州职业技术学院")

            var update = Xcert_Registry_V1_UpdateSchoolRequest()
            update.school = created
            update.school.enrolledStudents = 12_345
            update.school.honours = ["国家示范（骨干）院校"]
            update.expectedVersion = 1
            let updated = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.updateSchool, update, token: registry.admin)
            #expect(updated.version == 2)
            #expect(updated.enrolledStudents == 12_345)
            // A stale version is a conflict the caller resolves by reading again.
            #expect(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.updateSchool, update, token: registry.admin)?.code
                    == .aborted)

            var duplicate = Xcert_Registry_V1_CreateSchoolRequest()
            duplicate.school = created
            #expect(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.createSchool, duplicate, token: registry.admin)?.code
                    == .alreadyExists)

            var bad = Xcert_Registry_V1_CreateSchoolRequest()
            bad.school.code = "12345"
            bad.school.cityCode = "3601"
            bad.school.specialtyCount = 1
            bad.school.enrolledStudents = -5
            var specialty = Xcert_Registry_V1_Specialty()
            specialty.code = "S1"
            bad.school.specialties = [specialty, specialty]
            let invalid = try #require(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.createSchool, bad, token: registry.admin))
            #expect(invalid.code == .invalidArgument)
            #expect(
                Set(invalid.fieldViolations.map(\.field)) == [
                    "school.code", "school.name", "school.type", "school.city_code", "school.enrolled_students",
                    "school.specialties[0].code", "school.specialties[0].name", "school.specialties[1].code", "school.specialties[1].name",
                    "school.specialties",
                ])
            bad = Xcert_Registry_V1_CreateSchoolRequest()
            bad.school = created
            bad.school.code = "4136010009"
            bad.school.cityCode = "360900"
            #expect(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.createSchool, bad, token: registry.admin)?
                    .fieldViolations.map(\.description) == ["there is no city 360900; create it first"])

            var list = Xcert_Registry_V1_ListSchoolsRequest()
            list.cityCode = "360700"
            list.page.pageSize = 1
            let first = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.listSchools, list, token: registry.admin)
            #expect(first.schools.map(\.code) == ["4136070001"])
            list.page.pageToken = first.page.nextPageToken
            let second = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.listSchools, list, token: registry.admin)
            #expect(second.schools.map(\.code) == ["4136070002"])
            #expect(second.page.nextPageToken.isEmpty)
            list = Xcert_Registry_V1_ListSchoolsRequest()
            list.type = .secondaryVocational
            #expect(
                try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.listSchools, list, token: registry.admin).schools.map(
                    \.code) == ["4136070001"])
            list = Xcert_Registry_V1_ListSchoolsRequest()
            list.nameContains = "交通"
            #expect(
                try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.listSchools, list, token: registry.admin).schools.map(
                    \.code) == ["4136010001"])
        }
    }

    @Test("nothing is deleted that anything refers to: a specialty or a level an application uses stays")
    func referencedSpecialtyStays() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            let school = try await registry.createSchool("4136010002", specialties: 3)
            registry.filing.approve("BIM", year: 2020)
            _ = try await registry.apply("4136010002", "BIM", specialties: ["S002"])
            var update = Xcert_Registry_V1_UpdateSchoolRequest()
            update.school = school
            update.school.specialties = [school.specialties[0]]
            let refused = try #require(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.updateSchool, update, token: registry.admin))
            #expect(refused.code == .failedPrecondition)
            #expect(refused.message.contains("S002"), "\(refused.message)")
            update.school.specialties = [school.specialties[1]]
            #expect(
                try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.updateSchool, update, token: registry.admin)
                    .specialties.map(\.code) == ["S002"])
            // Likewise a level the application uses.
            var get = Xcert_Registry_V1_GetCertificateRequest()
            get.code = "BIM"
            var certificate = Xcert_Registry_V1_UpdateCertificateRequest()
            certificate.certificate = try await registry.call(
                Xcert_Registry_V1_ReferenceDataService.Method.getCertificate, get, token: registry.admin)
            certificate.certificate.levels = [.intermediate, .advanced]
            let level = try #require(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.updateCertificate, certificate, token: registry.admin))
            #expect(level.code == .failedPrecondition)
            #expect(level.message.contains("初级"), "\(level.message)")
            certificate.certificate.levels = [.elementary, .intermediate]
            #expect(
                try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.updateCertificate, certificate, token: registry.admin)
                    .version == 2)
        }
    }

    @Test(
        """
        the seeds' files import through xctl: 11 cities, 5 organizations, 6 + 40 certificates (老年照护 in both), and importing again changes \
        nothing, not even an organization recorded since
        """
    )
    func seedFiles() async throws {
        try await withRegistry { registry in
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let address = ["--registry", "127.0.0.1:\(registry.registry.port)", "--token", registry.admin]
            let data = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("data/reference").path
            let province = try await runCommand(xctl, ["registry", "province", "set", "--code", "36", "--name", "江西省"] + address)
            try #require(province.status == 0, "\(province.output)")
            let steps: [(String, String, String)] = [
                ("cities", "cities-jiangxi.csv", "11 created, 0 updated, 0 unchanged"),
                ("organizations", "organizations-first-batch.csv", "5 created, 0 updated, 0 unchanged"),
                ("certificates", "certificates-first-batch.csv", "6 created, 0 updated, 0 unchanged"),
                ("certificates", "certificates-jiangxi-2020-small.csv", "39 created, 0 updated, 1 unchanged"),
                ("certificates", "certificates-jiangxi-2020-small.csv", "0 created, 0 updated, 40 unchanged"),
            ]
            for (kind, file, counts) in steps {
                let result = try await runCommand(xctl, ["registry", "import", kind, "\(data)/\(file)"] + address)
                #expect(result.status == 0, "\(result.output)")
                #expect(result.output.contains(counts), "\(file): \(result.output)")
            }
            #expect(try await registry.scalar("SELECT count(*) FROM registry.certificates", as: Int.self) == 45)
            #expect(try await registry.scalar("SELECT count(*) FROM registry.organization_contacts", as: Int.self) == 10)
            var get = Xcert_Registry_V1_GetCertificateRequest()
            get.code = "ELDERLY-CARE"
            let care = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.getCertificate, get, token: registry.admin)
            #expect(care.name == "老年照护")
            #expect(care.batch == 1)
            #expect(care.organizationName == "北京中福长者文化科技有限公司")
            #expect(care.scoring.passMark == 60)
            let list = try await runCommand(xctl, ["registry", "certificate", "list", "--batch", "1", "--format", "csv"] + address)
            #expect(list.output.split(separator: "\r\n").count == 7, "a header and six first-batch certificates: \(list.output)")

            // The small certificates' list names no organization: one the province has
            // recorded since stays when the list is imported again.
            get.code = "5G-BASE-STATION"
            var update = Xcert_Registry_V1_UpdateCertificateRequest()
            update.certificate = try await registry.call(
                Xcert_Registry_V1_ReferenceDataService.Method.getCertificate, get, token: registry.admin)
            update.certificate.organizationID = care.organizationID
            _ = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.updateCertificate, update, token: registry.admin)
            let again = try await runCommand(
                xctl, ["registry", "import", "certificates", "\(data)/certificates-jiangxi-2020-small.csv"] + address)
            #expect(again.output.contains("0 created, 0 updated, 40 unchanged"), "\(again.output)")
            let kept = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.getCertificate, get, token: registry.admin)
            #expect(kept.organizationID == care.organizationID, "the organization recorded through the API is kept")
        }
    }

    @Test("a CSV file with any bad row imports nothing; each problem is reported by line, column and reason")
    func csvErrors() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            let csv = """
                学校标识码,学校名称,学校类型,所在城市,专业数,在校生数,专业
                4136010001,南昌职业大学,高职,南昌市,20,8000,"510201 计算机应用技术;530701 电子商务"
                41360100XX,坏代码学校,高职,360100,20,8000,
                4136010003,无城市学校,高职,上饶市,20,8000,
                4136010001,重复学校,高职,360100,20,8000,
                4136010005,九江学校,大学,九江,二十,8000,

                """
            let error = try #require(await self.importRefusal(registry, .schools, Data(csv.utf8)))
            #expect(error.code == .invalidArgument)
            let problems = Dictionary(error.fieldViolations.map { ($0.field, $0.description) }, uniquingKeysWith: { $0 + " | " + $1 })
            #expect(problems["line 3, column 1 (学校标识码 / code)"]?.contains("10-digit") == true, "\(problems)")
            #expect(problems["line 4, column 4 (所在城市 / city)"]?.contains("no city \"上饶市\"") == true, "\(problems)")
            #expect(problems["line 5, column 1 (学校标识码 / code)"] == "4136010001 is already on line 2", "\(problems)")
            #expect(problems["line 6, column 3 (学校类型 / type)"] != nil, "\(problems)")
            #expect(problems["line 6, column 5 (专业数 / specialty_count)"] == "must be a whole number, not \"二十\"", "\(problems)")
            #expect(problems["line 6, column 4 (所在城市 / city)"] == nil, "九江 is 九江市: \(problems)")
            #expect(try await registry.scalar("SELECT count(*) FROM registry.schools", as: Int.self) == 0, "nothing imported")

            // Quoted cells with line breaks: the record spans lines 2 to 4, the next begins on line 5.
            let multiline = "name,contacts,mobiles\n\"好组织\",\"张三\n李四\",\"13800000000\n13900000000\"\n,王五,1\n"
            let shifted = try #require(await self.importRefusal(registry, .organizations, Data(multiline.utf8)))
            #expect(shifted.fieldViolations.map(\.field) == ["line 5, column 1 (名称 / name)"], "\(shifted.fieldViolations)")

            // GBK, as Excel saves by default: refused with the line, nothing imported.
            var gbk = Data("代码,名称\n".utf8)
            gbk.append(contentsOf: [0x33, 0x36, 0x30, 0x31, 0x30, 0x30, 0x2C, 0xC4, 0xCF, 0xB2, 0xFD, 0x0A])  // 360100,南昌 in GBK
            let encoding = try #require(await self.importRefusal(registry, .cities, gbk))
            #expect(encoding.fieldViolations.map(\.field) == ["csv"])
            #expect(encoding.fieldViolations.first?.description.contains("not UTF-8") == true)
            #expect(encoding.fieldViolations.first?.description.contains("line 2") == true, "\(encoding.fieldViolations)")

            let header = try #require(await self.importRefusal(registry, .cities, Data("code,名称,人口\n360200,景德镇市,1\n".utf8)))
            #expect(header.fieldViolations.map(\.field) == ["line 1, column 3 (人口)"])
            let missing = try #require(await self.importRefusal(registry, .cities, Data("名称\n景德镇市\n".utf8)))
            #expect(missing.fieldViolations.map(\.description) == ["lacks the column 代码 / code"])
            #expect(try await registry.scalar("SELECT count(*) FROM registry.cities", as: Int.self) == 3)
        }
    }

    @Test("a BOM and English headers are read; a dry run counts and changes nothing; a changed row updates")
    func csvBOMAndDryRun() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            var file = Data([0xEF, 0xBB, 0xBF])
            file.append(
                Data(
                    """
                    Code,Name,Type,City,Specialty_Count,Enrolled_Students,Specialties,Honours\r\n\
                    4136010001,南昌职业大学,higher_vocational,360100,20,8000,510201 计算机应用技术；530701 电子商务,国家示范（骨干）院校\r\n
                    """
                    .utf8))
            var request = Xcert_Registry_V1_ImportRequest()
            request.kind = .schools
            request.csv = file
            request.dryRun = true
            let dry = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.import, request, token: registry.admin)
            #expect(dry.created == 1)
            #expect(try await registry.scalar("SELECT count(*) FROM registry.schools", as: Int.self) == 0)
            request.dryRun = false
            #expect(
                try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.import, request, token: registry.admin).created == 1)
            var get = Xcert_Registry_V1_GetSchoolRequest()
            get.code = "4136010001"
            let school = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.getSchool, get, token: registry.admin)
            #expect(school.specialties.map(\.name) == ["计算机应用技术", "电子商务"])
            #expect(school.honours == ["国家示范（骨干）院校"])
            request.csv = Data("code,name,type,city,specialty_count,enrolled_students\n4136010001,南昌职业大学,高职,南昌市,21,8000\n".utf8)
            let again = try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.import, request, token: registry.admin)
            #expect((again.created, again.updated, again.unchanged) == (0, 1, 0))
            // Only the province imports.
            let school2 = try await registry.token(role: "school", party: "4136010001")
            #expect(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.import, request, token: school2)?.code
                    == .permissionDenied)
        }
    }

    @Test("organizations and certificates: the scoring rule is checked and kept; an unknown organization is named")
    func certificates() async throws {
        try await withRegistry { registry in
            let seeded = try await registry.seedReference()
            var request = Xcert_Registry_V1_CreateCertificateRequest()
            request.certificate.code = "WEB-FRONT-END"
            request.certificate.name = "Web前端开发"
            request.certificate.batch = 1
            request.certificate.levels = [.elementary, .intermediate]
            request.certificate.organizationID = 999
            var theory = Xcert_Registry_V1_ScoringComponent()
            theory.name = "理论"
            theory.weightPercent = 30
            var practice = Xcert_Registry_V1_ScoringComponent()
            practice.name = "实操"
            practice.weightPercent = 60
            request.certificate.scoring.components = [theory, practice]
            request.certificate.scoring.passMark = 80
            let wrongWeights = try #require(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.createCertificate, request, token: registry.admin))
            #expect(wrongWeights.fieldViolations.map(\.description) == ["weights must add up to 100 %, not 90 %"])
            request.certificate.scoring.components[0].weightPercent = 40
            let unknown = try #require(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.createCertificate, request, token: registry.admin))
            #expect(unknown.fieldViolations.map(\.field) == ["certificate.organization_id"])
            request.certificate.organizationID = seeded.bimOrganization
            let created = try await registry.call(
                Xcert_Registry_V1_ReferenceDataService.Method.createCertificate, request, token: registry.admin)
            #expect(created.scoring.passMark == 80)
            #expect(created.scoring.components.map(\.weightPercent) == [40, 60])
            #expect(created.organizationName == "廊坊市中科建筑产业化创新研究中心")

            var list = Xcert_Registry_V1_ListCertificatesRequest()
            list.organizationID = seeded.carOrganization
            #expect(
                try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.listCertificates, list, token: registry.admin)
                    .certificates.map(\.code) == ["AUTO", "NEV"])

            var organization = Xcert_Registry_V1_UpdateOrganizationRequest()
            organization.organization.id = seeded.carOrganization
            organization.organization.name = "廊坊市中科建筑产业化创新研究中心"
            #expect(
                await registry.refusal(
                    Xcert_Registry_V1_ReferenceDataService.Method.updateOrganization, organization, token: registry.admin)?.code
                    == .alreadyExists)
            var contact = Xcert_Registry_V1_Contact()
            contact.name = "张辉"
            contact.email = "not-an-email"
            organization.organization.name = "北京中车行高新技术有限公司"
            organization.organization.contacts = [contact]
            #expect(
                await registry.refusal(
                    Xcert_Registry_V1_ReferenceDataService.Method.updateOrganization, organization, token: registry.admin)?.fieldViolations
                    .map(\.field) == ["organization.contacts[0].email"])
        }
    }

    private func importRefusal(_ registry: RegistryHarness, _ kind: Xcert_Registry_V1_ImportKind, _ csv: Data) async -> RPCError? {
        var request = Xcert_Registry_V1_ImportRequest()
        request.kind = kind
        request.csv = csv
        return await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.import, request, token: registry.admin)
    }
}
