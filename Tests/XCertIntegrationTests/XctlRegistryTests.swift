import Foundation
import Testing
import XCertDomain
import XCertTestSupport

@Suite(
    "xctl: the registry's named subcommands", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(3)))
struct XctlRegistryTests {
    @Test(
        """
        reference data, a pilot application through review and revocation, sites, coverage, monitoring points and alliances, all through \
        xctl
        """
    )
    func endToEnd() async throws {
        try await withRegistry { registry in
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let address = ["--registry", "127.0.0.1:\(registry.registry.port)", "--token", registry.admin]
            /// Runs xctl; returns its output, recording an issue unless it exits with `status`.
            @discardableResult
            func run(_ arguments: [String], status: Int32 = 0) async throws -> String {
                let result = try await runCommand(xctl, arguments + address)
                #expect(result.status == status, "xctl \(arguments.joined(separator: " ")): \(result.output)")
                return result.output
            }

            try await run(["registry", "province", "set", "--code", "36", "--name", "江西省"])
            try await run(["registry", "city", "create", "--code", "360100", "--name", "南昌市"])
            try await run(["registry", "city", "create", "--code", "360700", "--name", "赣州市"])
            let organization = try await run([
                "registry", "organization", "create", "--name", "北京中车行高新技术有限公司", "--contact",
                "陈学峰;010-65526685;13051681116;1681116@163.com",
            ])
            let idLine = try #require(organization.split(separator: "\n").first { $0.contains("\"id\"") })
            let organizationID = String(String(idLine).filter(\.isNumber))
            let certificate = try await run([
                "registry", "certificate", "create", "--code", "AUTO", "--name", "汽车运用与维修", "--batch", "1",
                "--level", "初级", "--level", "中级", "--organization", organizationID,
                "--component", "理论:30", "--component", "实操:70", "--pass-mark", "80",
            ])
            #expect(certificate.contains("\"pass_mark\" : 80"), "\(certificate)")
            try await run([
                "registry", "school", "create", "--code", "4136010001", "--name", "江西交通职业技术学院", "--type", "高职", "--city", "360100",
                "--specialty-count", "10", "--enrolled-students", "1000", "--specialty", "500211 汽车检测与维修技术",
            ])
            try await run([
                "registry", "school", "create", "--code", "4136070001", "--name", "赣州中专", "--type", "中职", "--city", "360700",
                "--specialty-count", "10", "--enrolled-students", "1000", "--specialty", "700206 汽车运用与维修",
            ])
            let bad = try await run(
                [
                    "registry", "school", "create", "--code", "123", "--name", "x", "--type", "高职", "--city", "360100", "--specialty-count",
                    "1", "--enrolled-students", "1",
                ], status: 1)
            #expect(bad.contains("INVALID_ARGUMENT") && bad.contains("school.code"), "\(bad)")
            #expect(
                try await run(["registry", "school", "list", "--city", "360700", "--format", "csv"]).contains("4136070001,赣州中专,中职,360700"))

            // The province's oversight: an irregularity, a suspension (refused for tomorrow), a reinstatement, the history.
            try await run([
                "registry", "organization", "irregularity", organizationID, "--kind", "agents", "--description", "委托代理机构招生", "--year",
                "2020",
            ])
            let tomorrow = LocalDate(containing: Int64(Date().timeIntervalSince1970) + 86_400).description
            let early = try await run(
                ["registry", "organization", "suspend", organizationID, "--reason", "限期整改", "--effective-on", tomorrow], status: 1)
            #expect(early.contains("INVALID_ARGUMENT") && early.contains("effective_on"), "\(early)")
            #expect(
                try await run(["registry", "organization", "suspend", organizationID, "--reason", "限期整改"]).contains(
                    "is suspended (暂停) from"))
            #expect(
                try await run(["registry", "organization", "list", "--format", "csv"]).contains("\(organizationID),北京中车行高新技术有限公司,suspended")
            )
            try await run(["registry", "organization", "reinstate", organizationID, "--reason", "整改完成"])
            let oversight = try await run(["registry", "organization", "oversight", organizationID, "--format", "csv"])
            #expect(
                oversight.contains(": active (正常)") && oversight.contains("active → suspended") && oversight.contains("suspended → active")
                    && oversight.contains("委托代理机构招生"), "\(oversight)")

            registry.filing.approve("AUTO", year: 2020)
            let plan = FileManager.default.temporaryDirectory.appendingPathComponent("实施方案-\(UUID().uuidString).pdf")
            try Data("江西交通职业技术学院 汽车运用与维修 试点实施方案".utf8).write(to: plan)
            defer { try? FileManager.default.removeItem(at: plan) }
            let teams = try await run(["pilot", "teams", "set", "--school", "4136010001", "--team", "500211:12:7:3:5", "--format", "csv"])
            #expect(teams.contains("500211,12,7,3,5,yes,"), "\(teams)")
            try await run(["pilot", "teams", "set", "--school", "4136070001", "--team", "700206:10:5:2:3"])
            #expect(try await run(["pilot", "teams", "list", "--school", "4136070001", "--format", "csv"]).contains("700206,10,5,2,3,yes"))
            // Applications only inside a window; the working-day calendar moves the day its reviews are due.
            let refusedEarly = try await run(
                [
                    "pilot", "apply", "--school", "4136010001", "--certificate", "AUTO", "--year", "2020", "--level", "初级", "--specialty",
                    "500211", "--scale", "30", "--work-plan", plan.path,
                ], status: 1)
            #expect(refusedEarly.contains("no application window for 2020"), "\(refusedEarly)")
            let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
            let window = try await run([
                "pilot", "window", "set", "--year", "2020", "--number", "1", "--opens", today.adding(days: -1).description, "--closes",
                today.adding(days: 30).description,
            ])
            #expect(window.contains("application window 1 of 2020") && window.contains("(open now)"), "\(window)")
            #expect(try await run(["pilot", "window", "list", "--year", "2020", "--format", "csv"]).contains("2020,1,"))
            let holiday = today.adding(days: 31 + (8 - today.adding(days: 31).weekday) % 7)
            #expect(try await run(["registry", "calendar", "set", "--holiday", "\(holiday):测试假日"]).contains("1 of 1 days changed"))
            #expect(
                try await run(["registry", "calendar", "list", "--year", "\(holiday.year)", "--format", "csv"]).contains(
                    "\(holiday),休,测试假日"))
            let applied = try await run([
                "pilot", "apply", "--school", "4136010001", "--certificate", "AUTO", "--year", "2020", "--level", "初级,中级", "--specialty",
                "500211", "--scale", "300", "--work-plan", plan.path,
            ])
            #expect(applied.contains("awaiting_province_review"), "\(applied)")
            let over = try await run(
                [
                    "pilot", "apply", "--school", "4136070001", "--certificate", "AUTO", "--year", "2020", "--level", "初级", "--specialty",
                    "700206", "--scale", "301", "--work-plan", plan.path,
                ], status: 1)
            #expect(over.contains("FAILED_PRECONDITION") && over.contains("at most 300"), "\(over)")
            let applicationID = try #require(applied.split(separator: " ").dropFirst().first.map { String($0.dropLast()) })
            let approved = try await run(["pilot", "review", applicationID, "--approve"])
            #expect(approved.contains("approved, qualification"), "\(approved)")
            let qualificationID = try #require(
                approved.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            #expect(
                try await run(["pilot", "list", "--state", "approved", "--format", "csv"]).contains(
                    "4136010001,360100,AUTO,2020,初级、中级,300,approved"))
            #expect(try await run(["pilot", "qualifications", "--certificate", "AUTO"]).contains("4136010001"))
            #expect(try await run(["pilot", "qualification", qualificationID]).contains("\"school_code\" : \"4136010001\""))
            #expect(try await run(["pilot", "show", applicationID]).contains("REVIEW_STEP_PROVINCE"))
            #expect(try await run(["registry", "city", "show", "360700"]).contains("赣州市"))

            try await run([
                "sites", "register", "--school", "4136010001", "--certificate", "AUTO", "--level", "初级", "--capacity", "40",
                "--year-opened", "2020",
            ])
            #expect(
                try await run(["sites", "list", "--certificate", "AUTO", "--format", "csv"]).contains("AUTO,4136010001,江西交通职业技术学院,360100"))
            let coverage = try await run(["sites", "coverage", "--year", "2020", "--format", "csv"])
            #expect(coverage.split(separator: "\r\n").count == 1, "every city with qualified schools has a site: \(coverage)")
            let monitoring = try await run(["sites", "select-monitoring", "AUTO", "--year", "2020"])
            #expect(
                monitoring.contains("shortfall: 1 monitoring points of the target 10: only 1 schools hold a pilot qualification"),
                "\(monitoring)")
            #expect(try await run(["sites", "monitoring", "AUTO", "--year", "2020"]).contains("4136010001"))
            // An inspection there, an item not fulfilled and its follow-up; the report counts it.
            let noFollowUp = try await run(
                [
                    "sites", "inspect", "AUTO", "--year", "2020", "--school", "4136010001", "--on", "2020-11-20", "--inspector", "王敏",
                    "--finding", "收费标准执行:yes:按标准收费", "--finding", "培训资源提供:no:未提供资源包",
                ], status: 1)
            #expect(noFollowUp.contains("inspection.follow_up"), "\(noFollowUp)")
            let inspected = try await run([
                "sites", "inspect", "AUTO", "--year", "2020", "--school", "4136010001", "--on", "2020-11-20", "--inspector", "王敏",
                "--finding", "收费标准执行:yes:按标准收费", "--finding", "培训资源提供:no:未提供资源包", "--follow-up", "30日内补齐",
            ])
            #expect(inspected.contains("培训资源提供: 未提供资源包") && inspected.contains("30日内补齐"), "\(inspected)")
            #expect(
                try await run(["sites", "inspections", "--year", "2020", "--unresolved-only", "--format", "csv"]).contains(",4136010001,"))
            try await run(["sites", "follow-up", "1", "--on", "2020-12-10", "--note", "已补齐资源包", "--resolved"])
            let report = try await run(["report", "inspections", "--year", "2020", "--format", "csv"])
            #expect(report.contains("北京中车行高新技术有限公司,1,1,1,2,1,0"), "\(report)")
            #expect(try await run(["alliance", "list", "--year", "2020"]).contains("not open (fewer than 10 applied)"))
            let closed = try await run(
                ["alliance", "selection", "open", "AUTO", "--year", "2020", "--applications-close", "2020-06-30"], status: 1)
            #expect(closed.contains("has 1 applying schools (申报学校数)"), "\(closed)")
            // Too small for a selection: the province assigns the lead itself, and it cannot be removed without a successor.
            let assigned = try await run([
                "alliance", "selection", "assign", "AUTO", "--year", "2020", "--primary", "4136010001", "--reason", "申报学校不足10所，由省教育厅指定",
            ])
            #expect(assigned.contains("leads: 4136010001 江西交通职业技术学院 (primary)") && assigned.contains("assigned +4136010001"), "\(assigned)")
            let orphaned = try await run(
                ["alliance", "selection", "adjust", "AUTO", "--year", "2020", "--remove", "4136010001", "--reason", "调整"], status: 1)
            #expect(orphaned.contains("FAILED_PRECONDITION") && orphaned.contains("name at least one lead school"), "\(orphaned)")

            try await run([
                "registry", "school", "record-irregularity", "4136010001", "--kind", "funds_misused", "--description", "经费使用不当", "--year",
                "2020",
            ])
            let revoked = try await run(["pilot", "revoke", qualificationID, "--reason", "资金使用不当（004 第22条）"])
            #expect(revoked.contains("revoked qualification \(qualificationID)"), "\(revoked)")
            let changes = try await run(["pilot", "changes", "--format", "csv"])
            #expect(
                changes.contains(",created,\(qualificationID),4136010001,AUTO,2020,") && changes.contains(",revoked,\(qualificationID),"),
                "\(changes)")
            #expect(changes.contains("next cursor: 2"), "\(changes)")
        }
    }
}
