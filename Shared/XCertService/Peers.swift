import Logging
import SwiftProtobuf
import Synchronization
import XCertAPI
import XCertWire

/// The one way a service calls another: one pipelined client per peer service, the
/// caller's own service token, and the remaining deadline of the request being served.
///
/// Peers are found at `XCERT_<NAME>_ADDRESS` (host:port, default `127.0.0.1` and the
/// peer's port); the token is `XCERT_SERVICE_TOKEN`, a token of a `service` principal.
public final class Peers: Sendable {
    /// The default port of each service.
    public static let defaultPorts = ["registry": 7101, "filing": 7102, "assessment": 7103, "settlement": 7104]

    private let addresses: [String: RPCClientConfiguration]
    private let token: String?
    private let clients = Mutex<[String: RPCClient]>([:])

    public init(addresses: [String: RPCClientConfiguration], token: String?) {
        self.addresses = addresses
        self.token = token
    }

    /// A caller of the peer `service` on behalf of `context`'s request, for the generated
    /// clients: `Xcert_Registry_V1_PilotService.Client(peers.caller("registry", for: call))`.
    public func caller(_ service: String, for context: RequestContext) -> some RPCCaller {
        PeerCaller(peers: self, service: service, context: context)
    }

    /// Calls `method` of the peer `service` on behalf of `context`'s request, within its
    /// deadline. The peer's refusal comes back as its status; a peer that cannot be
    /// reached, or that does not know the method yet, is UNAVAILABLE. A read (every call
    /// between the services is one) whose connection broke is asked once more.
    public func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ service: String, _ method: MethodDescriptor<Request, Response>, _ request: Request, context: RequestContext
    ) async throws -> Response {
        guard let token = self.token else {
            throw RPCError(.unavailable, "this service has no XCERT_SERVICE_TOKEN, so it cannot ask \(service)")
        }
        let client = try self.client(for: service)
        let caller = client.authorized(token: token)
        do {
            do {
                return try await caller.unary(
                    method, request, options: CallOptions(timeout: context.remaining, metadata: ["request-id": context.requestID]))
            } catch let error as RPCError where error.code == .unavailable && !method.contract.isMutating && context.remaining > .zero {
                // The peer may have closed the connection as idle just as this call went out
                // on it (its idle timeout); a read is safe to ask once more, on a new connection.
                return try await caller.unary(
                    method, request, options: CallOptions(timeout: context.remaining, metadata: ["request-id": context.requestID]))
            }
        } catch let error as RPCError {
            switch error.code {
            case .unimplemented:
                throw RPCError(.unavailable, "\(service) does not answer \(method.name) yet")
            case .unauthenticated, .permissionDenied:
                context.logger.error("a peer refused this service's token", metadata: ["peer": "\(service)", "error": "\(error)"])
                throw RPCError(.internal, "\(service) refused this service's token; the operator must check XCERT_SERVICE_TOKEN")
            case .unavailable:
                throw RPCError(.unavailable, "\(service) is unavailable: \(error.message)")
            default:
                throw error
            }
        }
    }

    private func client(for service: String) throws -> RPCClient {
        try self.clients.withLock { clients in
            if let client = clients[service] { return client }
            guard let configuration = self.addresses[service] else {
                throw RPCError(.internal, "no address is configured for \(service)")
            }
            let client = RPCClient(configuration: configuration)
            clients[service] = client
            return client
        }
    }

    /// Closes every client.
    public func close() async {
        let clients = self.clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in clients { await client.close() }
    }
}

/// Calls one peer service on behalf of a request being served (``Peers/caller(_:for:)``).
private struct PeerCaller: RPCCaller {
    let peers: Peers
    let service: String
    let context: RequestContext

    func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>,
        _ request: Request,
        options: CallOptions
    ) async throws -> Response {
        try await self.peers.call(self.service, method, request, context: self.context)
    }
}

extension ServiceContext {
    /// The registry's reference data (schools, certificates, cities), asked on behalf of
    /// `call`; its look-ups (one by code, or every page) are on the generated client.
    public func referenceData(for call: RequestContext) -> Xcert_Registry_V1_ReferenceDataService.Client {
        Xcert_Registry_V1_ReferenceDataService.Client(self.peers.caller("registry", for: call))
    }
}
