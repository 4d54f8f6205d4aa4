import Crypto
import Foundation
import PostgresNIO
import Synchronization
import Testing
import XCertAPI
import XCertProto
import XCertStore
import XCertTestSupport
import XCertWire

@Suite(
    "Filing: exam result rosters", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .serialized,
    .timeLimit(.minutes(5)))
struct RosterTests {
    @Test(
        """
        each row check: national ID, scale, component count, the pass flag against the 40/60 rule at its boundary, attendance; a bad chunk \
        stores nothing
        """
    )
    func rowChecks() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let roster = try await h.createRoster(token: world.car)
            var badID = Candidates.row(1)
            badID.nationalID = String(Candidates.nationalID(1).dropLast()) + (Candidates.nationalID(1).hasSuffix("0") ? "1" : "0")
            var outOfScale = Candidates.row(2)
            outOfScale.componentScoresTenths = [1001, 500]
            // 70.0 × 40 % + 53.3 × 60 % = 59.98: below 60, so "passed" contradicts the rule.
            var notReallyPassed = Candidates.row(3, theory: 700, practical: 533)
            notReallyPassed.passed = true
            // 70.0 × 40 % + 53.4 × 60 % = 60.04: passed, so "not passed" contradicts the rule.
            var notReallyFailed = Candidates.row(4, theory: 700, practical: 534)
            notReallyFailed.passed = false
            var oneScore = Candidates.row(5)
            oneScore.componentScoresTenths = [800]
            var declaredButSat = Candidates.row(6)
            declaredButSat.registration = .declared
            var absentWithScores = Candidates.row(7)
            absentWithScores.attended = false
            absentWithScores.passed = false
            var sameNumber = Candidates.row(8)
            sameNumber.candidateNumber = Candidates.row(0).candidateNumber
            let rows = [
                Candidates.row(0), badID, outOfScale, notReallyPassed, notReallyFailed, oneScore, declaredButSat, absentWithScores,
                sameNumber,
            ]
            let refused = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.uploadChunk, RegistryHarness.chunk(roster.id, 0, rows), token: world.car))
            #expect(refused.code == .invalidArgument)
            let byField = Dictionary(refused.fieldViolations.map { ($0.field, $0.description) }, uniquingKeysWith: { $0 + " | " + $1 })
            #expect(
                Set(byField.keys) == [
                    "rows[1].national_id", "rows[2].component_scores_tenths[0]", "rows[3].passed", "rows[4].passed",
                    "rows[5].component_scores_tenths", "rows[6].attended", "rows[7].component_scores_tenths", "rows[8].candidate_number",
                ], "\(refused.fieldViolations)")
            #expect(byField["rows[1].national_id"]?.contains("check character") == true)
            #expect(byField["rows[2].component_scores_tenths[0]"]?.contains("outside the certificate's scale") == true)
            #expect(byField["rows[3].passed"]?.contains("59.9 is below the pass mark 60") == true, "\(byField["rows[3].passed"] ?? "")")
            #expect(byField["rows[4].passed"]?.contains("60.0 reaches the pass mark 60") == true, "\(byField["rows[4].passed"] ?? "")")
            #expect(byField["rows[5].component_scores_tenths"]?.contains("理论 40 %, 实操 60 %") == true)
            #expect(byField["rows[8].candidate_number"]?.contains("rows[0]") == true)

            // The registry's checks: an unknown school, a school without the qualification.
            let unknown = Candidates.row(10, school: "4136019999")
            let unqualified = Candidates.row(11, school: "4136010002")
            let registryRefusal = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.uploadChunk,
                    RegistryHarness.chunk(roster.id, 0, [Candidates.row(0), unknown, unqualified]), token: world.car))
            #expect(registryRefusal.code == .invalidArgument)
            #expect(registryRefusal.fieldViolations.map(\.field) == ["rows[1].school_code", "rows[2].school_code"])
            #expect(registryRefusal.fieldViolations[0].description.contains("the registry has no school 4136019999"))
            #expect(registryRefusal.fieldViolations[1].description.contains("holds no pilot qualification for AUTO 初级 in 2026"))
            // Qualified for the elementary level only: an intermediate exam's candidates are refused.
            let intermediate = try await h.createRoster(level: .intermediate, token: world.car)
            let levelRefusal = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.uploadChunk, RegistryHarness.chunk(intermediate.id, 0, [Candidates.row(0)]),
                    token: world.car))
            #expect(
                levelRefusal.fieldViolations.map(\.description) == ["school 4136010001 holds no pilot qualification for AUTO 中级 in 2026"])

            #expect(try await h.scalar("SELECT count(*) FROM filing.roster_candidates", as: Int64.self) == 0)
            #expect(try await h.scalar("SELECT count(*) FROM filing.roster_chunks", as: Int64.self) == 0)
            // The boundary rows as they should be are accepted.
            let fixed = [Candidates.row(0), Candidates.row(3, theory: 700, practical: 533), Candidates.row(4, theory: 700, practical: 534)]
            let accepted = try await h.upload(roster.id, chunk: 0, fixed, token: world.car)
            #expect(accepted.rosterRowCount == 3)
        }
    }

    @Test("chunks are idempotent, seal needs every chunk, a sealed roster never changes, national IDs are kept only hashed")
    func chunksAndSeal() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let roster = try await h.createRoster(token: world.car)
            #expect(roster.state == .uploading && roster.version == 1)
            let first = try await h.upload(roster.id, chunk: 0, Candidates.rows(from: 0, count: 100), token: world.car)
            #expect(!first.alreadyUploaded && first.rosterRowCount == 100 && first.chunk.rowCount == 100)
            let again = try await h.upload(roster.id, chunk: 0, Candidates.rows(from: 0, count: 100), token: world.car)
            #expect(again.alreadyUploaded && again.rosterRowCount == 100 && again.chunk == first.chunk)
            let changed = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.uploadChunk,
                    RegistryHarness.chunk(roster.id, 0, Candidates.rows(from: 1, count: 100)), token: world.car))
            #expect(changed.code == .failedPrecondition && changed.fieldViolations.map(\.field) == ["chunk_index"])
            // A candidate of chunk 0 again in chunk 2 is named with where it already is.
            let clash = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.uploadChunk,
                    RegistryHarness.chunk(roster.id, 2, [Candidates.rows(from: 200, count: 1)[0], Candidates.rows(from: 5, count: 1)[0]]),
                    token: world.car))
            #expect(
                clash.fieldViolations.map(\.field)
                    == ["rows[1].candidate_number", "rows[1].national_id"].prefix(clash.fieldViolations.count).map { $0 })
            #expect(clash.fieldViolations.first?.description.contains("chunk 0 row 5") == true, "\(clash.fieldViolations)")

            _ = try await h.upload(roster.id, chunk: 2, Candidates.rows(from: 200, count: 50), token: world.car)
            let gap = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.sealRoster,
                    {
                        var r = Xcert_Filing_V1_SealRosterRequest()
                        r.rosterID = roster.id
                        return r
                    }(), token: world.car))
            #expect(
                gap.code == .failedPrecondition && gap.message.contains("lacks chunk 1") && gap.message.contains("uploaded: 0, 2"),
                "\(gap.message)")
            _ = try await h.upload(roster.id, chunk: 1, Candidates.rows(from: 100, count: 100), token: world.car)
            let short = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.sealRoster,
                    {
                        var r = Xcert_Filing_V1_SealRosterRequest()
                        r.rosterID = roster.id
                        r.expectedRowCount = 251
                        return r
                    }(), token: world.car))
            #expect(
                short.code == .failedPrecondition && short.message.contains("holds 250 candidates in 3 chunks, not the 251 expected"),
                "\(short.message)")

            let sealed = try await h.seal(roster.id, expecting: 250, token: world.car)
            #expect(sealed.state == .sealed && sealed.rowCount == 250 && sealed.chunks.map(\.index) == [0, 1, 2])
            let expected = Self.tallies(
                Candidates.rows(from: 0, count: 100) + Candidates.rows(from: 100, count: 100) + Candidates.rows(from: 200, count: 50))
            #expect(sealed.tallies == expected)
            #expect(try await h.seal(roster.id, token: world.car) == sealed, "sealing again answers the same")
            let late = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.uploadChunk,
                    RegistryHarness.chunk(roster.id, 3, Candidates.rows(from: 300, count: 1)), token: world.car))
            #expect(late.code == .failedPrecondition && late.message.contains("supersedes_roster_id"), "\(late.message)")
            let feed = try await h.rosterChanges()
            #expect(feed.changes.map(\.roster.id) == [roster.id], "sealed once, in the feed once")

            // National IDs: only a keyed hash and the last four characters are stored.
            let someone = Candidates.nationalID(42)
            #expect(
                try await h.scalar(
                    "SELECT count(*) FROM filing.roster_candidates c WHERE row_to_json(c)::text LIKE '%' || \(someone) || '%'",
                    as: Int64.self) == 0)
            #expect(
                try await h.scalar(
                    "SELECT national_id_last4 FROM filing.roster_candidates WHERE candidate_number = \(Candidates.row(42).candidateNumber)",
                    as: String.self) == String(someone.suffix(4)))
            let keyed = HMAC<SHA256>.authenticationCode(for: Data(someone.utf8), using: SymmetricKey(data: Data(nationalIDKey.utf8)))
            let keyedHex = keyed.map { String(format: "%02x", $0) }.joined()
            #expect(
                try await h.scalar(
                    "SELECT count(*) FROM filing.roster_candidates WHERE encode(national_id_hmac, 'hex') = \(keyedHex)", as: Int64.self)
                    == 1)
        }
    }

    @Test("003 appendix table 2's 考核人数 counts who sat at the site: not the declared-only, not the absent; the view agrees")
    func siteTableCountsTheExamined() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            // 15 June: 6 sat, 2 declared only, 2 approved but absent; 16 June: 3 sat, 1 absent.
            func absent(_ n: Int, declaredOnly: Bool) -> Xcert_Filing_V1_CandidateRow {
                var row = Candidates.row(n)
                if declaredOnly { row.registration = .declared }
                row.attended = false
                row.componentScoresTenths = []
                row.passed = false
                return row
            }
            let first = try await h.createRoster(token: world.car)
            let firstRows =
                Candidates.rows(from: 0, count: 6) + [absent(6, declaredOnly: true), absent(7, declaredOnly: true)]
                + [absent(8, declaredOnly: false), absent(9, declaredOnly: false)]
            _ = try await h.upload(first.id, chunk: 0, firstRows, token: world.car)
            _ = try await h.seal(first.id, token: world.car)
            let second = try await h.createRoster(day: 16, token: world.car)
            _ = try await h.upload(
                second.id, chunk: 0, Candidates.rows(from: 20, count: 3) + [absent(23, declaredOnly: false)], token: world.car)
            _ = try await h.seal(second.id, token: world.car)

            var request = Xcert_Filing_V1_GetSiteSessionTableRequest()
            request.year = RosterWorld.year
            let table = try await h.call(Xcert_Filing_V1_RosterService.Method.getSiteSessionTable, request, token: h.admin)
            #expect(table.lines.map { "\($0.siteSchoolCode):\($0.sessions):\($0.candidates)" } == ["\(RosterWorld.site):2:9"])
            #expect(table.total.candidates == 9 && table.total.sessions == 2, "the total counts the examined too")

            let viewed = try await withRole("xcert_analyst", on: h.postgres) { connection in
                let rows = try await connection.query(
                    "SELECT sessions, candidates FROM analytics.assessment_sites WHERE year = \(RosterWorld.year)",
                    logger: testLogger("analytics"))
                var lines: [String] = []
                for try await (sessions, candidates) in rows.decode((Int64, Int64).self) { lines.append("\(sessions):\(candidates)") }
                return lines
            }
            #expect(viewed == ["2:9"], "analytics.assessment_sites counts the examined as appendix table 2 does")
        }
    }

    @Test("a correction supersedes the sealed roster with a reason; the feed carries both versions; the first stays readable and unchanged")
    func correction() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let first = try await h.createRoster(token: world.car)
            _ = try await h.upload(first.id, chunk: 0, Candidates.rows(from: 0, count: 10), token: world.car)
            let sealed = try await h.seal(first.id, token: world.car)

            let twice = try #require(
                await h.refusal(Xcert_Filing_V1_RosterService.Method.createRoster, RegistryHarness.rosterRequest(), token: world.car))
            #expect(twice.code == .alreadyExists && twice.message.contains("roster \(first.id)"), "\(twice.message)")
            let reasonless = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.createRoster, RegistryHarness.rosterRequest(supersedes: first.id), token: world.car
                ))
            #expect(reasonless.fieldViolations.map(\.field) == ["correction_reason"])
            let otherSession = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.createRoster,
                    RegistryHarness.rosterRequest(day: 16, supersedes: first.id, reason: "成绩录入错误"), token: world.car))
            #expect(otherSession.fieldViolations.map(\.field) == ["session"])

            let correction = try await h.createRoster(supersedes: first.id, reason: "成绩录入错误", token: world.car)
            #expect(correction.version == 2 && correction.supersedesRosterID == first.id && correction.correctionReason == "成绩录入错误")
            var corrected = Candidates.rows(from: 0, count: 10)
            corrected[3] = Candidates.row(3, school: "4136010003", theory: 1000, practical: 1000)
            _ = try await h.upload(correction.id, chunk: 0, corrected, token: world.car)
            let second = try await h.seal(correction.id, token: world.car)
            #expect(second.state == .sealed && second.tallies == Self.tallies(corrected))

            let before = try await h.roster(first.id, token: world.car)
            #expect(before.state == .superseded && before.supersededByRosterID == correction.id)
            #expect(before.tallies == sealed.tallies && before.chunks == sealed.chunks && before.rowCount == sealed.rowCount)
            let feed = try await h.rosterChanges()
            #expect(feed.changes.map(\.roster.id) == [first.id, correction.id])
            #expect(feed.changes[1].roster.supersedesRosterID == first.id)
            #expect(feed.changes[0].roster.tallies == sealed.tallies, "the feed carries each version's own counts")
            let paged = try await h.rosterChanges(after: feed.changes[0].cursor)
            #expect(paged.changes.map(\.roster.id) == [correction.id] && paged.nextCursor == feed.nextCursor)
            let again = try #require(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.createRoster, RegistryHarness.rosterRequest(supersedes: first.id, reason: "再改"),
                    token: world.car))
            #expect(
                again.code == .failedPrecondition && again.message.contains("superseded by roster \(correction.id)"), "\(again.message)")
        }
    }

    @Test(
        """
        an organization sees only its own rosters; a school only rosters with its candidates, and only them; the feed is for services and \
        the province
        """
    )
    func isolation() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let roster = try await h.createRoster(token: world.car)
            _ = try await h.upload(roster.id, chunk: 0, Candidates.rows(from: 0, count: 10), token: world.car)
            _ = try await h.seal(roster.id, token: world.car)

            #expect(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.getRoster,
                    {
                        var r = Xcert_Filing_V1_GetRosterRequest()
                        r.id = roster.id
                        return r
                    }(), token: world.bim)?.code == .notFound)
            #expect(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.uploadChunk,
                    RegistryHarness.chunk(roster.id, 1, Candidates.rows(from: 50, count: 1)), token: world.bim)?.code == .notFound)
            #expect(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.createRoster, RegistryHarness.rosterRequest(day: 20), token: world.bim)?.code
                    == .permissionDenied)
            var foreignList = Xcert_Filing_V1_ListRostersRequest()
            foreignList.organizationID = world.carOrganization
            #expect(try await h.call(Xcert_Filing_V1_RosterService.Method.listRosters, foreignList, token: world.bim).rosters.isEmpty)
            #expect(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.listRosterChanges, Xcert_Filing_V1_ListRosterChangesRequest(), token: world.car)?
                    .code == .permissionDenied)

            let school = try await h.token(role: "school", party: "4136010003")
            let listed = try await h.call(
                Xcert_Filing_V1_RosterService.Method.listRosters, Xcert_Filing_V1_ListRostersRequest(), token: school)
            #expect(listed.rosters.map(\.id) == [roster.id])
            #expect(listed.rosters[0].tallies.map(\.schoolCode) == ["4136010003"], "a school sees its own counts")
            var candidates = Xcert_Filing_V1_ListCandidatesRequest()
            candidates.rosterID = roster.id
            let own = try await h.call(Xcert_Filing_V1_RosterService.Method.listCandidates, candidates, token: school)
            #expect(own.candidates.count == 5 && own.candidates.allSatisfy { $0.schoolCode == "4136010003" })
            #expect(own.candidates.allSatisfy { $0.nationalIDLast4.count == 4 })
            var someoneElse = candidates
            someoneElse.schoolCode = "4136010001"
            #expect(await h.refusal(Xcert_Filing_V1_RosterService.Method.listCandidates, someoneElse, token: school)?.code == .notFound)
            let outsider = try await h.token(role: "school", party: "4136010002")
            #expect(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.getRoster,
                    {
                        var r = Xcert_Filing_V1_GetRosterRequest()
                        r.id = roster.id
                        return r
                    }(), token: outsider)?.code == .notFound)
            // The province reads every candidate, page by page.
            candidates.page.pageSize = 4
            var seen: [String] = []
            repeat {
                let page = try await h.call(Xcert_Filing_V1_RosterService.Method.listCandidates, candidates, token: h.admin)
                seen += page.candidates.map(\.candidateNumber)
                candidates.page.pageToken = page.page.nextPageToken
            } while !candidates.page.pageToken.isEmpty
            #expect(seen == Candidates.rows(from: 0, count: 10).map(\.candidateNumber))
        }
    }

    @Test("a 100,000-row roster in chunks of 5,000, sealed whole")
    func hundredThousandRows() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let roster = try await h.createRoster(token: world.car)
            var all: [Xcert_Filing_V1_CandidateRow] = []
            for chunk in 0..<20 {
                let rows = Candidates.rows(from: chunk * 5000, count: 5000)
                all += rows
                _ = try await h.upload(roster.id, chunk: Int32(chunk), rows, token: world.car)
            }
            let sealed = try await h.seal(roster.id, expecting: 100_000, token: world.car)
            #expect(sealed.rowCount == 100_000 && sealed.chunks.count == 20)
            #expect(sealed.tallies == Self.tallies(all))
            #expect(try await h.scalar("SELECT count(DISTINCT national_id_hmac) FROM filing.roster_candidates", as: Int64.self) == 100_000)
        }
    }

    @Test(
        """
        killed with SIGKILL in the middle of an upload: exactly the acknowledged chunks survive, the upload resumes, and sealing gives the \
        whole roster once
        """
    )
    func killedMidUpload() async throws {
        try await withFilingStackProcesses { h in
            let world = try await h.rosterWorld()
            let roster = try await h.createRoster(token: world.car)
            let chunks = (0..<12).map { Candidates.rows(from: $0 * 2000, count: 2000) }
            let process = try #require(h.filingProcess)
            let client = testClient(port: process.port)
            let metadata = ["authorization": "Bearer \(world.car)"]
            // Upload in order; the test kills the process once four chunks are acknowledged.
            let acknowledged = AcknowledgedChunks()
            let uploader = Task {
                for (index, rows) in chunks.enumerated() {
                    acknowledged.inFlight(index)
                    do {
                        _ = try await client.unary(
                            Xcert_Filing_V1_RosterService.Method.uploadChunk, RegistryHarness.chunk(roster.id, Int32(index), rows),
                            options: CallOptions(metadata: metadata))
                    } catch {
                        return
                    }
                    acknowledged.add(index)
                }
            }
            while acknowledged.count < 4 { try await Task.sleep(for: .milliseconds(5)) }
            kill(process.pid, SIGKILL)
            await uploader.value
            await client.close()
            let (acked, inFlight) = acknowledged.snapshot
            #expect(acked.count >= 4 && acked.count < chunks.count, "killed in the middle: \(acked)")

            let restarted = try await ServiceProcess.start(
                "filing", database: h.database, port: process.port, environment: h.filingEnvironment)
            try await restarted.waitForHealth(.serving)
            let resumed = testClient(port: restarted.port)
            defer { Task { await resumed.close() } }
            var get = Xcert_Filing_V1_GetRosterRequest()
            get.id = roster.id
            let survived = try await resumed.unary(
                Xcert_Filing_V1_RosterService.Method.getRoster, get, options: CallOptions(metadata: metadata))
            let present = Set(survived.chunks.map { Int($0.index) })
            #expect(present.isSuperset(of: acked), "every acknowledged chunk survives")
            #expect(
                present.subtracting(acked).isSubset(of: inFlight.map { [$0] } ?? []),
                "nothing but the chunk in flight, if it committed before its answer was lost")
            #expect(survived.rowCount == Int64(present.count * 2000))

            // Resume: send every chunk not acknowledged; one that committed without its answer is recognised.
            for index in 0..<chunks.count where !acked.contains(index) {
                let answer = try await resumed.unary(
                    Xcert_Filing_V1_RosterService.Method.uploadChunk, RegistryHarness.chunk(roster.id, Int32(index), chunks[index]),
                    options: CallOptions(metadata: metadata))
                #expect(answer.alreadyUploaded == present.contains(index))
            }
            var seal = Xcert_Filing_V1_SealRosterRequest()
            seal.rosterID = roster.id
            seal.expectedRowCount = 24_000
            let sealed = try await resumed.unary(
                Xcert_Filing_V1_RosterService.Method.sealRoster, seal, options: CallOptions(metadata: metadata))
            #expect(sealed.state == .sealed && sealed.rowCount == 24_000 && sealed.tallies == Self.tallies(chunks.flatMap { $0 }))
            var changes = Xcert_Filing_V1_ListRosterChangesRequest()
            changes.after = 0
            let feed = try await resumed.unary(
                Xcert_Filing_V1_RosterService.Method.listRosterChanges, changes,
                options: CallOptions(metadata: ["authorization": "Bearer \(h.admin)"]))
            #expect(feed.changes.map(\.roster.id) == [roster.id])
            _ = try await restarted.terminate()
        }
    }

    /// What the rows add up to per school, computed here independently of the service.
    static func tallies(_ rows: [Xcert_Filing_V1_CandidateRow]) -> [Xcert_Filing_V1_SchoolTally] {
        Dictionary(grouping: rows, by: \.schoolCode).sorted { $0.key < $1.key }.map { school, rows in
            var tally = Xcert_Filing_V1_SchoolTally()
            tally.schoolCode = school
            tally.declared = Int64(rows.count)
            tally.approved = Int64(rows.filter { $0.registration == .approved }.count)
            tally.completed = Int64(rows.filter(\.attended).count)
            tally.passed = Int64(rows.filter(\.passed).count)
            return tally
        }
    }
}

/// The chunks an uploader saw acknowledged, and the one it was sending.
final class AcknowledgedChunks: Sendable {
    private let state = Mutex<(acknowledged: Set<Int>, inFlight: Int?)>(([], nil))

    func inFlight(_ index: Int) { self.state.withLock { $0.inFlight = index } }
    func add(_ index: Int) {
        self.state.withLock {
            $0.acknowledged.insert(index)
            $0.inFlight = nil
        }
    }
    var count: Int { self.state.withLock { $0.acknowledged.count } }
    var snapshot: (Set<Int>, Int?) { self.state.withLock { ($0.acknowledged, $0.inFlight) } }
}
