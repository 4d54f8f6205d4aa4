import Foundation
import NIOCore
import SwiftProtobuf
import Testing
import XCertAPI
import XCertProto
import XCertWire
import XCertWireFuzzing

/// The wire fuzzer's inputs replayed without libFuzzer (scripts/fuzz runs the fuzzer itself):
/// the seed corpus and every input it ever crashed on, through the same `WireFuzzTarget`.
@Suite("Wire fuzzing: corpus and crashes replayed")
struct WireFuzzRegressionTests {
    /// Fuzz/ of this checkout.
    static let fuzzFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// The files of Fuzz/`folder`, by name (not README.md nor hidden files).
    static func inputs(in folder: String) throws -> [(name: String, bytes: [UInt8])] {
        let directory = self.fuzzFolder.appendingPathComponent(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { !$0.hasPrefix(".") && $0 != "README.md" }
            .sorted()
        return try names.map { name in
            (name: name, bytes: [UInt8](try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    @Test("every input of Fuzz/corpus and Fuzz/crashes replays: nothing traps, one outcome per frame")
    func replayEveryInput() throws {
        let inputs = try Self.inputs(in: "corpus") + Self.inputs(in: "crashes")
        #expect(inputs.count > 100)
        for input in inputs {
            let run = try WireFuzzTarget.run(input.bytes)
            #expect(run.problems.isEmpty, "\(input.name): \(run.problems)")
            #expect(run.frames == WireFuzzTarget.plainFrames(of: input.bytes), "\(input.name)")
            let closing = run.frames.firstIndex { if case .oversized = $0 { true } else { false } }
            #expect(run.outcomes.count == closing.map { $0 + 1 } ?? run.frames.count, "\(input.name)")
        }
    }

    @Test("the committed corpus is the one proto/ gives (scripts/fuzz --write-corpus)")
    func corpusIsCurrent() throws {
        let committed = try Dictionary(uniqueKeysWithValues: Self.inputs(in: "corpus").map { ($0.name, $0.bytes) })
        let generated = Dictionary(uniqueKeysWithValues: WireFuzzSeeds.files.map { ($0.name, $0.bytes) })
        #expect(Set(committed.keys) == Set(generated.keys), "run scripts/fuzz --write-corpus after changing proto/")
        for (name, bytes) in generated where committed[name] != nil {
            #expect(committed[name] == bytes, "\(name) differs; run scripts/fuzz --write-corpus")
        }
    }

    @Test("the corpus reaches every rpc of proto/ with a parsed payload, and every kind of answer")
    func corpusCoversEveryMethod() throws {
        var handled: Set<String> = []
        var answers: Set<WireFuzzOutcome> = []
        var closed = 0
        for input in try Self.inputs(in: "corpus") {
            for outcome in try WireFuzzTarget.run(input.bytes).outcomes {
                switch outcome {
                case .handled(_, let method): handled.insert(method)
                case .answered: answers.insert(outcome)
                case .closed: closed += 1
                }
            }
        }
        #expect(handled == Set(EveryMethod.declarations.map(\.name)))
        let codes = Set(
            answers.compactMap { outcome -> String? in
                guard case .answered(let id, let error) = outcome else { return nil }
                return "\(id == 0 ? "connection" : "request") \(error.code)"
            })
        #expect(codes == ["connection INVALID_ARGUMENT", "request UNIMPLEMENTED", "request INVALID_ARGUMENT"])
        #expect(closed == 4)
    }

    @Test("the fuzzing table holds every rpc of proto/ with its generated types")
    func everyMethod() throws {
        let declarations = EveryMethod.declarations
        #expect(declarations.count > 100)
        #expect(Set(declarations.map(\.name)).count == declarations.count)
        let health = try #require(EveryMethod.table[Xcert_Health_V1_Health.Method.check.name])
        #expect(health.requestType == Xcert_Health_V1_HealthCheckRequest.protoMessageName)
        #expect(health.responseType == Xcert_Health_V1_HealthCheckResponse.protoMessageName)
        for declaration in declarations {
            #expect(EveryMethod.table[declaration.name]?.requestType == declaration.requestType)
        }
    }
}

/// The server's own admission steps (`RequestAdmission`, `RPCMethod.parseRequest`), which
/// RPCServer and the fuzzer share.
@Suite("Request admission")
struct RequestAdmissionTests {
    private static let methods = MethodTable([TestService()])

    private struct TestService: RPCService {
        var methods: [RPCMethod] {
            [
                .unary(TestMethods.echo) { (request: Xcert_Health_V1_HealthCheckRequest, _) in
                    var response = Xcert_Health_V1_HealthCheckResponse()
                    response.detail = request.service
                    return response
                }
            ]
        }
    }

    private func body(_ request: Xcert_Wire_V1_Request) throws -> ByteBuffer {
        ByteBuffer(bytes: try request.serializedBytes() as [UInt8])
    }

    @Test("bytes that are no Request: INVALID_ARGUMENT for the connection")
    func notARequest() {
        #expect(throws: RPCError(.invalidArgument, "frame does not parse as xcert.wire.v1.Request")) {
            try RequestAdmission.envelope(from: ByteBuffer(bytes: [0xff, 0xff, 0xff]))
        }
    }

    @Test("id 0 (and so an empty frame): INVALID_ARGUMENT naming the id")
    func idZero() throws {
        var request = Xcert_Wire_V1_Request()
        request.method = TestMethods.echo
        for body in [try self.body(request), ByteBuffer()] {
            do throws(RPCError) {
                _ = try RequestAdmission.envelope(from: body)
                Issue.record("id 0 was admitted")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.fieldViolations.map(\.field) == ["id"])
            }
        }
    }

    @Test("an unknown method: UNIMPLEMENTED naming it; a known one is found")
    func methodLookup() throws {
        var request = Xcert_Wire_V1_Request()
        request.id = 3
        request.method = "/test.v1.Test/Nothing"
        let envelope = try RequestAdmission.envelope(from: try self.body(request))
        #expect(throws: RPCError(.unimplemented, "method /test.v1.Test/Nothing is not served here")) {
            try RequestAdmission.method(for: envelope, in: Self.methods)
        }
        request.method = TestMethods.echo
        #expect(try RequestAdmission.method(for: request, in: Self.methods).name == TestMethods.echo)
    }

    @Test("a payload is parsed as the method's request type, or refused INVALID_ARGUMENT")
    func parseRequest() throws {
        let method = try #require(Self.methods[TestMethods.echo])
        let parsed = try method.parseRequest(try TestMethods.request("x").serializedData())
        #expect((parsed as? Xcert_Health_V1_HealthCheckRequest)?.service == "x")
        do throws(RPCError) {
            _ = try method.parseRequest(Data([0x0a, 0x05, 0x41]))
            Issue.record("a truncated payload parsed")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.hasPrefix("payload does not parse as xcert.health.v1.HealthCheckRequest"))
        }
    }
}
