import Foundation
import PostgresNIO
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

@testable import Filing

@Suite("Filing: a full ID sealed at rest (AES-256-GCM) opens only with its key and for its own row")
struct NationalIDSealerTests {
    @Test("sealed and opened; refused under another key (naming the key it needs), for another row, or with a byte changed")
    func sealAndOpen() throws {
        let sealer = try NationalIDSealer(base64: idEncryptionKey)
        let id = try #require(NationalID(Candidates.row(0).nationalID))
        let row = Data(repeating: 7, count: 32)
        let sealed = try sealer.seal(id, boundTo: row)
        #expect(try sealer.open(sealed, boundTo: row) == id.value)
        #expect(try sealer.seal(id, boundTo: row) != sealed, "a fresh nonce each time")
        #expect(!sealed.contains(Data(id.value.utf8)) && sealed.count == 1 + 4 + 12 + id.value.utf8.count + 16)

        let other = try NationalIDSealer(base64: Data(repeating: 1, count: 32).base64EncodedString())
        #expect(throws: SealedIDError(.otherKey(sealer.keyID.lowercaseHex))) { try other.open(sealed, boundTo: row) }
        #expect(throws: SealedIDError(.doesNotOpen)) { try sealer.open(sealed, boundTo: Data(repeating: 8, count: 32)) }
        var changed = sealed
        changed[changed.count - 20] ^= 1
        #expect(throws: SealedIDError(.doesNotOpen)) { try sealer.open(changed, boundTo: row) }
        #expect(throws: SealedIDError(.malformed)) { try sealer.open(Data([2]) + sealed.dropFirst(), boundTo: row) }
        #expect(throws: NationalIDKeyError.self) { try NationalIDSealer(base64: "c2hvcnQ=") }
        #expect(throws: NationalIDKeyError.self) { try NationalIDSealer(environment: [:]) }
    }
}

