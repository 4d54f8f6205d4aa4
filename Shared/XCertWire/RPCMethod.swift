import Foundation
import Logging
import SwiftProtobuf

/// What a handler knows about the call it serves.
public struct RequestContext: Sendable {
    /// The full method name, e.g. `/xcert.health.v1.Health/Check`.
    public var method: String
    /// The request's metadata (lower-case keys).
    public var metadata: [String: String]
    /// The instant after which the work is abandoned and rolled back.
    public var deadline: ContinuousClock.Instant
    /// The `request-id` of this call (the client's, or one the server made up).
    public var requestID: String
    /// The peer's address and port, for logs.
    public var peer: String
    /// The peer's IP address, for per-address limits.
    public var clientAddress: String
    /// A logger carrying `request-id` and `method`.
    public var logger: Logger
    /// Who calls, as admission established it before the handler ran; nil for a public
    /// method (``MethodContract/isPublic``).
    public var principal: Principal?
    /// For a declared-mutating method: its request and the state of its record, which the
    /// server's ``ChangeRecording`` (idempotency, audit) and the handler's transaction share;
    /// nil for a method that reads.
    public var mutation: MutatingCall?

    public init(
        method: String,
        metadata: [String: String] = [:],
        deadline: ContinuousClock.Instant,
        requestID: String,
        peer: String = "local",
        clientAddress: String? = nil,
        logger: Logger,
        principal: Principal? = nil
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.requestID = requestID
        self.peer = peer
        self.clientAddress = clientAddress ?? peer
        self.logger = logger
        self.principal = principal
    }

    /// The caller of a method that needs a token: admission has checked its token, its role
    /// against the method's declared roles and its rate limit before the handler runs.
    ///
    /// - Throws: INTERNAL when there is none: a public method asking for its caller is a
    ///   defect of the server, never a client's mistake.
    public func caller() throws(RPCError) -> Principal {
        guard let principal = self.principal else {
            throw RPCError(.internal, "\(self.method) is declared public but asks for its caller")
        }
        return principal
    }

    /// The time left until the deadline (zero once it has passed).
    public var remaining: Duration {
        max(.zero, self.deadline - .now)
    }

    /// The `idempotency-key` metadata, if the client sent one.
    public var idempotencyKey: String? { self.metadata["idempotency-key"] }
}

/// One method a server answers: its name, its message types, its contract, and a handler
/// that turns request bytes into response bytes. Built once per method with
/// ``unary(_:handler:)`` from a generated ``MethodDescriptor``, which does the decoding,
/// the bounds and the encoding so handlers see typed, bounded messages only.
public struct RPCMethod: Sendable {
    /// `/<proto package>.<Service>/<Method>`.
    public let name: String
    /// Fully qualified protobuf name of the request message.
    public let requestType: String
    /// Fully qualified protobuf name of the response message.
    public let responseType: String
    /// Who may call, whether it changes state, which rate limit it draws on.
    public let contract: MethodContract
    let handle: @Sendable (Data, RequestContext, (any ChangeRecording)?) async throws -> Data
    private let parse: @Sendable (Data) throws(RPCError) -> any SwiftProtobuf.Message

    /// Whether the method changes state (and so takes an `idempotency-key`).
    public var isMutating: Bool { self.contract.isMutating }

    /// The method `descriptor` declares, served by `handler`.
    ///
    /// Before the handler runs, the payload is decoded and held to the request bounds:
    /// either failing is INVALID_ARGUMENT. (The token, role and rate limit come earlier:
    /// ``RPCServer``.) A declared-mutating method's handler runs inside the server's
    /// ``ChangeRecording``.
    public static func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ descriptor: MethodDescriptor<Request, Response>,
        handler: @escaping @Sendable (Request, RequestContext) async throws -> Response
    ) -> RPCMethod {
        Self.unary(descriptor.name, contract: descriptor.contract, bounds: descriptor.bounds, handler: handler)
    }

    /// A method of no `proto/` rpc (tests, benchmarks): public unless `contract` says
    /// otherwise, its text checked and no list maxima. Services use ``unary(_:handler:)``.
    public static func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ name: String,
        contract: MethodContract = .public,
        bounds: RequestBounds = .textOnly,
        handler: @escaping @Sendable (Request, RequestContext) async throws -> Response
    ) -> RPCMethod {
        RPCMethod(
            name: name,
            requestType: Request.protoMessageName,
            responseType: Response.protoMessageName,
            contract: contract,
            parse: { (payload: Data) throws(RPCError) -> any SwiftProtobuf.Message in
                try Self.parsePayload(payload, as: Request.self)
            },
            handle: { payload, context, changes in
                let request = try Self.parsePayload(payload, as: Request.self)
                try bounds.check(request)
                guard contract.isMutating, let changes else {
                    return try await handler(request, context).serializedData()
                }
                var call = context
                call.mutation = MutatingCall(request: request)
                return try await changes.recording(call) { try await handler(request, call) }.serializedData()
            }
        )
    }

    init(
        name: String,
        requestType: String,
        responseType: String,
        contract: MethodContract,
        parse: @escaping @Sendable (Data) throws(RPCError) -> any SwiftProtobuf.Message,
        handle: @escaping @Sendable (Data, RequestContext, (any ChangeRecording)?) async throws -> Data
    ) {
        self.name = name
        self.requestType = requestType
        self.responseType = responseType
        self.contract = contract
        self.parse = parse
        self.handle = handle
    }

    /// Parses `payload` as this method's request message, as the handler path does before
    /// the handler runs (the two share one parse).
    ///
    /// - Throws: INVALID_ARGUMENT, the answer the request gets, when it does not parse.
    public func parseRequest(_ payload: Data) throws(RPCError) -> any SwiftProtobuf.Message {
        try self.parse(payload)
    }

    /// The one parse of a request's payload.
    private static func parsePayload<Request: SwiftProtobuf.Message>(
        _ payload: Data,
        as _: Request.Type
    ) throws(RPCError) -> Request {
        do {
            return try Request(serializedBytes: payload)
        } catch {
            throw RPCError(
                .invalidArgument,
                "payload does not parse as \(Request.protoMessageName): \(error)",
                fieldViolations: [.init(field: "payload", description: Self.describe(error))]
            )
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case BinaryDecodingError.invalidUTF8: "a string field holds bytes that are not valid UTF-8"
        case BinaryDecodingError.truncated: "the message is truncated"
        case BinaryDecodingError.malformedProtobuf: "the bytes are not a protobuf message"
        default: "does not parse: \(error)"
        }
    }
}

/// A group of methods served together, e.g. one protobuf service.
public protocol RPCService: Sendable {
    var methods: [RPCMethod] { get }
}

/// The methods of one server process, looked up by full name.
public struct MethodTable: Sendable {
    private var byName: [String: RPCMethod] = [:]

    public init(_ services: [any RPCService] = []) {
        for service in services { self.register(service.methods) }
    }

    /// Adds methods; a name registered twice is a programming error.
    public mutating func register(_ methods: [RPCMethod]) {
        for method in methods {
            precondition(self.byName[method.name] == nil, "method \(method.name) registered twice")
            self.byName[method.name] = method
        }
    }

    public subscript(name: String) -> RPCMethod? { self.byName[name] }

    /// Every method, sorted by name.
    public var all: [RPCMethod] { self.byName.values.sorted { $0.name < $1.name } }
}
