import Foundation
import PostgresNIO
import SwiftProtobuf
import Testing
import XCertAPI
import XCertProto
import XCertStore
import XCertTestSupport
import XCertWire

@Suite(
    "Registry: principals and tokens", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"),
    .timeLimit(.minutes(3)))
struct PrincipalServiceTests {
    private func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ client: RPCClient, _ method: MethodDescriptor<Request, Response>, _ request: Request, token: String
    ) async throws -> Response {
        try await client.authorized(token: token).unary(method, request, options: CallOptions())
    }

    private func code(_ body: () async throws -> Void) async -> RPCError.Code? {
        do {
            try await body()
            return .ok
        } catch let error as RPCError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test(
        """
        an admin creates a school principal and its token through xctl; the token works, shows its role, and is refused admin methods; \
        revoked, it stops
        """
    )
    func lifecycle() async throws {
        try await withTestDatabase { database, postgres in
            let registry = try await ServiceProcess.start("registry", database: database)
            try await registry.waitForHealth(.serving)
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID().uuidString).token").path
            defer { try? FileManager.default.removeItem(atPath: tokenFile) }
            let bootstrap = try await runCommand(
                xctl, ["admin", "bootstrap-token", "--out", tokenFile], environment: database.libpqEnvironment)
            try #require(bootstrap.status == 0, "\(bootstrap.output)")
            let address = ["--registry", "127.0.0.1:\(registry.port)", "--token-file", tokenFile]
            // A principal acts for a school the registry knows.
            try await postgres.query(
                "INSERT INTO registry.cities VALUES ('360100', '南昌市')",
                logger: testLogger("principals")
            )
            try await postgres.query(
                """
                INSERT INTO registry.schools (code, name, type, city_code, specialty_count, enrolled_students)
                VALUES ('4136010001', '南昌职业大学', 'higher_vocational', '360100', 30, 12000)
                """,
                logger: testLogger("principals")
            )
            let unknown = try await runCommand(
                xctl, ["admin", "principal", "create", "--role", "school", "--name", "无此学校", "--party", "4136019999"] + address)
            #expect(unknown.status == 1)
            #expect(unknown.output.contains("there is no school 4136019999"), "\(unknown.output)")

            let created = try await runCommand(
                xctl, ["admin", "principal", "create", "--role", "school", "--name", "南昌职业大学", "--party", "4136010001"] + address)
            try #require(created.status == 0, "\(created.output)")
            // "created principal 7: 南昌职业大学 (school of 4136010001)"
            let principalID = try #require(
                created.output.split(separator: " ").dropFirst(2).first.flatMap { Int64($0.dropLast()) }, "\(created.output)")
            let issued = try await runCommand(
                xctl, ["admin", "token", "create", "--principal", "\(principalID)", "--label", "school portal"] + address)
            try #require(issued.status == 0, "\(issued.output)")
            // The token on standard output, the notice about it on standard error (both captured).
            let schoolToken = try #require(
                issued.output.split(separator: "\n").first { $0.hasPrefix("xct_") }.map(String.init), "\(issued.output)")
            #expect(issued.output.contains("shown this once"))

            let client = testClient(port: registry.port)
            // A token for 30 days expires 30 days from now, and works until then.
            var expiring = Xcert_Registry_V1_CreateTokenRequest()
            expiring.principalID = principalID
            expiring.label = "30 days"
            expiring.validDays = 30
            let admin = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let made = try await self.call(client, Xcert_Registry_V1_PrincipalService.Method.createToken, expiring, token: admin)
            let lifetime = made.info.expiresAt.seconds - made.info.createdAt.seconds
            #expect(lifetime == 30 * 86_400, "expires \(lifetime) s after it was made")
            #expect(
                try await self.call(
                    client, Xcert_Registry_V1_PrincipalService.Method.whoAmI, Xcert_Registry_V1_WhoAmIRequest(), token: made.token
                ).party == "4136010001")
            let me = try await self.call(
                client, Xcert_Registry_V1_PrincipalService.Method.whoAmI, Xcert_Registry_V1_WhoAmIRequest(), token: schoolToken)
            #expect(me.role == .school)
            #expect(me.party == "4136010001")
            #expect(me.name == "南昌职业大学")
            #expect(
                await self.code {
                    _ = try await self.call(
                        client, Xcert_Registry_V1_PrincipalService.Method.listTokens, Xcert_Registry_V1_ListTokensRequest(),
                        token: schoolToken)
                } == .permissionDenied)

            // The list shows the token's record, never the token; the database holds its hash only.
            let listed = try await runCommand(xctl, ["admin", "token", "list", "--principal", "\(principalID)"] + address)
            #expect(listed.status == 0)
            #expect(listed.output.contains("school portal"))
            #expect(!listed.output.contains(schoolToken))
            #expect(
                try await postgres.scalar(
                    "SELECT count(*) FROM registry.tokens WHERE token_sha256 = sha256(convert_to(\(schoolToken), 'UTF8'))", as: Int.self)
                    == 1)
            #expect(
                try await postgres.scalar(
                    "SELECT count(*) FROM registry.idempotency_keys WHERE position(\(schoolToken) IN encode(response, 'escape')) > 0",
                    as: Int.self) == 0)

            let tokenID = try #require(
                try await postgres.scalar(
                    "SELECT id FROM registry.tokens WHERE principal_id = \(principalID) AND label = 'school portal'", as: Int64.self))
            let revoked = try await runCommand(xctl, ["admin", "token", "revoke", "\(tokenID)", "--reason", "left the pilot"] + address)
            #expect(revoked.status == 0, "\(revoked.output)")
            // Accepted answers may come only from calls begun within the 5 s of the cache.
            let start = ContinuousClock.now
            var refused = false
            var lastAcceptedStart = Duration.zero
            while !refused && ContinuousClock.now - start < .seconds(30) {
                let started = ContinuousClock.now - start
                refused =
                    await self.code {
                        _ = try await self.call(
                            client, Xcert_Registry_V1_PrincipalService.Method.whoAmI, Xcert_Registry_V1_WhoAmIRequest(), token: schoolToken)
                    } == .unauthenticated
                if !refused {
                    lastAcceptedStart = started
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(lastAcceptedStart < .milliseconds(5200), "a call begun \(lastAcceptedStart) after revocation was still accepted")
            #expect(refused, "a revoked token must stop working within 5 seconds")
            await client.close()
            #expect(try await registry.terminate() == 0)
        }
    }

    @Test("bad input: every wrong field is named, and nothing is created")
    func validation() async throws {
        try await withTestDatabase { database, postgres in
            let registry = try await ServiceProcess.start("registry", database: database)
            try await registry.waitForHealth(.serving)
            let admin = try await self.adminToken(postgres)
            let client = testClient(port: registry.port)

            var request = Xcert_Registry_V1_CreatePrincipalRequest()
            request.name = "  "
            request.role = .school
            request.party = "12"
            do {
                _ = try await self.call(client, Xcert_Registry_V1_PrincipalService.Method.createPrincipal, request, token: admin)
                Issue.record("accepted an empty name and a 2-digit school code")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(Set(error.fieldViolations.map(\.field)) == ["name", "party"])
            }
            request = Xcert_Registry_V1_CreatePrincipalRequest()
            request.name = "someone"
            do {
                _ = try await self.call(client, Xcert_Registry_V1_PrincipalService.Method.createPrincipal, request, token: admin)
                Issue.record("accepted a principal without a role")
            } catch let error as RPCError {
                #expect(error.fieldViolations.map(\.field) == ["role"])
            }
            var token = Xcert_Registry_V1_CreateTokenRequest()
            token.principalID = 999_999
            #expect(
                await self.code {
                    _ = try await self.call(client, Xcert_Registry_V1_PrincipalService.Method.createToken, token, token: admin)
                } == .notFound)
            token.validDays = -1
            #expect(
                await self.code {
                    _ = try await self.call(client, Xcert_Registry_V1_PrincipalService.Method.createToken, token, token: admin)
                } == .invalidArgument)
            // A key would promise a stored answer, and the answer is the token: refused.
            token = Xcert_Registry_V1_CreateTokenRequest()
            token.principalID = 1
            do {
                _ = try await client.authorized(token: admin).unary(
                    Xcert_Registry_V1_PrincipalService.Method.createToken, token, options: CallOptions(idempotencyKey: "k1")
                )
                Issue.record("CreateToken accepted an idempotency-key")
            } catch let error as RPCError {
                #expect(error.fieldViolations.map(\.field) == ["metadata.idempotency-key"])
            }
            #expect(try await postgres.scalar("SELECT count(*) FROM registry.principals", as: Int.self) == 1)
            #expect(try await postgres.scalar("SELECT count(*) FROM registry.tokens", as: Int.self) == 1)
            await client.close()
            _ = try await registry.terminate()
        }
    }

    @Test("lists come in pages; a retried create with the same key creates one principal")
    func pagingAndIdempotency() async throws {
        try await withTestDatabase { database, postgres in
            let registry = try await ServiceProcess.start("registry", database: database)
            try await registry.waitForHealth(.serving)
            let admin = try await self.adminToken(postgres)
            let client = testClient(port: registry.port)
            try await postgres.query(
                "INSERT INTO registry.cities VALUES ('360100', '南昌市'), ('360200', '景德镇市'), ('360300', '萍乡市')",
                logger: testLogger("principals")
            )
            var create = Xcert_Registry_V1_CreatePrincipalRequest()
            create.role = .cityReviewer
            for city in ["360100", "360200", "360300"] {
                create.name = "reviewer \(city)"
                create.party = city
                let options = CallOptions(idempotencyKey: "reviewer-\(city)")
                let first = try await client.authorized(token: admin).unary(
                    Xcert_Registry_V1_PrincipalService.Method.createPrincipal, create, options: options)
                let retry = try await client.authorized(token: admin).unary(
                    Xcert_Registry_V1_PrincipalService.Method.createPrincipal, create, options: options)
                #expect(first == retry)
            }
            var list = Xcert_Registry_V1_ListPrincipalsRequest()
            list.role = .cityReviewer
            list.page.pageSize = 2
            let first = try await self.call(client, Xcert_Registry_V1_PrincipalService.Method.listPrincipals, list, token: admin)
            #expect(first.principals.map(\.party) == ["360100", "360200"])
            #expect(!first.page.nextPageToken.isEmpty)
            list.page.pageToken = first.page.nextPageToken
            let second = try await self.call(client, Xcert_Registry_V1_PrincipalService.Method.listPrincipals, list, token: admin)
            #expect(second.principals.map(\.party) == ["360300"])
            #expect(second.page.nextPageToken.isEmpty)
            list.page.pageToken = "not-a-token"
            #expect(
                await self.code {
                    _ = try await self.call(client, Xcert_Registry_V1_PrincipalService.Method.listPrincipals, list, token: admin)
                } == .invalidArgument)
            await client.close()
            _ = try await registry.terminate()
        }
    }

    /// A province-admin token made straight in the database.
    private func adminToken(_ postgres: PostgresClient) async throws -> String {
        let token = "xct_test_\(UUID().uuidString)"
        let logger = testLogger("principals")
        try await postgres.query(
            """
            WITH p AS (INSERT INTO registry.principals (name, role) VALUES ('admin', 'province_admin') RETURNING id)
            INSERT INTO registry.tokens (principal_id, token_sha256) SELECT id, sha256(convert_to(\(token), 'UTF8')) FROM p
            """,
            logger: logger
        )
        return token
    }
}
