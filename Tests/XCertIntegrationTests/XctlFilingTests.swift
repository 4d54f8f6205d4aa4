import Foundation
import Testing
import XCertAPI
import XCertTestSupport
import XCertWire

@Suite(
    "xctl: the filing subcommands", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(3)))
struct XctlFilingTests {
    @Test(
        """
        a round, a filing from flags with an attachment's digest, a refusal naming its field, lists, review, the approved list and feed, \
        and xctl call, all through xctl
        """
    )
    func endToEnd() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let filingPort = try #require(h.filingAddress).port
            let filing = "127.0.0.1:\(filingPort)"
            /// Runs `xctl filing …` as `token`; returns its output, recording an issue unless it exits with `status`.
            @discardableResult
            func run(_ arguments: [String], token: String, status: Int32 = 0) async throws -> String {
                let result = try await runCommand(xctl, ["filing"] + arguments + ["--filing", filing, "--token", token])
                #expect(result.status == status, "xctl filing \(arguments.joined(separator: " ")): \(result.output)")
                return result.output
            }

            let opened = try await run(["round", "open", "--year", "2020", "--number", "1", "--closes", "2099-12-31"], token: h.admin)
            #expect(opened.contains("opened round 1 of 2020: open until 2099-12-31 23:59:59 +08:00"), "\(opened)")
            let badDate = try await run(
                ["round", "open", "--year", "2020", "--number", "2", "--closes", "2021-02-29"], token: h.admin, status: 64)
            #expect(badDate.contains("--closes"), "refused before calling: \(badDate)")
            let notAdmin = try await run(
                ["round", "open", "--year", "2020", "--number", "2", "--closes", "2099-12-31"], token: car, status: 1)
            #expect(notAdmin.contains("PERMISSION_DENIED"), "\(notAdmin)")
            try await run(["round", "open", "--year", "2020", "--number", "2", "--closes", "2099-12-31"], token: h.admin)
            try await run(["round", "close", "--year", "2020", "--number", "2"], token: h.admin)
            let rounds = try await run(["round", "list", "--year", "2020", "--format", "csv"], token: car)
            #expect(rounds.contains("2020,1,2099-12-31,2099-12-31 23:59:59 +08:00,yes,\r\n"), "\(rounds)")
            #expect(rounds.contains("2020,2,2099-12-31,2099-12-31 23:59:59 +08:00,no,20"), "\(rounds)")