@Suite(
    "Filing: the credit bank (学分银行), the mapping to learning outcomes and the year's export with full IDs kept encrypted",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct CreditBankTests {
    @Test(
        """
        the province loads its mapping (refused: another role, an unknown certificate, a level it lacks, one twice, credits out of \
        range); a year's certificates export with full IDs opened from their seal, leaving out the revoked, the unmapped and those \
        without an ID on record, as the summary and the view say; no ID in clear in the tables or the view; a seal moved to another \
        row does not open; xctl load and export (CSV, JSON)
        """
    )
    func mappingAndExport() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let bank = Xcert_Filing_V1_CreditBankService.Method.self
            // Four pass (three of 4136010001, one of 4136010003) and one fails; the results become final.
            let final = try await h.finalSession(
                (0..<3).map { Candidates.row($0, theory: 800, practical: 700) } + [Candidates.row(3, theory: 300, practical: 300)]
                    + [Candidates.row(4, school: "4136010003", theory: 900, practical: 900)], token: world.car)
            #expect(final.certificates == 4)
            let roster = final.rosterID

            // Full IDs are nowhere in clear: not in the roster's rows, the certificates, or the views.
            for n in [0, 1, 2, 3, 4] {
                let id = Candidates.row(n).nationalID
                let found = try await h.scalar(
                    """
                    SELECT (SELECT count(*) FROM filing.roster_candidates r WHERE r::text LIKE '%' || \(id) || '%')
                         + (SELECT count(*) FROM filing.certificates c WHERE c::text LIKE '%' || \(id) || '%')
                         + (SELECT count(*) FROM analytics.learning_outcomes o WHERE o::text LIKE '%' || \(id) || '%')
                    """, as: Int64.self)
                #expect(found == 0, "the ID of candidate \(n) is stored in clear")
            }
            #expect(
                try await h.scalar("SELECT count(*) FROM filing.roster_candidates WHERE national_id_sealed IS NOT NULL", as: Int64.self)
                    == 5)

            // Before any mapping: all four are unmapped, and the summary says what to map.
            var summaryRequest = Xcert_Filing_V1_GetLearningOutcomeSummaryRequest()
            summaryRequest.year = 2026
            var summary = try await h.call(bank.getLearningOutcomeSummary, summaryRequest, token: h.admin)
            #expect(summary.certificates == 4 && summary.exported == 0 && summary.unmapped == 4, "\(summary)")
            #expect(summary.unmappedLevels.map { "\($0.certificateCode) \($0.level.rawValue) \($0.certificates)" } == ["AUTO 1 4"])

            // The mapping: refusals name their field and change nothing.
            var single = Xcert_Registry_V1_CreateCertificateRequest()
            single.certificate.code = "ONE"
            single.certificate.name = "只有初级的证书"
            single.certificate.levels = [.elementary]
            _ = try await h.call(Xcert_Registry_V1_ReferenceDataService.Method.createCertificate, single, token: h.admin)
            func mapping(_ code: String, _ level: Xcert_Common_V1_CertificateLevel, credits: Int32 = 40) -> Xcert_Filing_V1_CreditMapping {
                var mapping = Xcert_Filing_V1_CreditMapping()
                mapping.certificateCode = code
                mapping.level = level
                mapping.learningOutcomeCode = "XB-\(code)-\(level.rawValue)"
                mapping.learningOutcomeName = "\(code) 职业技能等级证书（\(CertificateLevel(wire: level)?.chineseName ?? "")）"
                mapping.creditsTenths = credits
                return mapping
            }
            var load = Xcert_Filing_V1_LoadCreditMappingsRequest()
            load.mappings = [mapping("AUTO", .elementary)]
            #expect(await h.refusal(bank.loadCreditMappings, load, token: world.car)?.code == .permissionDenied)
            load.mappings = [
                mapping("NOPE", .elementary), mapping("AUTO", .elementary), mapping("AUTO", .elementary), mapping("ONE", .advanced),
                mapping("BIM", .elementary, credits: 0),
            ]
            #expect(
                await h.refusal(bank.loadCreditMappings, load, token: h.admin)?.fieldViolations.map(\.field) == [
                    "mappings[2].level", "mappings[4].credits_tenths",
                ])
            load.mappings = [mapping("NOPE", .elementary), mapping("ONE", .advanced), mapping("AUTO", .elementary)]
            #expect(
                await h.refusal(bank.loadCreditMappings, load, token: h.admin)?.fieldViolations.map(\.field) == [
                    "mappings[0].certificate_code", "mappings[1].level",
                ])
            #expect(try await h.scalar("SELECT count(*) FROM filing.credit_mappings", as: Int64.self) == 0)

            load.mappings = [mapping("AUTO", .elementary), mapping("AUTO", .intermediate, credits: 60)]
            var loaded = try await h.call(bank.loadCreditMappings, load, token: h.admin)
            #expect(loaded.added == 2 && loaded.replaced == 0 && loaded.unchanged == 0)
            load.mappings = [mapping("AUTO", .elementary, credits: 45), mapping("AUTO", .intermediate, credits: 60)]
            loaded = try await h.call(bank.loadCreditMappings, load, token: h.admin)
            #expect(loaded.added == 0 && loaded.replaced == 1 && loaded.unchanged == 1)
            let school = try await h.token(role: "school", party: "4136010001")
            let listed = try await h.call(bank.listCreditMappings, Xcert_Filing_V1_ListCreditMappingsRequest(), token: school).mappings
            #expect(listed.map { "\($0.certificateCode) \($0.level.rawValue) \($0.creditsTenths)" } == ["AUTO 1 45", "AUTO 2 60"])

            // One revoked; one whose row kept no full ID (as rosters uploaded before V35).
            var certificates = Xcert_Filing_V1_ListCertificatesRequest()
            certificates.year = 2026
            let issued = try await h.call(
                Xcert_Filing_V1_CertificateService.Method.listCertificates, certificates, token: h.admin
            ).certificates
            var revoke = Xcert_Filing_V1_RevokeCertificateRequest()
            revoke.number = issued[1].number
            revoke.reason = "监测发现代考"
            _ = try await h.call(Xcert_Filing_V1_CertificateService.Method.revokeCertificate, revoke, token: h.admin)
            try await h.postgres.query(
                """
                UPDATE filing.roster_candidates SET national_id_sealed = NULL
                WHERE roster_id = \(roster) AND candidate_number = \(issued[2].candidateNumber)
                """, logger: testLogger("credit bank"))
            summary = try await h.call(bank.getLearningOutcomeSummary, summaryRequest, token: h.admin)
            #expect(
                summary.certificates == 4 && summary.exported == 2 && summary.revoked == 1 && summary.unmapped == 0
                    && summary.withoutNationalID == 1 && summary.creditsTenths == 90 && summary.unmappedLevels.isEmpty, "\(summary)")
            let view = try await h.scalar(
                """
                SELECT string_agg(certificate_number || ':' || exported || ':' || revoked || ':' || national_id_on_record || ':' || credits,
                                  ',' ORDER BY certificate_number)
                FROM analytics.learning_outcomes WHERE year = 2026
                """, as: String.self)
            #expect(
                view
                    == "\(issued[0].number):true:false:true:4.5,\(issued[1].number):false:true:true:4.5,"
                    + "\(issued[2].number):false:false:false:4.5,\(issued[3].number):true:false:true:4.5")

            // The export: the province's alone, paged, each with the holder's full ID.
            var export = Xcert_Filing_V1_ExportLearningOutcomesRequest()
            export.year = 2026
            export.page.pageSize = 1
            #expect(await h.refusal(bank.exportLearningOutcomes, export, token: school)?.code == .permissionDenied)
            #expect(await h.refusal(bank.exportLearningOutcomes, export, token: world.car)?.code == .permissionDenied)
            var records: [Xcert_Filing_V1_LearningOutcomeRecord] = []
            repeat {
                let page = try await h.call(bank.exportLearningOutcomes, export, token: h.admin)
                #expect(page.records.count <= 1)
                records += page.records
                export.page.pageToken = page.page.nextPageToken
            } while !export.page.pageToken.isEmpty
            #expect(records.map(\.certificateNumber) == [issued[0].number, issued[3].number])
            #expect(records.map(\.nationalID) == [Candidates.row(0).nationalID, Candidates.row(4).nationalID])
            #expect(records.allSatisfy { $0.learningOutcomeCode == "XB-AUTO-1" && $0.creditsTenths == 45 && $0.level == .elementary })
            #expect(records[1].holderName == "考生4" && records[1].schoolCode == "4136010003" && records[1].certificateName == "汽车运用与维修")

            // A seal moved to another person's row does not open: the export says which, and gives nothing.
            try await h.postgres.query(
                """
                UPDATE filing.roster_candidates r SET national_id_sealed = o.national_id_sealed
                FROM filing.roster_candidates o
                WHERE r.roster_id = \(roster) AND r.candidate_number = \(issued[0].candidateNumber)
                  AND o.roster_id = r.roster_id AND o.candidate_number = \(issued[3].candidateNumber)
                """, logger: testLogger("credit bank"))
            export.page = .init()
            let moved = await h.refusal(bank.exportLearningOutcomes, export, token: h.admin)
            #expect(moved?.code == .failedPrecondition && moved?.message.contains(issued[0].number) == true, "\(String(describing: moved))")
        }
    }

    @Test(
        "xctl credit-bank: load a mapping file (Chinese headers, its lines named in refusals), export CSV and JSON, its owner's alone"
    )
    func xctlLoadAndExport() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            _ = try await h.finalSession((0..<3).map { Candidates.row($0, theory: 800, practical: 700) }, token: world.car)

            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-credit-bank-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let connection = ["--filing", "127.0.0.1:\(try #require(h.filingAddress).port)", "--token", h.admin]
            let bad = folder.appendingPathComponent("bad.csv").path
            try Data("\u{FEFF}证书代码,等级,学习成果编码,学习成果名称,学分\r\nAUTO,初级,XB-AUTO-1,汽车运用与维修（初级）,4\r\nAUTO,初级,XB,重复,2\r\n".utf8)
                .write(to: URL(fileURLWithPath: bad))
            let refused = try await runCommand(xctl, ["credit-bank", "load", bad] + connection)
            #expect(refused.status != 0 && refused.output.contains("line 3 (mappings[1]).level"), "\(refused.output)")
            let good = folder.appendingPathComponent("mapping.csv").path
            try Data("证书代码,等级,学习成果编码,学习成果名称,学分\nAUTO,初级,XB-AUTO-1,汽车运用与维修（初级）,4.5\n".utf8)
                .write(to: URL(fileURLWithPath: good))
            let loaded = try await runCommand(xctl, ["credit-bank", "load", good] + connection)
            #expect(loaded.status == 0 && loaded.output.contains("1 added, 0 replaced, 0 unchanged"), "\(loaded.output)")

            let csv = folder.appendingPathComponent("outcomes.csv").path
            let exported = try await runCommand(
                xctl, ["credit-bank", "export", "--year", "2026", "--format", "csv", "--chinese-headers", "--out", csv] + connection)
            #expect(exported.status == 0 && exported.output.contains("3 learning-outcome records of 2026"), "\(exported.output)")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: csv))
            #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]), "UTF-8 with a BOM, for Excel")
            let lines = String(decoding: bytes.dropFirst(3), as: UTF8.self).split(separator: "\r\n")
            #expect(lines.first?.hasPrefix("证书编号,姓名,证件类型,证件号码,学习成果编码") == true)
            #expect(lines.count == 4 && lines[1].contains(",考生0,居民身份证,\(Candidates.row(0).nationalID),XB-AUTO-1,汽车运用与维修（初级）,4.5,AUTO,"))
            let mode = try FileManager.default.attributesOfItem(atPath: csv)[.posixPermissions] as? Int
            #expect(mode == 0o600, "the export holds full IDs: its owner's only")

            let json = folder.appendingPathComponent("outcomes.json").path
            let jsonExport = try await runCommand(
                xctl, ["credit-bank", "export", "--year", "2026", "--format", "json", "--out", json] + connection)
            #expect(jsonExport.status == 0, "\(jsonExport.output)")
            let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
            let records = document?["records"] as? [[String: Any]] ?? []
            #expect(document?["format"] as? String == "xcert-learning-outcomes/1" && document?["year"] as? Int == 2026)
            #expect(records.map { $0["national_id"] as? String } == (0..<3).map { Candidates.row($0).nationalID })
            #expect(records.first?["credits"] as? Double == 4.5 && records.first?["level"] as? Int == 1)
            #expect(records.first?["level_name"] as? String == "初级" && records.first?["exam_date"] as? String == "2026-06-15")
        }
    }
}
