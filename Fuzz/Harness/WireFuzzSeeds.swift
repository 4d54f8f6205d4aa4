import Foundation
import SwiftProtobuf
import XCertAPI
import XCertProto
import XCertWire

/// The wire fuzzer's seed corpus (`Fuzz/corpus/`), made from `proto/`: each file is the byte
/// stream of one connection.
///
/// For every rpc, two frames: a request whose payload sets every field of the request
/// message (nested messages three levels deep, two elements in each repeated field, one
/// member of each oneof), with metadata and a timeout, then the same method with an empty
/// payload. Then the edges of docs/protocol.md, in files named `edge-…`: a zero-length frame,
/// id 0, an unknown method, bytes that are no `Request`, a payload that does not parse,
/// unknown fields, partial frames, oversized headers (and what follows them), an HTTP
/// request, pipelined frames.
public enum WireFuzzSeeds {
    /// Every seed file, by name, sorted. The same bytes on every run.
    public static var files: [(name: String, bytes: [UInt8])] {
        var files = EveryMethod.declarations.map { declaration in
            (name: String(declaration.name.dropFirst()).replacingOccurrences(of: "/", with: "."), bytes: self.seed(for: declaration))
        }
        files += self.edges
        return files.sorted { $0.name < $1.name }
    }

    /// Writes every seed file into `directory`, made if missing.
    public static func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in self.files {
            try Data(file.bytes).write(to: directory.appendingPathComponent(file.name))
        }
    }

    private static func seed(for declaration: EveryMethod.Declaration) -> [UInt8] {
        let payload = SamplePayload().canonicalBytes(of: declaration.requestType)
        return self.frame(
            id: 1, method: declaration.name, payload: payload,
            metadata: ["authorization": "Bearer fuzz-token", "request-id": "fuzz-1"], timeoutMs: 5000
        ) + self.frame(id: 2, method: declaration.name)
    }

    // MARK: - The edges

    private static let health = Xcert_Health_V1_Health.Method.check.name
    private static let reflection = Xcert_Reflection_V1_Reflection.Method.listMethods.name

    private static var edges: [(name: String, bytes: [UInt8])] {
        var healthCheck = Xcert_Health_V1_HealthCheckRequest()
        healthCheck.service = "registry"
        let healthPayload: [UInt8] = (try? healthCheck.serializedBytes()) ?? []
        let oneHealthCheck = self.frame(id: 1, method: self.health, payload: healthPayload)
        // Field 99 (varint 1) is in no message of proto/.
        let unknownField: [UInt8] = [0x98, 0x06, 0x01]
        var unknownEnvelope = self.envelope(id: 11, method: self.health, payload: healthPayload + unknownField)
        unknownEnvelope += unknownField
        let nothing = "/xcert.nothing.v1.Nothing/Nothing"
        var edges: [(name: String, bytes: [UInt8])] = []
        edges.append(("edge-empty-stream", []))
        edges.append(("edge-zero-length-frame", [0, 0, 0, 0]))
        edges.append(("edge-id-zero", self.frame(id: 0, method: self.health, payload: healthPayload)))
        edges.append(("edge-unknown-method", self.frame(id: 7, method: nothing)))
        edges.append(("edge-no-method", self.frame(id: 8, method: "")))
        edges.append(("edge-not-a-request", self.framed([0xff, 0xff, 0xff, 0xff])))
        // Field 1 (service) announces 5 bytes and has 1; then a string that is no UTF-8.
        edges.append(("edge-payload-truncated", self.frame(id: 9, method: self.health, payload: [0x0a, 0x05, 0x41])))
        edges.append(("edge-payload-invalid-utf8", self.frame(id: 10, method: self.health, payload: [0x0a, 0x02, 0xc3, 0x28])))
        edges.append(("edge-unknown-fields", self.framed(unknownEnvelope)))
        let largest = self.frame(
            id: .max, method: self.health, payload: healthPayload,
            metadata: ["idempotency-key": "k", "request-id": ""], timeoutMs: .max
        )
        edges.append(("edge-largest-id-and-timeout", largest))
        var pipelined = oneHealthCheck
        pipelined += self.frame(id: 2, method: self.reflection)
        pipelined += self.frame(id: 3, method: nothing)
        pipelined += self.frame(id: 0, method: self.health)
        pipelined += oneHealthCheck  // the same id again
        edges.append(("edge-pipelined", pipelined))
        edges.append(("edge-partial-frame", oneHealthCheck + [0, 0, 0, 100] + [UInt8](repeating: 0x0a, count: 10)))
        edges.append(("edge-partial-header", oneHealthCheck + [0, 0]))
        // 4 MiB + 1, then a frame the server never reads.
        edges.append(("edge-oversized-header", [0x00, 0x40, 0x00, 0x01] + oneHealthCheck))
        edges.append(("edge-frame-then-oversized", oneHealthCheck + [0xff, 0xff, 0xff, 0xff] + oneHealthCheck))
        // Exactly 4 MiB is allowed: the body is awaited, and the stream ends first.
        edges.append(("edge-limit-header-then-eof", [0x00, 0x40, 0x00, 0x00] + [UInt8](repeating: 0, count: 16)))
        edges.append(("edge-2gib-header", [0x80, 0, 0, 0]))
        edges.append(("edge-http-get", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
        return edges
    }

    // MARK: - Frames

    private static func frame(
        id: UInt64,
        method: String,
        payload: [UInt8] = [],
        metadata: [String: String] = [:],
        timeoutMs: UInt32 = 0
    ) -> [UInt8] {
        self.framed(self.envelope(id: id, method: method, payload: payload, metadata: metadata, timeoutMs: timeoutMs))
    }

    private static func envelope(
        id: UInt64,
        method: String,
        payload: [UInt8],
        metadata: [String: String] = [:],
        timeoutMs: UInt32 = 0
    ) -> [UInt8] {
        var request = Xcert_Wire_V1_Request()
        request.id = id
        request.method = method
        request.payload = Data(payload)
        request.metadata = metadata
        request.timeoutMs = timeoutMs
        do {
            return try request.serializedBytes(options: WireFuzzTarget.deterministic)
        } catch {
            preconditionFailure("a request of our own making does not serialize: \(error)")
        }
    }

    private static func framed(_ body: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(body.count).bigEndian) { Array($0) } + body
    }
}

