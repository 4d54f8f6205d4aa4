import Logging
import Synchronization
import SwiftProtobuf
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

    /// Calls `method` of the peer `service` on behalf of `context`'s request, within its
    /// deadline. The peer's refusal comes back as its status; a peer that cannot be
    /// reached, or that does not know the method yet, is UNAVAILABLE. A read (every call
    /// between the services is one) whose connection broke is asked once more.
    public func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ service: String, _ method: String, _ request: Request, as: Response.Type = Response.self, context: RequestContext
    ) async throws -> Response {
        guard let token = self.token else {
            throw RPCError(.unavailable, "this service has no XCERT_SERVICE_TOKEN, so it cannot ask \(service)")
        }
        let client = try self.client(for: service)
        let metadata = ["authorization": "Bearer \(token)", "request-id": context.requestID]
        do {
            do {
                return try await client.unary(method, request, as: Response.self, metadata: metadata, timeout: context.remaining)
            } catch let error as RPCError where error.code == .unavailable && CallLimits.MethodClass(method: method) == .read && context.remaining > .zero {
                // The peer may have closed the connection as idle just as this call went out
                // on it (its idle timeout); a read is safe to ask once more, on a new connection.
                return try await client.unary(method, request, as: Response.self, metadata: metadata, timeout: context.remaining)
            }
        } catch let error as RPCError {
            switch error.code {
            case .unimplemented:
                throw RPCError(.unavailable, "\(service) does not answer \(method) yet")
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
