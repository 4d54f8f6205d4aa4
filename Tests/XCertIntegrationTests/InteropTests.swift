import Foundation
import PostgresNIO
import Testing
import XCertProto
import XCertStore
import XCertTestSupport
import XCertWire

/// The path of the built C client (outside the suite: its own traits read it).
private let interopClient = ProcessInfo.processInfo.environment["XCERT_INTEROP_CLIENT"].flatMap { $0.isEmpty ? nil : $0 }

/// The C client of `Tests/Interop/` (built by `scripts/test`, which names it in
/// `XCERT_INTEROP_CLIENT`) against a real registry and filing process: a program in
/// another language, written from docs/protocol.md and `proto/` alone, files through the wire
/// protocol with a token and an idempotency key and reads the result as an analyst.
@Suite(
    "Interop: a client in C speaks the wire protocol (framing, envelope, metadata, idempotency) and reads analytics.filings through libpq",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .enabled(if: interopClient != nil, "needs XCERT_INTEROP_CLIENT, the C client scripts/test builds (make -C Tests/Interop)"),
    .serialized, .timeLimit(.minutes(3))
)
struct InteropTests {
    @Test(
        """
        the C client files twice with one idempotency key (the same answer, one filing) and finds exactly one row in analytics.filings as \
        xcert_analyst
        """
    )
    func cClientFilesOnce() async throws {
        let client = try #require(interopClient)
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            try await h.openRound(year: 2020, number: 1)
            let filingPort = try #require(h.filingAddress?.port)

            // xcert_analyst logs in with the password `xctl admin analyst-login` keeps; the
            // role's password is the cluster's, so no other test changes it meanwhile.
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let key = "interop-\(UUID().uuidString)"
            let run = try await AnalystRoleLock.shared.withLock {
                let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("analyst-\(UUID().uuidString).password")
                    .path
                defer { try? FileManager.default.removeItem(atPath: passwordFile) }
                let login = try await runCommand(
                    xctl, ["admin", "analyst-login", "--out", passwordFile], environment: h.database.libpqEnvironment)
                try #require(login.status == 0, "\(login.output)")
                let password = try String(contentsOfFile: passwordFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                // The password goes by PGPASSWORD, not on the command line.
                let conninfo =
                    "host=\(h.database.host) port=\(h.database.port) dbname=\(h.database.database) user=xcert_analyst connect_timeout=10"
                return try await runCommand(
                    client,
                    [
                        "--filing", "127.0.0.1:\(filingPort)",
                        "--token", car,
                        "--pg", conninfo,
                        "--organization-id", String(seeded.carOrganization),
                        "--certificate-code", "AUTO",
                        "--year", "2020",
                        "--round", "1",
                        "--idempotency-key", key,
                    ], environment: ["PGPASSWORD": password, "PGPASSFILE": "/dev/null"])
            }
            #expect(run.status == 0, "xcert_interop exited \(run.status):\n\(run.output)")
            #expect(run.output.contains("the second answer is the first, byte for byte"), "\(run.output)")

            // From Swift too: one filing, version 1, the organization's; one stored key.
            #expect(try await h.filingCount == 1)
            var all = Xcert_Filing_V1_ListFilingsRequest()
            all.allVersions = true
            let filings = try await h.listFilings(all)
            #expect(
                filings.map { "\($0.organizationID) \($0.certificateCode) \($0.year) v\($0.version) \($0.state)" }
                    == ["\(seeded.carOrganization) AUTO 2020 v1 submitted"])
            #expect(try await h.scalar("SELECT count(*) FROM filing.idempotency_keys WHERE key = \(key)", as: Int64.self) == 1)
            let rows = try await withRole("xcert_analyst", on: h.postgres) { connection in
                let rows = try await connection.query(
                    """
                    SELECT filing_id
                    FROM analytics.filings
                    WHERE organization_id = \(seeded.carOrganization) AND certificate_code = 'AUTO' AND year = 2020
                    """,
                    logger: testLogger("interop")
                )
                var ids: [Int64] = []
                for try await id in rows.decode(Int64.self) { ids.append(id) }
                return ids
            }
            #expect(rows == filings.map(\.id))
        }
    }
}