            // "abc": its SHA-256 is FIPS 180-2's first example.
            let attachment = FileManager.default.temporaryDirectory.appendingPathComponent("试点工作方案-\(UUID().uuidString).txt")
            try Data("abc".utf8).write(to: attachment)
            defer { try? FileManager.default.removeItem(at: attachment) }
            let plan = [
                "--school-level", "高职", "--school-level", "secondary", "--specialty", "汽车检测与维修技术",
                "--site-arrangement", "每市一个考核站点", "--teacher-requirements", "双师型教师不少于3名",
                "--teaching-conditions", "实训车间", "--exam-arrangement", "理论机考，实操现场评分",
                "--fee", "初级:38000:场地与考评员成本", "--fee", "中级:48000:同上", "--fee", "advanced:58000:耗材: 另计",
            ]
            let submitted = try await run(
                [
                    "submit", "--certificate", "AUTO", "--year", "2020", "--round", "1", "--attachment", attachment.path,
                    "--idempotency-key", "auto-1",
                ] + plan, token: car
            )
            #expect(submitted.contains("\"sha256\" : \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""), "\(submitted)")
            #expect(
                submitted.contains("\"size_bytes\" : \"3\"") && submitted.contains("\"name\" : \"\(attachment.lastPathComponent)\""),
                "\(submitted)")
            #expect(submitted.contains("\"cost_basis\" : \"耗材: 另计\"") && submitted.contains("FILING_STATE_SUBMITTED"), "\(submitted)")
            let idLine = try #require(
                submitted.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\"id\"") })
            let id = String(String(idLine).filter(\.isNumber))
            #expect(!id.isEmpty)

            // An element missing: the integrator sees the code and the field to fix.
            let missing = try await run(
                ["submit", "--certificate", "NEV", "--year", "2020", "--round", "1"] + plan.dropLast(8), token: car, status: 1)
            #expect(
                missing.contains("INVALID_ARGUMENT") && missing.contains("plan.exam_arrangement") && missing.contains("plan.fees"),
                "\(missing)")
            let badFee = try await run(
                [
                    "submit", "--certificate", "NEV", "--year", "2020", "--round", "1", "--fee", "初级:0:x", "--fee", "中级:1:y", "--fee",
                    "高级:1:z",
                ] + plan.dropLast(6), token: car, status: 1)
            #expect(badFee.contains("plan.fees[0].fee.fen"), "\(badFee)")
            let closedRound = try await run(
                ["submit", "--certificate", "NEV", "--year", "2020", "--round", "2"] + plan, token: car, status: 1)
            #expect(closedRound.contains("FAILED_PRECONDITION") && closedRound.contains("closed early"), "\(closedRound)")

            // The same plan as JSON (proto field names).
            let json = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).json")
            try Data(
                """
                {"school_levels": ["SCHOOL_LEVEL_UNDERGRADUATE"], "specialty_scope": ["新能源汽车技术"], "site_arrangement": "省内统一",
                 "teacher_requirements": "持证考评员", "teaching_conditions": "实训室", "exam_arrangement": "机考",
                 "fees": [{"level": "CERTIFICATE_LEVEL_ELEMENTARY", "fee": {"fen": "30000"}, "cost_basis": "测算"},
                          {"level": "CERTIFICATE_LEVEL_INTERMEDIATE", "fee": {"fen": "40000"}, "cost_basis": "测算"},
                          {"level": "CERTIFICATE_LEVEL_ADVANCED", "fee": {"fen": "50000"}, "cost_basis": "测算"}]}
                """.utf8
            ).write(to: json)
            defer { try? FileManager.default.removeItem(at: json) }
            let fromJSON = try await run(
                ["submit", "--certificate", "NEV", "--year", "2020", "--round", "1", "--json", json.path], token: car)
            #expect(fromJSON.contains("SCHOOL_LEVEL_UNDERGRADUATE") && fromJSON.contains("\"certificate_code\" : \"NEV\""), "\(fromJSON)")
            let nevLine = try #require(
                fromJSON.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\"id\"") })
            let nevID = String(String(nevLine).filter(\.isNumber))

            let listed = try await run(["list", "--format", "csv"], token: h.admin)
            #expect(
                listed.contains("\(id),\(seeded.carOrganization),AUTO,2020,1,1,submitted,初级 380.00; 中级 480.00; 高级 580.00,"), "\(listed)")
            #expect(listed.contains("\(nevID),\(seeded.carOrganization),NEV,2020,1,1,submitted,"), "\(listed)")

            let noReason = try await run(["review", nevID, "--reject"], token: h.admin, status: 1)
            #expect(noReason.contains("INVALID_ARGUMENT") && noReason.contains("reason"), "\(noReason)")
            #expect(
                try await run(["review", nevID, "--reject", "--reason", "收费依据不足"], token: h.admin).contains(
                    "filing \(nevID) (NEV 2020, version 1): rejected"))
            let approved = try await run(["review", id, "--approve"], token: h.admin)
            #expect(approved.contains("filing \(id) (AUTO 2020, version 1): approved"), "\(approved)")
            #expect(try await run(["show", id], token: car).contains("FILING_STATE_APPROVED"))
            let rejectedList = try await run(["list", "--state", "rejected", "--all-versions", "--format", "csv"], token: car)
            #expect(
                rejectedList.contains("\(nevID),\(seeded.carOrganization),NEV,2020,1,1,rejected,") && rejectedList.contains("收费依据不足"),
                "\(rejectedList)")
            #expect(!rejectedList.contains(",AUTO,"), "\(rejectedList)")
            // Version 2 after the rejection, withdrawn by the organization.
            let resubmitted = try await run(
                ["submit", "--certificate", "NEV", "--year", "2020", "--round", "1", "--json", json.path], token: car)
            #expect(resubmitted.contains("\"version\" : 2"), "\(resubmitted)")
            let v2Line = try #require(
                resubmitted.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\"id\"") })
            let v2ID = String(String(v2Line).filter(\.isNumber))
            let withdrawn = try await run(["withdraw", v2ID, "--reason", "方案调整"], token: car)
            #expect(withdrawn.contains("filing \(v2ID) (NEV 2020, version 2): withdrawn"), "\(withdrawn)")
            let nevVersions = try await run(["list", "--certificate", "NEV", "--all-versions", "--format", "csv"], token: car)
            #expect(
                nevVersions.contains(",NEV,2020,1,1,rejected,")
                    && nevVersions.contains("\(v2ID),\(seeded.carOrganization),NEV,2020,1,2,withdrawn,")
                    && nevVersions.hasSuffix(",方案调整\r\n"), "\(nevVersions)")
            #expect(
                try await run(["list", "--certificate", "NEV", "--format", "csv"], token: car).split(separator: "\r\n").count == 2,
                "header and the latest version")

            let approvedList = try await run(["approved", "--year", "2020", "--format", "csv"], token: car)
            #expect(
                approvedList.contains("AUTO,\(seeded.carOrganization),2020,1,\(id),1,初级 380.00; 中级 480.00; 高级 580.00,2"), "\(approvedList)")
            #expect(!approvedList.contains("NEV"), "\(approvedList)")
            let changes = try await run(["changes", "--format", "csv"], token: h.admin)
            #expect(
                changes.contains("1,AUTO,\(seeded.carOrganization),2020,1,\(id),1,") && changes.contains("next cursor: 1"), "\(changes)")
            let deniedFeed = try await run(["changes"], token: car, status: 1)
            #expect(deniedFeed.contains("PERMISSION_DENIED"), "\(deniedFeed)")

            // xctl call speaks JSON to the filing service too.
            let called = try await runCommand(
                xctl,
                [
                    "call", filing, Xcert_Filing_V1_ApprovalService.Method.checkCertificateApproval.name,
                    "{\"certificate_code\": \"AUTO\", \"year\": 2020}", "--token", car,
                ])
            #expect(
                called.status == 0 && called.output.contains("\"approved\":true") && called.output.contains("\"filingId\":\"\(id)\""),
                "\(called.output)")
            let refused = try await runCommand(
                xctl,
                [
                    "call", filing, Xcert_Filing_V1_FilingService.Method.openRound.name,
                    "{\"year\": 1999, \"number\": 1, \"closes\": {\"year\": 2020, \"month\": 5, \"day\": 29}}", "--token", h.admin,
                ])
            #expect(
                refused.status == 1 && refused.output.contains("INVALID_ARGUMENT") && refused.output.contains("year:"), "\(refused.output)")
        }
    }
}
