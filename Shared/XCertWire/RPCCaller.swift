import SwiftProtobuf

/// What a call adds to its request besides the message: its idempotency key, deadline and
/// further metadata.
public struct CallOptions: Sendable {
    /// The `idempotency-key` of a call that changes state; retries send the same.
    public var idempotencyKey: String?
    /// The deadline, from when the call is sent; nil: the caller's default.
    public var timeout: Duration?
    /// Further metadata (lower-case keys).
    public var metadata: [String: String]

    public init(idempotencyKey: String? = nil, timeout: Duration? = nil, metadata: [String: String] = [:]) {
        self.idempotencyKey = idempotencyKey
        self.timeout = timeout
        self.metadata = metadata
    }

    /// ``metadata`` with the idempotency key in it.
    public var allMetadata: [String: String] {
        var metadata = self.metadata
        if let key = self.idempotencyKey { metadata["idempotency-key"] = key }
        return metadata
    }
}

/// Anything that sends a typed call and returns its typed answer: the generated clients of
/// `XCertAPI` call through it. ``RPCClient`` is one; wrappers add a token or a request's
/// remaining deadline (``RPCClient/authorized(token:)``, the services' peers).
public protocol RPCCaller: Sendable {
    /// Calls `method`; a non-OK status is thrown as ``RPCError``.
    func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>,
        _ request: Request,
        options: CallOptions
    ) async throws -> Response
}

extension RPCClient: RPCCaller {
    public func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>,
        _ request: Request,
        options: CallOptions
    ) async throws -> Response {
        try await self.unary(method.name, request, as: Response.self, metadata: options.allMetadata, timeout: options.timeout)
    }

    /// This client, sending `token` as the `authorization` of every call.
    public func authorized(token: String) -> AuthorizedCaller {
        AuthorizedCaller(self, token: token)
    }
}

/// Calls through another ``RPCCaller`` with a bearer token.
public struct AuthorizedCaller: RPCCaller {
    public let base: any RPCCaller
    public let token: String

    public init(_ base: any RPCCaller, token: String) {
        self.base = base
        self.token = token
    }

    public func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>,
        _ request: Request,
        options: CallOptions
    ) async throws -> Response {
        var options = options
        options.metadata["authorization"] = "Bearer \(self.token)"
        return try await self.base.unary(method, request, options: options)
    }
}
