import SwiftProtobuf
import Synchronization

/// What runs around the handler of every declared-mutating method, after admission and the
/// request's bounds (docs/protocol.md, "Admission order and bounds", step 5): the service
/// kit's idempotency keys and audit log. ``RPCServer`` calls it; handlers never do.
public protocol ChangeRecording: Sendable {
    /// Runs `handler` for `call`, whose ``RequestContext/mutation`` holds the decoded request,
    /// and returns its answer, or an answer recorded for the call's `idempotency-key` before.
    func recording<Response: SwiftProtobuf.Message>(
        _ call: RequestContext,
        _ handler: () async throws -> Response
    ) async throws -> Response
}

/// A declared-mutating call as its change is recorded: the decoded request (what its
/// idempotency key is bound to and what its audit entry names), and whether the handler's
/// transaction has recorded the change itself.
public final class MutatingCall: Sendable {
    /// The request, as decoded and bounded before the handler ran.
    public let request: any SwiftProtobuf.Message
    private let recorded = Atomic<Bool>(false)

    public init(request: any SwiftProtobuf.Message) {
        self.request = request
    }

    /// Whether the change (its key and audit entry) was written in the handler's own transaction.
    public var isRecorded: Bool { self.recorded.load(ordering: .acquiring) }

    /// Called once the transaction that wrote the change and its record has committed.
    public func markRecorded() { self.recorded.store(true, ordering: .releasing) }
}
