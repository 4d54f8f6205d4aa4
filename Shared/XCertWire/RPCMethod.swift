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
    /// The peer's address, for logs and per-address limits.
    public var peer: String
    /// A logger carrying `request-id` and `method`.
    public var logger: Logger

    public init(
        method: String,
        metadata: [String: String] = [:],
        deadline: ContinuousClock.Instant,
        requestID: String,
        peer: String = "local",
        logger: Logger
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.requestID = requestID
        self.peer = peer
        self.logger = logger
    }

    /// The time left until the deadline (zero once it has passed).
    public var remaining: Duration {
        max(.zero, self.deadline - .now)
    }

    /// The `idempotency-key` metadata, if the client sent one.
    public var idempotencyKey: String? { self.metadata["idempotency-key"] }
}

/// One method a server answers: its name, its message types, and a handler that turns
/// request bytes into response bytes. Built once per method with ``unary(_:mutating:handler:)``,
/// which does the decoding and encoding so handlers see typed messages only.
public struct RPCMethod: Sendable {
    /// `/<proto package>.<Service>/<Method>`.
    public let name: String
    /// Fully qualified protobuf name of the request message.
    public let requestType: String
    /// Fully qualified protobuf name of the response message.
    public let responseType: String
    /// Whether the method changes state (and so takes an `idempotency-key`).
    public let isMutating: Bool
    let handle: @Sendable (Data, RequestContext) async throws -> Data
    private let parse: @Sendable (Data) throws(RPCError) -> any SwiftProtobuf.Message

    /// A unary method with typed request and response.
    ///
    /// A payload that does not parse as `Request` is answered INVALID_ARGUMENT before the
    /// handler runs.
    public static func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ name: String,
        mutating: Bool = false,
        handler: @escaping @Sendable (Request, RequestContext) async throws -> Response
    ) -> RPCMethod {
        RPCMethod(
            name: name,
            requestType: Request.protoMessageName,
            responseType: Response.protoMessageName,
            isMutating: mutating,
            parse: { (payload: Data) throws(RPCError) -> any SwiftProtobuf.Message in
                try Self.parsePayload(payload, as: Request.self)
            },
            handle: { payload, context in
                let request = try Self.parsePayload(payload, as: Request.self)
                let response = try await handler(request, context)
                return try response.serializedData()
            }
        )
    }

    init(
        name: String,
        requestType: String,
        responseType: String,
        isMutating: Bool,
        parse: @escaping @Sendable (Data) throws(RPCError) -> any SwiftProtobuf.Message,
        handle: @escaping @Sendable (Data, RequestContext) async throws -> Data
    ) {
        self.name = name
        self.requestType = requestType
        self.responseType = responseType
        self.isMutating = isMutating
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
                "payload does not parse as \(Request.protoMessageName): \(error)"
            )
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
