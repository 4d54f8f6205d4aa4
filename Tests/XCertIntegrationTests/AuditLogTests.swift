import Foundation
import PostgresNIO
import Testing
import XCertAPI
import XCertProto
import XCertStore
import XCertTestSupport
import XCertWire

@Suite(
    "Audit log: every change and refusal on record, append-only, without secrets",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct AuditLogTests {
    @Test(
        """
        who, what, when, request id and outcome of each change, a replay and a refusal; analysts read it; the service cannot change it; no \
        token or national ID in it or in the logs
        """
    )
    func changesOnRecord() async throws {
        try await withFilingStackProcesses { h in
            let world = try await h.rosterWorld()
            // A change, and its replay with the same key.
            var submit = RegistryHarness.submission("NEV", year: RosterWorld.year)
            submit.plan.fees = [Xcert_Common_V1_CertificateLevel.elementary, .intermediate, .advanced].map { level in
                var fee = Xcert_Filing_V1_LevelFee()
                fee.level = level
                fee.fee.fen = 30_000
                fee.costBasis = "场地、考评员、耗材"
                return fee
            }
            let filing = try await h.call(
                Xcert_Filing_V1_FilingService.Method.submitFiling, submit, token: world.car, idempotencyKey: "audit-1")
            _ = try await h.call(Xcert_Filing_V1_FilingService.Method.submitFiling, submit, token: world.car, idempotencyKey: "audit-1")
            // A refusal from inside the change: a second live filing of the same certificate and year.
            let refused = await h.refusal(Xcert_Filing_V1_FilingService.Method.submitFiling, submit, token: world.car)
            #expect(refused?.code == .alreadyExists)
            // Rows with national ID numbers.
            let roster = try await h.createRoster(token: world.car)
            let rows = Candidates.rows(from: 1, count: 10)
            _ = try await h.upload(roster.id, chunk: 0, rows, token: world.car)

            let entries = try await withRole("xcert_analyst", on: h.postgres) { connection in
                var entries: [(String, String, String, String, String, String)] = []
                let result = try await connection.query(
                    "SELECT service, principal_role, method, targets, request_id, outcome FROM analytics.audit_log ORDER BY at, id",
                    logger: testLogger("audit")
                )
                for try await row in result.decode((String, String, String, String, String, String).self) { entries.append(row) }
                return entries
            }
            let submissions = entries.filter {
                $0.2 == Xcert_Filing_V1_FilingService.Method.submitFiling.name && $0.3.contains("certificate_code=NEV")
            }
            #expect(submissions.map(\.5) == ["OK", "OK (replayed)", "ALREADY_EXISTS"], "\(submissions)")
            #expect(submissions.allSatisfy { $0.0 == "filing" && $0.1 == "organization" && !$0.4.isEmpty })
            #expect(
                submissions.first?.3.contains("year=\(RosterWorld.year)") == true
                    && submissions.first?.3.contains("→ id=\(filing.id)") == true, "\(submissions.first?.3 ?? "")")
            #expect(
                entries.contains {
                    $0.0 == "registry" && $0.2 == Xcert_Registry_V1_PilotService.Method.reviewApplication.name && $0.1 == "province_admin"
                        && $0.5 == "OK"
                })
            let upload = try #require(entries.first { $0.2 == Xcert_Filing_V1_RosterService.Method.uploadChunk.name })
            #expect(upload.3 == "roster_id=\(roster.id)", "the roster, not its rows: \(upload.3)")
            let everything = entries.map { "\($0)" }.joined(separator: "\n")
            for row in rows { #expect(!everything.contains(row.nationalID)) }
            #expect(!everything.contains(world.car) && !everything.contains(h.admin))

            // Append-only: the filing service's own role may not change or remove an entry.
            for statement in ["UPDATE filing.audit_log SET outcome = 'OK'", "DELETE FROM filing.audit_log", "TRUNCATE filing.audit_log"] {
                do {
                    try await withRole("xcert_filing", on: h.postgres) { connection in
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: testLogger("audit"))
                    }
                    Issue.record("\(statement) was allowed")
                } catch {}
            }
            // Nor do the service's own logs hold a token or a national ID number.
            let log = try String(contentsOf: try #require(h.filingProcess).logFile, encoding: .utf8)
            #expect(!log.contains(world.car) && !log.contains(h.admin))
            for row in rows { #expect(!log.contains(row.nationalID)) }
        }
    }

    @Test(
        """
        every declared-mutating method is on record, not only changes made through a stored answer: a refusal before the change's \
        transaction, and a new token (an answer never stored)
        """
    )
    func everyMutationOnRecord() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            // Refused before any transaction of the change: the registry knows no such certificate.
            let unknown = RegistryHarness.submission("ZZZ", year: RosterWorld.year)
            let refused = await h.refusal(Xcert_Filing_V1_FilingService.Method.submitFiling, unknown, token: world.car)
            #expect(refused != nil)
            // A token is made without an idempotency record (its answer is the secret itself).
            let principalID = try #require(try await h.scalar("SELECT min(id) FROM registry.principals", as: Int64.self))
            var create = Xcert_Registry_V1_CreateTokenRequest()
            create.principalID = principalID
            create.label = "audited"
            let made = try await h.call(Xcert_Registry_V1_PrincipalService.Method.createToken, create, token: h.admin)

            let entries = try await withRole("xcert_analyst", on: h.postgres) { connection in
                var entries: [(String, String, String, String)] = []
                let result = try await connection.query(
                    "SELECT service, method, targets, outcome FROM analytics.audit_log ORDER BY at, id",
                    logger: testLogger("audit")
                )
                for try await row in result.decode((String, String, String, String).self) { entries.append(row) }
                return entries
            }
            let refusal = entries.filter {
                $0.1 == Xcert_Filing_V1_FilingService.Method.submitFiling.name && $0.2.contains("certificate_code=ZZZ")
            }
            #expect(refusal.map(\.3) == [refused?.code.description ?? "?"], "\(refusal)")
            let token = entries.filter {
                $0.1 == Xcert_Registry_V1_PrincipalService.Method.createToken.name && $0.2.contains("label") == false
            }
            #expect(
                token.map(\.3) == ["OK"] && token.first?.0 == "registry" && token.first?.2 == "principal_id=\(principalID)",
                "\(token); \(entries.filter { $0.1.contains("Token") })")
            #expect(!entries.map { "\($0)" }.joined().contains(made.token))
        }
    }
}
