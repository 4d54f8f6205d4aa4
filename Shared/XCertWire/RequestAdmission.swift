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
    /// Parses one frame body as a `Request` (PROTOCOL.md, "Frames" and "Envelope").
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
