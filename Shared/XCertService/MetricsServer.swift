import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Prometheus
import ServiceLifecycle
import Synchronization
import XCertWire

/// Serves the Prometheus text format at `GET /metrics` over HTTP, or HTTPS with the
/// service's TLS settings, and nothing else (port + 1000). The port has bounds of its own,
/// apart from the RPC port's: at most ``maximumConnections`` open at once (more are closed
/// at once) and a connection idle for ``idleTimeout`` is closed, so scrapers that hold or
/// open connections without end cannot take the process's sockets.
public final class MetricsServer: Service, Sendable {
    /// Connections open at once; a Prometheus server needs one or two.
    public static let maximumConnections = 32
    /// A connection with nothing read or written for this long is closed.
    public static let idleTimeout: TimeAmount = .seconds(30)

    private let connections = OpenConnections()
    private let host: String
    private let port: Int
    private let registry: PrometheusCollectorRegistry
    private let logger: Logger
    private let tls: ServerTLSConfiguration?
    private let listening: EventLoopPromise<SocketAddress>

    public init(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger, tls: ServerTLSConfiguration? = nil) {
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
        self.tls = tls
        self.listening = MultiThreadedEventLoopGroup.singleton.any().makePromise()
    }

    /// The address it listens on, once it does.
    public var listeningAddress: SocketAddress {
        get async throws { try await self.listening.futureResult.get() }
    }

    public func run() async throws {
        let registry = self.registry
        let connections = self.connections
        let logger = self.logger
        let channel: any Channel
        do {
            let tlsContext = try self.tls?.makeContext()
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    let open = connections.count.wrappingAdd(1, ordering: .relaxed).newValue
                    channel.closeFuture.whenComplete { _ in connections.count.wrappingSubtract(1, ordering: .relaxed) }
                    guard open <= Self.maximumConnections else {
                        logger.notice("metrics connection refused: too many open", metadata: ["open": "\(open - 1)"])
                        return channel.close()
                    }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(IdleStateHandler(allTimeout: Self.idleTimeout), CloseWhenIdle())
                        if let tlsContext {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                        }
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(MetricsHandler(registry: registry))
                    }
                }
                .bind(host: self.host, port: self.port)
                .get()
        } catch {
            self.logger.critical("cannot listen for metrics", metadata: ["address": "\(self.host):\(self.port)", "error": "\(error)"])
            self.listening.fail(error)
            throw error
        }
        if let address = channel.localAddress { self.listening.succeed(address) }
        self.logger.info(
            "metrics listening",
            metadata: [
                "address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "tls": .string(self.tls == nil ? "off" : "on"),
            ])
        // A future's `get()` does not end on cancellation: closing the channel ends it, on a
        // graceful shutdown and on cancellation alike.
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await channel.closeFuture.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// The metrics connections open now.
private final class OpenConnections: Sendable {
    let count = Atomic<Int>(0)
}

/// Closes a connection on the idle event of the `IdleStateHandler` before it.
private final class CloseWhenIdle: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

private final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private var head: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            if head.method == .GET && path == "/metrics" {
                self.respond(
                    context: context, head: head, status: .ok, type: "text/plain; version=0.0.4; charset=utf-8",
                    body: self.registry.emitToBuffer())
            } else {
                self.respond(
                    context: context, head: head, status: .notFound, type: "text/plain; charset=utf-8",
                    body: Array("only GET /metrics is served here\n".utf8))
            }
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, type: String, body: [UInt8]) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: "\(body.count)")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlushPromise(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.whenComplete { _ in context.close(promise: nil) }
        }
    }
}

private extension ChannelHandlerContext {
    func writeAndFlushPromise(_ data: NIOAny) -> EventLoopFuture<Void> {
        let promise = self.eventLoop.makePromise(of: Void.self)
        self.writeAndFlush(data, promise: promise)
        return promise.futureResult
    }
}
