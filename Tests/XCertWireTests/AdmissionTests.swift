import Foundation
import Synchronization
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

/// A token check of fixed tokens, counting what it is asked: `Bearer <role>` is a principal
/// of that role; `limited` refuses every call at its rate limit.
private final class FixedTokens: CallAdmission {
    let authentications = Atomic<Int>(0)
    let limited: Bool

    init(limited: Bool = false) { self.limited = limited }

    func authenticate(_ call: RequestContext) async throws -> Principal {
        self.authentications.wrappingAdd(1, ordering: .relaxed)
        guard let header = call.metadata["authorization"], header.hasPrefix("Bearer "),
            let role = Principal.Role(rawValue: String(header.dropFirst("Bearer ".count)))
        else {
            throw RPCError(.unauthenticated, "no valid token")
        }
        return Principal(id: 1, name: "test \(role)", role: role, party: "4136010001")
    }

    func limit(_ principal: Principal, _ limitClass: MethodContract.LimitClass) throws {
        if self.limited { throw RPCError(.resourceExhausted, "over the limit", metadata: ["retry-after-ms": "1000"]) }
    }
}

/// The admission order of docs/protocol.md, pinned over real TCP against one in-process
/// server: metadata bounds, then the token, the declared roles and the rate limit, all
/// before the payload is decoded; then decoding and the bounds of every field; then the
/// handler, whose answer must fit in a frame.
@Suite("Admission: order and bounds", .timeLimit(.minutes(1)))
struct AdmissionTests {
    /// A real request type with nested lists and strings, bounded by the table from proto/.
    static let submit = "/test.v1.Admission/Submit"
    static let big = "/test.v1.Admission/Big"
    static let open = "/test.v1.Admission/Open"
    static let organizationsOnly = MethodContract(roles: [.organization], isMutating: true, limitClass: .write)

    final class Calls: Sendable {
        let handled = Atomic<Int>(0)
    }

    static func methods(_ calls: Calls) -> [RPCMethod] {
        [
            .unary(submit, contract: organizationsOnly, bounds: XCertRequestBounds.table) {
                (request: Xcert_Filing_V1_SubmitReportRequest, call: RequestContext) -> Xcert_Filing_V1_YearlyReport in
                calls.handled.wrappingAdd(1, ordering: .relaxed)
                var report = Xcert_Filing_V1_YearlyReport()
                report.year = request.year
                report.submittedBy = try call.caller().name
                return report
            },
            .unary(big, contract: organizationsOnly) { (request: Xcert_Health_V1_HealthCheckRequest, _: RequestContext) in
                var response = Xcert_Health_V1_HealthCheckResponse()
                response.detail = String(repeating: "大", count: Int(request.service) ?? 0)
                return response
            },
            .unary(open) { (request: Xcert_Health_V1_HealthCheckRequest, call: RequestContext) in
                var response = Xcert_Health_V1_HealthCheckResponse()
                response.detail = call.principal == nil ? "nobody" : "somebody"
                return response
            },
        ]
    }

    /// The status of one raw call: the payload's bytes as given, whatever they are.
    static func status(
        _ rpc: RPCClient, _ method: String, payload: Data = Data(), metadata: [String: String]
    ) async throws -> (RPCError.Code, Xcert_Wire_V1_Response) {
        let response = try await rpc.call(method, payload: payload, metadata: metadata)
        let code = response.hasStatus ? RPCError.Code(rawValue: response.status.code.rawValue)! : .ok
        return (code, response)
    }

    static let garbage = Data([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])

    @Test("no token, a wrong role or a caller past its limit is refused before the payload is decoded")
    func tokenRoleAndLimitBeforeDecoding() async throws {
        let calls = Calls()
        let tokens = FixedTokens()
        try await withTestServer(Self.methods(calls), admission: tokens) { _, port in
            let rpc = testClient(port: port)
            defer { Task { await rpc.close() } }
            // The payload does not parse: only a caller that may call learns that.
            #expect(try await Self.status(rpc, Self.submit, payload: Self.garbage, metadata: [:]).0 == .unauthenticated)
            #expect(
                try await Self.status(rpc, Self.submit, payload: Self.garbage, metadata: ["authorization": "Bearer nonsense"]).0
                    == .unauthenticated)
            let (denied, deniedResponse) = try await Self.status(
                rpc, Self.submit, payload: Self.garbage, metadata: ["authorization": "Bearer school"]
            )
            #expect(denied == .permissionDenied)
            #expect(deniedResponse.status.message.contains("organization"), "names the declared roles: \(deniedResponse.status.message)")
            #expect(
                try await Self.status(rpc, Self.submit, payload: Self.garbage, metadata: ["authorization": "Bearer organization"]).0
                    == .invalidArgument)
            #expect(calls.handled.load(ordering: .relaxed) == 0)

