import SwiftProtobuf

/// What a method declares in `proto/` (the `xcert.options.v1.contract` option of its rpc):
/// who may call it, whether it changes state, and which rate limit it draws on. The
/// server enforces it before the payload is decoded (``RPCServer``, "Admission order").
public struct MethodContract: Sendable, Hashable {
    /// Which of a caller's rate limits a call draws on.
    public enum LimitClass: String, Sendable, Hashable {
        case read, write
    }

    /// No token needed (health, reflection).
    public var isPublic: Bool
    /// The roles that may call; empty when ``isPublic``.
    public var roles: Set<Principal.Role>
    /// The method changes state: it takes an `idempotency-key`.
    public var isMutating: Bool
    public var limitClass: LimitClass

    public init(isPublic: Bool = false, roles: Set<Principal.Role>, isMutating: Bool, limitClass: LimitClass) {
        self.isPublic = isPublic
        self.roles = roles
        self.isMutating = isMutating
        self.limitClass = limitClass
    }

    /// A method anyone may call without a token, that changes nothing.
    public static let `public` = MethodContract(isPublic: true, roles: [], isMutating: false, limitClass: .read)

    /// Whether a caller of `role` may call the method (always, for a public one).
    public func allows(_ role: Principal.Role) -> Bool {
        self.isPublic || self.roles.contains(role)
    }
}

/// One rpc of `proto/` with its message types and contract, as the generated code in
/// `XCertAPI` declares it: servers register handlers for it and clients call it by it,
/// so a renamed rpc is a compile error, not a wrong string.
public struct MethodDescriptor<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>: Sendable {
    /// `/<proto package>.<Service>/<Method>`.
    public let name: String
    public let contract: MethodContract
    /// The list maxima and field names of the request messages (``RequestBounds``).
    public let bounds: RequestBounds

    public init(name: String, contract: MethodContract, bounds: RequestBounds) {
        self.name = name
        self.contract = contract
        self.bounds = bounds
    }
}