/// A payload that sets every field of a message of `proto/`, written from its descriptor
/// in the protobuf binary format, then read and written again by its generated type (so
/// the seed is what a real client's library would send).
struct SamplePayload {
    private let index = ProtoIndex.shared
    private static let maximumDepth = 3

    func canonicalBytes(of typeName: String) -> [UInt8] {
        guard let type = XCertMessageTypes.byName[typeName] else {
            preconditionFailure("no generated type for \(typeName); run scripts/gen-proto")
        }
        return Self.canonical(self.bytes(of: typeName, depth: 0), as: type)
    }

    private static func canonical<Message: SwiftProtobuf.Message>(_ bytes: [UInt8], as _: Message.Type) -> [UInt8] {
        do {
            return try Message(serializedBytes: bytes).serializedBytes(options: WireFuzzTarget.deterministic)
        } catch {
            preconditionFailure("the sample of \(Message.protoMessageName) does not parse: \(error)")
        }
    }

    private func bytes(of typeName: String, depth: Int) -> [UInt8] {
        guard let message = self.index.messages[typeName] else {
            preconditionFailure("\(typeName) is not in XCertDescriptorSet")
        }
        var out = Writer()
        var oneofsSet: Set<Int32> = []
        for field in message.field {
            if field.hasOneofIndex, !field.proto3Optional, !oneofsSet.insert(field.oneofIndex).inserted {
                continue  // one member of each oneof
            }
            let number = UInt64(field.number)
            for element in 0..<(field.label == .repeated ? 2 : 1) {
                let value = number + UInt64(element)
                switch field.type {
                case .message:
                    guard depth < Self.maximumDepth else { break }
                    out.lengthDelimited(number, self.bytes(of: ProtoIndex.typeName(field.typeName), depth: depth + 1))
                case .group:
                    break  // not in proto3
                case .string:
                    out.lengthDelimited(number, Array("\(field.name) \(element) 江西".utf8))
                case .bytes:
                    out.lengthDelimited(number, [0x00, 0xff, UInt8(truncatingIfNeeded: value)])
                case .bool:
                    out.varint(number, 1)
                case .enum:
                    let values = self.index.enums[ProtoIndex.typeName(field.typeName)]?.value.map(\.number).filter { $0 != 0 } ?? []
                    let chosen = values.isEmpty ? 0 : values[element % values.count]
                    out.varint(number, UInt64(bitPattern: Int64(chosen)))
                case .int32, .int64, .uint32, .uint64:
                    out.varint(number, value)
                case .sint32, .sint64:
                    out.varint(number, value << 1)  // zigzag of a positive value
                case .fixed64, .sfixed64:
                    out.fixed64(number, value)
                case .double:
                    out.fixed64(number, (Double(value) + 0.25).bitPattern)
                case .fixed32, .sfixed32:
                    out.fixed32(number, UInt32(truncatingIfNeeded: value))
                case .float:
                    out.fixed32(number, (Float(value) + 0.25).bitPattern)
                }
            }
        }
        return out.bytes
    }

    /// The protobuf binary format, just what the samples need.
    private struct Writer {
        var bytes: [UInt8] = []

        mutating func varint(_ number: UInt64, _ value: UInt64) {
            self.raw(number << 3 | 0)
            self.raw(value)
        }

        mutating func fixed64(_ number: UInt64, _ value: UInt64) {
            self.raw(number << 3 | 1)
            withUnsafeBytes(of: value.littleEndian) { self.bytes += $0 }
        }

        mutating func lengthDelimited(_ number: UInt64, _ value: [UInt8]) {
            self.raw(number << 3 | 2)
            self.raw(UInt64(value.count))
            self.bytes += value
        }

        mutating func fixed32(_ number: UInt64, _ value: UInt32) {
            self.raw(number << 3 | 5)
            withUnsafeBytes(of: value.littleEndian) { self.bytes += $0 }
        }

        private mutating func raw(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                self.bytes.append(UInt8(value & 0x7f) | 0x80)
                value >>= 7
            }
            self.bytes.append(UInt8(value))
        }
    }
}