            var request = Xcert_Filing_V1_SubmitReportRequest()
            request.year = 2024
            let (ok, answer) = try await Self.status(
                rpc, Self.submit, payload: try request.serializedData(), metadata: ["authorization": "Bearer organization"]
            )
            #expect(ok == .ok)
            #expect(try Xcert_Filing_V1_YearlyReport(serializedBytes: answer.payload).submittedBy == "test organization")
            #expect(calls.handled.load(ordering: .relaxed) == 1)
        }
        try await withTestServer(Self.methods(calls), admission: FixedTokens(limited: true)) { _, port in
            let rpc = testClient(port: port)
            defer { Task { await rpc.close() } }
            let (code, response) = try await Self.status(
                rpc, Self.submit, payload: Self.garbage, metadata: ["authorization": "Bearer organization"])
            #expect(code == .resourceExhausted)
            #expect(response.metadata["retry-after-ms"] == "1000")
        }
    }

    @Test("a public method needs no token; a server without a token check refuses every other method")
    func publicMethods() async throws {
        let calls = Calls()
        let tokens = FixedTokens()
        try await withTestServer(Self.methods(calls), admission: tokens) { _, port in
            let rpc = testClient(port: port)
            defer { Task { await rpc.close() } }
            let (code, response) = try await Self.status(rpc, Self.open, metadata: ["authorization": "Bearer organization"])
            #expect(code == .ok)
            #expect(try Xcert_Health_V1_HealthCheckResponse(serializedBytes: response.payload).detail == "nobody")
            #expect(tokens.authentications.load(ordering: .relaxed) == 0, "a public method asks for no token")
        }
        try await withTestServer(Self.methods(calls), admission: nil) { _, port in
            let rpc = testClient(port: port)
            defer { Task { await rpc.close() } }
            let (open, _) = try await Self.status(rpc, Self.open, metadata: [:])
            let (submit, _) = try await Self.status(rpc, Self.submit, metadata: ["authorization": "Bearer organization"])
            #expect(open == .ok)
            #expect(submit == .unauthenticated, "a server without a token check serves only public methods")
        }
    }

    @Test("metadata out of bounds is INVALID_ARGUMENT before the token is looked at; a long request-id is neither echoed nor kept")
    func metadataBounds() async throws {
        let calls = Calls()
        let tokens = FixedTokens()
        try await withTestServer(Self.methods(calls), admission: tokens) { _, port in
            let rpc = testClient(port: port)
            defer { Task { await rpc.close() } }
            let longID = String(repeating: "r", count: 100_000)
            let (code, response) = try await Self.status(
                rpc, Self.submit, metadata: ["request-id": longID, "authorization": "Bearer organization"])
            #expect(code == .invalidArgument)
            #expect(response.status.fieldViolations.map(\.field) == ["metadata.request-id"])
            let echoed = response.metadata["request-id"] ?? ""
            #expect(!echoed.isEmpty && echoed.count <= 128 && echoed != longID, "the server's own request-id instead")

            var many: [String: String] = [:]
            for index in 0..<17 { many["key-\(index)"] = "v" }
            #expect(try await Self.status(rpc, Self.submit, metadata: many).0 == .invalidArgument)
            let cases: [[String: String]] = [
                ["authorization": "Bearer " + String(repeating: "a", count: 510)],
                [String(repeating: "k", count: 65): "v"],
                ["note": String(repeating: "v", count: 1025)],
                ["request-id": ""],
                ["request-id": "tab\tinside"],
                ["idempotency-key": String(repeating: "k", count: 129)],
            ]
            for metadata in cases {
                let (refused, answer) = try await Self.status(rpc, Self.submit, payload: Self.garbage, metadata: metadata)
                #expect(refused == .invalidArgument, "\(metadata.keys.first ?? "")")
                #expect(answer.status.fieldViolations.first?.field.hasPrefix("metadata") == true)
            }
            #expect(tokens.authentications.load(ordering: .relaxed) == 0, "no token was looked at")
            #expect(calls.handled.load(ordering: .relaxed) == 0)
            let (ok, _) = try await Self.status(
                rpc, Self.open,
                metadata: [
                    "request-id": String(repeating: "r", count: 128), "authorization": "Bearer " + String(repeating: "a", count: 505),
                ]
            )
            #expect(ok == .ok, "at the bounds is accepted")
        }
    }

    @Test("a NUL anywhere and a list over its declared maximum are INVALID_ARGUMENT naming the field's path; the handler never runs")
    func fieldBounds() async throws {
        let calls = Calls()
        try await withTestServer(Self.methods(calls), admission: FixedTokens()) { _, port in
            let rpc = testClient(port: port)
            defer { Task { await rpc.close() } }
            let organization = ["authorization": "Bearer organization"]

            var request = Xcert_Filing_V1_SubmitReportRequest()
            var fee = Xcert_Filing_V1_FeeLine()
            fee.certificateCode = "BIM"
            request.content.fees = [fee, fee]
            request.content.fees[1].certificateCode = "B\u{0}M"
            request.content.textbooks = [Xcert_Filing_V1_Textbook()]
            request.content.textbooks[0].authors = ["张三", "李\u{0}四"]
            let (code, response) = try await Self.status(rpc, Self.submit, payload: try request.serializedData(), metadata: organization)
            #expect(code == .invalidArgument)
            #expect(
                Set(response.status.fieldViolations.map(\.field)) == [
                    "content.fees[1].certificate_code", "content.textbooks[0].authors[1]",
                ])
            #expect(response.status.fieldViolations.allSatisfy { $0.description_p.contains("U+0000") })

            var long = Xcert_Filing_V1_SubmitReportRequest()
            long.content.sites = Array(repeating: Xcert_Filing_V1_SiteLine(), count: 201)
            let (tooMany, answer) = try await Self.status(rpc, Self.submit, payload: try long.serializedData(), metadata: organization)
            #expect(tooMany == .invalidArgument)
            #expect(answer.status.fieldViolations.map(\.field) == ["content.sites"])
            #expect(answer.status.fieldViolations.first?.description_p.contains("at most 200") == true)

            long.content.sites = Array(repeating: Xcert_Filing_V1_SiteLine(), count: 200)
            #expect(try await Self.status(rpc, Self.submit, payload: try long.serializedData(), metadata: organization).0 == .ok)
            #expect(calls.handled.load(ordering: .relaxed) == 1, "only the request within its bounds reached the handler")
        }
    }

    @Test("a status carries at most 100 field violations, the 100th saying how many were left out")
    func violationCap() async throws {
        try await withTestServer(Self.methods(Calls()), admission: FixedTokens()) { _, port in
            let rpc = testClient(port: port)
            defer { Task { await rpc.close() } }
            var request = Xcert_Filing_V1_SubmitReportRequest()
            var line = Xcert_Filing_V1_ExamLine()
            line.certificateCode = "\u{0}"
            request.content.exams = Array(repeating: line, count: 150)
            let (code, response) = try await Self.status(
                rpc, Self.submit, payload: try request.serializedData(), metadata: ["authorization": "Bearer organization"]
            )
            #expect(code == .invalidArgument)
            let violations = response.status.fieldViolations
            #expect(violations.count == 100)
            #expect(violations[98].field == "content.exams[98].certificate_code")
            #expect(violations[99].description_p.contains("51 more"), "\(violations[99])")
            #expect(response.status.message.count < 500, "the message names a few fields, not all")
        }
    }

    @Test("an answer over the frame limit is RESOURCE_EXHAUSTED saying how to ask for less; one just within it is sent")
    func answerBound() async throws {
        try await withTestServer(Self.methods(Calls()), admission: FixedTokens(), configure: { $0.maximumFrameLength = 64 * 1024 }) {
            _, port in
            let rpc = testClient(port: port)
            defer { Task { await rpc.close() } }
            let organization = ["authorization": "Bearer organization"]
            var request = Xcert_Health_V1_HealthCheckRequest()
            request.service = "30000"  // 90,000 bytes of UTF-8
            let (code, response) = try await Self.status(rpc, Self.big, payload: try request.serializedData(), metadata: organization)
            #expect(code == .resourceExhausted)
            #expect(response.status.message.contains("page"), "\(response.status.message)")
            request.service = "20000"  // 60,000 bytes
            #expect(try await Self.status(rpc, Self.big, payload: try request.serializedData(), metadata: organization).0 == .ok)
        }
    }
}
