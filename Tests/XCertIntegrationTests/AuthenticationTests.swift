import Foundation
import PostgresNIO
import Testing
import XCertProto
import XCertService
import XCertStore
import XCertTestSupport
import XCertWire

@Suite("Token check", .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(2)))
struct AuthenticationTests {
    static let adminOnly = "/test.v1.Auth/AdminOnly"

    /// Creates a principal with one token, straight in the database; returns the token.
    private func token(role: String, party: String?, client: PostgresClient) async throws -> String {
        let (token, digest) = Authenticator.newToken()
        let logger = testLogger("auth")
        let rows = try await client.query(
            "INSERT INTO registry.principals (name, role, party) VALUES (\(role + " user"), \(role), \(party)) RETURNING id", logger: logger
        )
        var id: Int64 = 0
        for try await value in rows.decode(Int64.self) { id = value }
        try await client.query("INSERT INTO registry.tokens (principal_id, token_sha256) VALUES (\(id), \(digest))", logger: logger)
        return token
    }

    private func methods(_ authenticator: Authenticator) -> [RPCMethod] {
        [
            .unary(Self.adminOnly, contract: MethodContract(roles: [.provinceAdmin], isMutating: false, limitClass: .read)) {
                (_: Xcert_Health_V1_HealthCheckRequest, context) in
                let principal = try context.caller()
                var response = Xcert_Health_V1_HealthCheckResponse()
                response.detail = "\(principal.role) \(principal.name)"
                return response
            }
        ]
    }

    private func code(_ rpc: RPCClient, _ metadata: [String: String]) async throws -> RPCError.Code {
        let response = try await rpc.call(Self.adminOnly, payload: Data(), metadata: metadata)
        return response.hasStatus ? RPCError.Code(rawValue: response.status.code.rawValue)! : .ok
    }

    @Test("missing, malformed and unknown tokens are UNAUTHENTICATED; a wrong role is PERMISSION_DENIED")
    func refusals() async throws {
        try await withTestDatabase { configuration, client in
            let admin = try await self.token(role: "province_admin", party: nil, client: client)
            let school = try await self.token(role: "school", party: "4136010001", client: client)
            let authenticator = Authenticator(database: Database(client: client, configuration: configuration))
            try await withTestServer(self.methods(authenticator), admission: authenticator) { _, port in
                let rpc = testClient(port: port)
                #expect(try await self.code(rpc, [:]) == .unauthenticated)
                #expect(try await self.code(rpc, ["authorization": admin]) == .unauthenticated)
                #expect(try await self.code(rpc, ["authorization": "Bearer "]) == .unauthenticated)
                #expect(try await self.code(rpc, ["authorization": "Bearer xct_unknown"]) == .unauthenticated)
                #expect(try await self.code(rpc, ["authorization": "Bearer \(school)"]) == .permissionDenied)
                let answer = try await rpc.unary(
                    Self.adminOnly, Xcert_Health_V1_HealthCheckRequest(), as: Xcert_Health_V1_HealthCheckResponse.self,
                    metadata: ["authorization": "Bearer \(admin)"]
                )
                #expect(answer.detail == "province_admin province_admin user")
                await rpc.close()
            }
        }
    }

    @Test("only the SHA-256 of a token is stored")
    func onlyHashesStored() async throws {
        try await withTestDatabase { configuration, client in
            let token = try await self.token(role: "province_admin", party: nil, client: client)
            let stored = try await client.scalar("SELECT token_sha256 FROM registry.tokens", as: Data.self)
            #expect(stored == Authenticator.digest(of: token))
            #expect(stored?.count == 32)
            let found = try await client.scalar(
                "SELECT count(*) FROM registry.tokens WHERE encode(token_sha256, 'escape') LIKE \("%" + token + "%")", as: Int.self
            )
            #expect(found == 0)
        }
    }

    @Test("a revoked token stops working within 5 seconds")
    func revocation() async throws {
        try await withTestDatabase { configuration, client in
            let admin = try await self.token(role: "province_admin", party: nil, client: client)
            let authenticator = Authenticator(database: Database(client: client, configuration: configuration))
            try await withTestServer(self.methods(authenticator), admission: authenticator) { _, port in
                let rpc = testClient(port: port)
                let metadata = ["authorization": "Bearer \(admin)"]
                #expect(try await self.code(rpc, metadata) == .ok)  // now cached
                try await client.query("UPDATE registry.tokens SET revoked_at = now()", logger: testLogger("auth"))
                let revoked = ContinuousClock.now
                // A call may be answered from the cache only if it began within the 5 s
                // (plus a little for the revocation's own commit); how long the answers take
                // on a busy machine does not matter.
                var lastAcceptedStart = Duration.zero
                while ContinuousClock.now - revoked < .seconds(30) {
                    let started = ContinuousClock.now - revoked
                    guard try await self.code(rpc, metadata) == .ok else { break }
                    lastAcceptedStart = started
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(lastAcceptedStart < .milliseconds(5200), "a call begun \(lastAcceptedStart) after revocation was still accepted")
                #expect(try await self.code(rpc, metadata) == .unauthenticated)
                await rpc.close()
            }
        }
    }

    @Test("an expired token is refused")
    func expiry() async throws {
        try await withTestDatabase { configuration, client in
            let admin = try await self.token(role: "province_admin", party: nil, client: client)
            try await client.query("UPDATE registry.tokens SET expires_at = now() - interval '1 second'", logger: testLogger("auth"))
            let authenticator = Authenticator(database: Database(client: client, configuration: configuration))
            try await withTestServer(self.methods(authenticator), admission: authenticator) { _, port in
                let rpc = testClient(port: port)
                let code = try await self.code(rpc, ["authorization": "Bearer \(admin)"])
                #expect(code == .unauthenticated)
                await rpc.close()
            }
        }
    }
}
