import Foundation
import Testing
import XCertService
import XCertStore
import XCertTestSupport
import XCertWire

/// What guessing tokens costs the service: an unknown token is looked up at most once per
/// ``Authenticator/missLifetime``, and calls without a valid token are limited per address.
@Suite("Token guessing", .timeLimit(.minutes(2)))
struct TokenGuessingTests {
    static func call(_ token: String, from address: String = "192.0.2.7") -> RequestContext {
        RequestContext(
            method: "/test.v1.Test/Call", metadata: ["authorization": "Bearer \(token)"], deadline: .now + .seconds(20),
            requestID: "token-guessing", peer: "\(address):4242", clientAddress: address, logger: testLogger("tokens")
        )
    }

    @Test("an unknown token is remembered as unknown for a moment: a token made meanwhile works once that has passed")
    func missesRemembered() async throws {
        try await withTestDatabase { configuration, client in
            let authenticator = Authenticator(database: Database(client: client, configuration: configuration))
            let token = "xct_test_\(UUID().uuidString)"
            let first = await rpcRefusal { _ = try await authenticator.authenticate(Self.call(token)) }
            #expect(first?.code == .unauthenticated)
            // The token comes to exist; the miss is still remembered, so the database is not asked.
            _ = try await makeToken(client, role: "school", party: "3601000001", name: "某学校", token: token)
            let asked = ContinuousClock.now
            let again = await rpcRefusal { _ = try await authenticator.authenticate(Self.call(token)) }
            if ContinuousClock.now - asked < Authenticator.missLifetime - .milliseconds(200) {
                #expect(again?.code == .unauthenticated, "the miss was not remembered")
            }
            try await Task.sleep(for: Authenticator.missLifetime + .milliseconds(100))
            let principal = try await authenticator.authenticate(Self.call(token))
            #expect(principal.role == .school)
        }
    }

    @Test("calls without a valid token are limited per address; another address, and a valid token, are not affected")
    func limitedPerAddress() async throws {
        try await withTestDatabase { configuration, client in
            let limits = CallLimits(CallLimitConfiguration(unauthenticatedPerSecond: 0.1, unauthenticatedBurst: 2))
            let authenticator = Authenticator(database: Database(client: client, configuration: configuration), limits: limits)
            let valid = try await makeToken(client, role: "organization", party: "1", name: "某组织")
            let codes = await (0..<3).asyncMap { index in
                await rpcRefusal { _ = try await authenticator.authenticate(Self.call("xct_guess_\(index)")) }?.code
            }
            #expect(codes == [.unauthenticated, .unauthenticated, .resourceExhausted])
            #expect(
                await rpcRefusal { _ = try await authenticator.authenticate(Self.call("xct_guess_x", from: "192.0.2.8")) }?.code
                    == .unauthenticated)
            let principal = try await authenticator.authenticate(Self.call(valid))
            #expect(principal.role == .organization, "a valid token from the same address still works")
        }
    }
}

extension Sequence where Element: Sendable {
    /// `transform` of each element in turn.
    fileprivate func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var result: [T] = []
        for element in self { result.append(await transform(element)) }
        return result
    }
}
