import Foundation
import Testing
import XCertTestSupport

@Suite(
    "xctl: rosters from CSV and yearly reports", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(3)))
struct XctlRosterTests {
    @Test(
        """
        a roster CSV with Chinese headers: a bad line named by its line number, the fixed file uploaded, resumed without doubling, sealed; \
        a yearly report from JSON
        """
    )
    func endToEnd() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let filing = "127.0.0.1:\(try #require(h.filingAddress).port)"
            @discardableResult
            func run(_ arguments: [String], token: String, status: Int32 = 0) async throws -> String {
                let result = try await runCommand(xctl, ["filing"] + arguments + ["--filing", filing, "--token", token])
                #expect(result.status == status, "xctl filing \(arguments.joined(separator: " ")): \(result.output)")
                return result.output
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xctl-roster-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            func csv(_ name: String, _ lines: [String]) throws -> String {
                let file = directory.appendingPathComponent(name)
                try Data(("\u{FEFF}准考证号,姓名,身份证号,院校代码,专业,报名状态,是否参考,成绩,是否通过\n" + lines.joined(separator: "\n") + "\n").utf8).write(to: file)
                return file.path
            }
            let people = (0..<5).map(Candidates.nationalID)
            let good = [
                "A001,张一,\(people[0]),4136010001,S001,获批,是,80;70,是",
                "A002,张二,\(people[1]),4136010003,S001,获批,是,70;53.3,否",
                "A003,张三,\(people[2]),4136010001,S001,获批,否,,否",
                "A004,张四,\(people[3]),4136010003,S001,申报,否,,否",
                "A005,张五,\(people[4]),4136010001,S001,获批,是,100;100,是",
            ]

            let created = try await run(
                ["roster", "create", "--certificate", "AUTO", "--level", "初级", "--site", "4136010001", "--date", "2026-06-15"],
                token: world.car)
            let id = try #require(created.split(separator: " ").dropFirst().first.map(String.init))
            #expect(created.contains("(version 1): uploading"), "\(created)")

            var bad = good
            bad[1] = "A002,张二,\(people[1]),4136010002,S001,获批,是,70;53.3,否"
            let refused = try await run(
                ["roster", "upload", id, try csv("bad.csv", bad), "--chunk-size", "2"], token: world.car, status: 1)
            #expect(
                refused.contains("INVALID_ARGUMENT") && refused.contains("line 3 (rows[1]).school_code")
                    && refused.contains("holds no pilot qualification"), "\(refused)")
            let unreadable = try await run(
                ["roster", "upload", id, try csv("typo.csv", [good[0].replacingOccurrences(of: "80;70", with: "80;7x")])], token: world.car,
                status: 1)
            #expect(unreadable.contains("line 2, column scores"), "\(unreadable)")

            let file = try csv("good.csv", good)
            let uploaded = try await run(["roster", "upload", id, file, "--chunk-size", "2"], token: world.car)
            #expect(uploaded.contains("roster \(id): 5 candidates in 3 chunks"), "\(uploaded)")
            let resumed = try await run(["roster", "upload", id, file, "--chunk-size", "2", "--seal"], token: world.car)
            #expect(
                resumed.contains("chunk 0: 2 candidates (already uploaded)") && resumed.contains("roster \(id): 5 candidates")
                    && resumed.contains("sealed"), "\(resumed)")

            let listed = try await run(["roster", "list", "--format", "csv"], token: h.admin)
            #expect(listed.contains("\(id),AUTO,初级,4136010001,2026-06-15,1,sealed,5,"), "\(listed)")
            let school = try await h.token(role: "school", party: "4136010003")
            let own = try await run(["roster", "candidates", id, "--format", "csv"], token: school)
            #expect(own.contains("A002,张二,\(people[1].suffix(4)),4136010003,S001,获批,是,70.0;53.3,59.9,否"), "\(own)")
            #expect(!own.contains("A001") && !own.contains(people[1]), "a school sees its own candidates, and no full national ID: \(own)")
            #expect(try await run(["roster", "changes"], token: h.admin).contains("\"declared\" : \"3\""))
            let correction = try await run(
                [
                    "roster", "create", "--certificate", "AUTO", "--level", "初级", "--site", "4136010001", "--date", "2026-06-15",
                    "--supersedes", id,
                ], token: world.car, status: 1)
            #expect(correction.contains("correction_reason"), "\(correction)")

            // A yearly report from JSON, refused for a figure, then accepted.
            let report = directory.appendingPathComponent("report.json")
            func write(passed: Int) throws {
                try Data(
                    """
                    {"exams": [{"certificate_code": "AUTO", "level": "CERTIFICATE_LEVEL_ELEMENTARY",
                                "national": {"declared": 100, "approved": 90, "completed": 80, "passed": 70},
                                "province": {"declared": 5, "approved": 4, "completed": 3, "passed": \(passed)}}],
                     "fees": [{"certificate_code": "AUTO", "level": "CERTIFICATE_LEVEL_ELEMENTARY", "completed": 3,
                               "receivable": {"fen": 90000}, "received": {"fen": 60000}, "outstanding": {"fen": 30000}}]}
                    """.utf8
                ).write(to: report)
            }
            try write(passed: 4)
            let overPassed = try await run(["report", "submit", "--year", "2026", "--json", report.path], token: world.car, status: 1)
            #expect(overPassed.contains("content.exams[0].province.passed"), "\(overPassed)")
            try write(passed: 2)
            let submitted = try await run(["report", "submit", "--year", "2026", "--json", report.path], token: world.car)
            #expect(submitted.contains("REPORT_STATE_SUBMITTED") && submitted.contains("\"denominator\" : \"3\""), "\(submitted)")
            let reportLine = try #require(
                submitted.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\"id\"") })
            let reportID = String(String(reportLine).filter(\.isNumber))
            #expect(try await run(["report", "review", reportID, "--return", "--reason", "缺少师资培训"], token: h.admin).contains("returned"))
            #expect(
                try await run(["report", "list", "--all-versions", "--format", "csv"], token: world.car).contains(
                    "\(reportID),\(world.carOrganization),2026,1,returned,5,4,3,2,"))
        }
    }
}
