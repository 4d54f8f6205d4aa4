import NIOCore
import SwiftProtobuf
import XCertProto

/// The steps of admitting a request that depend on the frame and the method table alone,
/// not on the connection: what a frame body asks for, and which method serves it.
///
/// ``RPCServer`` runs them with its connection's checks between and after them (drain,
/// duplicate in-flight ids, the concurrency cap); the wire fuzzer (`Fuzz/`) runs them on
/// their own, so it exercises the server's own code. Each step throws the answer to send
/// instead: an ``RPCError`` for the id the step names.
public enum RequestAdmission {
    /// Parses one frame body as a `Request` (docs/protocol.md, "Frames" and "Envelope").
    ///
    /// - Throws: the connection-level answer, to send with id 0: INVALID_ARGUMENT when the
    ///   bytes do not parse as `xcert.wire.v1.Request`, or when its id is the reserved 0.
    public static func envelope(from body: ByteBuffer) throws(RPCError) -> Xcert_Wire_V1_Request {
        let request: Xcert_Wire_V1_Request
        do {
            request = try Xcert_Wire_V1_Request(serializedBytes: Array(body.readableBytesView))
        } catch {
            throw RPCError(.invalidArgument, "frame does not parse as xcert.wire.v1.Request")
        }
        guard request.id != 0 else {
            throw RPCError(
                .invalidArgument, "request id 0 is reserved for connection-level answers",
                fieldViolations: [.init(field: "id", description: "must not be 0")]
            )
        }
        return request
    }

    /// The method `request` names.
    ///
    /// - Throws: the answer to send with `request.id`: UNIMPLEMENTED when no method of
    ///   `methods` has that name.
    public static func method(for request: Xcert_Wire_V1_Request, in methods: MethodTable) throws(RPCError) -> RPCMethod {
        guard let method = methods[request.method] else {
            throw RPCError(.unimplemented, "method \(request.method) is not served here")
        }
        return method
    }
}

extension RequestAdmission {
    /// The most metadata entries a request may carry.
    public static let maximumMetadataEntries = 16
    /// The longest metadata key.
    public static let maximumMetadataKeyLength = 64
    /// The longest `authorization` value.
    public static let maximumAuthorizationLength = 512
    /// The longest `request-id` and `idempotency-key`.
    public static let maximumIdentifierLength = 128
    /// The longest value of any other key.
    public static let maximumMetadataValueLength = 1024

    /// Holds `metadata` to its bounds (docs/protocol.md, "Admission order and bounds",
    /// step 2): at most 16 keys of at most 64 characters; `authorization` at most 512
    /// characters, `request-id` and `idempotency-key` 1 to 128 printable ASCII characters,
    /// any other value at most 1,024.
    ///
    /// - Throws: INVALID_ARGUMENT naming each offending key as `metadata.<key>`.
    public static func metadata(_ metadata: [String: String]) throws(RPCError) {
        guard metadata.count <= Self.maximumMetadataEntries else {
            throw RPCError(
                .invalidArgument,
                "the request carries \(metadata.count) metadata entries; at most \(Self.maximumMetadataEntries) are accepted",
                fieldViolations: [.init(field: "metadata", description: "at most \(Self.maximumMetadataEntries) entries")]
            )
        }
        var violations: [RPCError.FieldViolation] = []
        for (key, value) in metadata {
            guard key.utf8.count <= Self.maximumMetadataKeyLength else {
                violations.append(
                    .init(
                        field: "metadata",
                        description: "a key of \(key.utf8.count) bytes; keys are at most \(Self.maximumMetadataKeyLength)"
                    ))
                continue
            }
            let field = "metadata.\(key)"
            switch key {
            case "authorization":
                if value.utf8.count > Self.maximumAuthorizationLength {
                    violations.append(.init(field: field, description: "must be at most \(Self.maximumAuthorizationLength) bytes"))
                }
            case "request-id", "idempotency-key":
                if !Self.isIdentifier(value) {
                    violations.append(
                        .init(
                            field: field,
                            description: "must be 1 to \(Self.maximumIdentifierLength) printable ASCII characters"
                        ))
                }
            default:
                if value.utf8.count > Self.maximumMetadataValueLength {
                    violations.append(.init(field: field, description: "must be at most \(Self.maximumMetadataValueLength) bytes"))
                }
            }
        }
        // Sorted only when there is something to say, so that the answer does not depend on
        // the dictionary's order; a request within bounds pays for no sort.
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations.sorted { $0.field < $1.field }) }
    }

    /// 1 to 128 printable ASCII characters (space to tilde).
    public static func isIdentifier(_ value: String) -> Bool {
        (1...Self.maximumIdentifierLength).contains(value.utf8.count) && value.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }
}

/// Step 3 of admission: who calls, and whether they may call now. The service kit's
/// token check is the one implementation; a server without one serves public methods only.
public protocol CallAdmission: Sendable {
    /// The principal of `call`'s `authorization` metadata.
    ///
    /// - Throws: UNAUTHENTICATED when it is missing, malformed or unknown;
    ///   RESOURCE_EXHAUSTED when the caller's address has sent too many such calls.
    func authenticate(_ call: RequestContext) async throws -> Principal

    /// Takes one call of `principal` from its limit of `limitClass` calls.
    ///
    /// - Throws: RESOURCE_EXHAUSTED past the limit, with `retry-after-ms`.
    func limit(_ principal: Principal, _ limitClass: MethodContract.LimitClass) throws
}
