import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SwiftProtobuf
import Synchronization
import XCertProto

/// Settings of an ``RPCClient``.
public struct RPCClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The deadline of a call that names none.
    public var defaultTimeout: Duration
    /// How long one connection attempt may take.
    public var connectTimeout: Duration
    /// Largest response frame accepted.
    public var maximumFrameLength: Int
    /// The wait after the first failed connection attempt; doubled after each further
    /// failure up to ``maximumBackoff``, with jitter.
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    /// How long after a call's deadline the client gives up on an answer by itself. The
    /// server enforces the deadline and answers DEADLINE_EXCEEDED; this only guards
    /// against a server that never answers.
    public var localDeadlineSlack: Duration
    /// TLS for the connection; nil: plaintext.
    public var tls: ClientTLSConfiguration?

    public init(
        host: String = "127.0.0.1",
        port: Int,
        defaultTimeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(5),
        maximumFrameLength: Int = 64 * 1024 * 1024,
        initialBackoff: Duration = .milliseconds(50),
        maximumBackoff: Duration = .seconds(5),
        localDeadlineSlack: Duration = .seconds(1),
        tls: ClientTLSConfiguration? = nil
    ) {
        self.host = host
        self.port = port
        self.defaultTimeout = defaultTimeout
        self.connectTimeout = connectTimeout
        self.maximumFrameLength = maximumFrameLength
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.localDeadlineSlack = localDeadlineSlack
        self.tls = tls
    }

    /// Parses `host:port`.
    public init?(address: String) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            return nil
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host.isEmpty ? "127.0.0.1" : host, port: port)
    }
}

/// A client of one XCert server: one TCP connection carrying many calls at once.
///
/// Calls are pipelined (a call never waits for another) and matched to responses by id.
/// Writes issued in the same event-loop tick share one flush. A lost connection fails the
/// calls in flight on it with UNAVAILABLE; the next call reconnects, after an exponential
/// backoff while attempts keep failing. With ``RPCClientConfiguration/tls`` a connection
/// counts as made once the TLS handshake is done; a refused certificate is a failed attempt.
public final class RPCClient: Sendable {
    public let configuration: RPCClientConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let state = Mutex(ConnectionState.idle(failures: 0, retryAt: nil))
    private let nextID = Atomic<UInt64>(1)
    /// Made once from ``RPCClientConfiguration/tls``: the context, or why there is none.
    private let tls: TLSSetup

    private enum TLSSetup: Sendable {
        case plaintext
        case context(NIOSSLContext, serverName: String?)
        case unusable(String)
    }

    public init(configuration: RPCClientConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        if let tls = configuration.tls {
            do {
                self.tls = .context(try tls.makeContext(), serverName: tls.serverName(connectingTo: configuration.host))
            } catch {
                self.tls = .unusable("\(error)")
            }
        } else {
            self.tls = .plaintext
        }
    }

    /// Calls `method` with a typed request; a non-OK status is thrown as ``RPCError``.
    public func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String,
        _ request: Request,
        as: Response.Type = Response.self,
        metadata: [String: String] = [:],
        timeout: Duration? = nil
    ) async throws -> Response {
        let response = try await self.call(method, payload: try request.serializedData(), metadata: metadata, timeout: timeout)
        if response.hasStatus, response.status.code != .ok {
            throw RPCError(wireStatus: response.status, metadata: response.metadata)
        }
        do {
            return try Response(serializedBytes: response.payload)
        } catch {
            throw RPCError(.internal, "the response of \(method) does not parse as \(Response.protoMessageName)")
        }
    }

    /// Sends one request and returns the server's response envelope, whatever its status.
    /// Throws ``RPCError`` for what happened on this side: UNAVAILABLE when no connection
    /// could be had or it broke, DEADLINE_EXCEEDED, CANCELLED.
    public func call(
        _ method: String,
        payload: Data,
        metadata: [String: String] = [:],
        timeout: Duration? = nil
    ) async throws -> Xcert_Wire_V1_Response {
        let timeout = timeout ?? self.configuration.defaultTimeout
        let deadline = ContinuousClock.now + timeout
        var request = Xcert_Wire_V1_Request()
        request.id = self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        request.method = method
        request.payload = payload
        request.metadata = metadata
        request.timeoutMs = UInt32(clamping: max(1, timeout.milliseconds))
        let frame = ByteBufferAllocator().frame(try request.serializedBytes() as [UInt8])

        let connection = try await self.connection(before: deadline)
        let eventLoop = connection.channel.eventLoop
        let promise = eventLoop.makePromise(of: Xcert_Wire_V1_Response.self)
        let id = request.id
        let localTimeout = TimeAmount(timeout + self.configuration.localDeadlineSlack)
        eventLoop.execute {
            connection.handler.value.send(id: id, frame: frame, promise: promise, timeout: localTimeout)
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            eventLoop.execute {
                connection.handler.value.fail(id: id, RPCError(.cancelled, "the call was cancelled by the caller"))
            }
        }
    }

    /// Closes the connection; calls in flight fail with UNAVAILABLE.
    public func close() async {
        let channel = self.state.withLock { state -> (any Channel)? in
            defer { state = .closed }
            if case .connected(let connection) = state { return connection.channel }
            return nil
        }
        try? await channel?.close()
    }

    // MARK: - Connection management

    private struct Connected: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<ClientHandler>
    }

    private enum ConnectionState {
        case idle(failures: Int, retryAt: ContinuousClock.Instant?)
        case connecting(EventLoopFuture<Connected>, failures: Int)
        case connected(Connected)
        case closed
    }

    private enum NextStep {
        case use(Connected)
        case wait(EventLoopFuture<Connected>)
        case connect(EventLoopPromise<Connected>, failures: Int)
        case backoff(until: ContinuousClock.Instant)
        case closed
    }

    /// Puts `state` to waiting on a new connection attempt, which the caller then makes.
    private func beginConnecting(_ state: inout ConnectionState, failures: Int) -> NextStep {
        let promise = self.eventLoopGroup.any().makePromise(of: Connected.self)
        state = .connecting(promise.futureResult, failures: failures)
        return .connect(promise, failures: failures)
    }

    private func connection(before deadline: ContinuousClock.Instant) async throws -> Connected {
        while true {
            let step = self.state.withLock { state -> NextStep in
                switch state {
                case .connected(let connection) where connection.channel.isActive:
                    return .use(connection)
                case .connected:
                    // Closed, and the close not yet seen by its callback (which may run after
                    // the calls it failed are retried): connect anew.
                    return self.beginConnecting(&state, failures: 0)
                case .connecting(let future, _):
                    return .wait(future)
                case .idle(let failures, let retryAt):
                    if let retryAt, retryAt > .now { return .backoff(until: retryAt) }
                    return self.beginConnecting(&state, failures: failures)
                case .closed:
                    return .closed
                }
            }
            switch step {
            case .use(let connection):
                return connection
            case .wait(let future):
                do {
                    return try await future.get()
                } catch {
                    throw self.unavailable(error)
                }
            case .connect(let promise, let failures):
                self.connect(promise: promise, failures: failures)
                do {
                    return try await promise.futureResult.get()
                } catch {
                    throw self.unavailable(error)
                }
            case .backoff(let until):
                guard until < deadline else {
                    throw RPCError(
                        .unavailable, "cannot connect to \(self.address); retrying after a backoff that outlasts this call's deadline")
                }
                try await Task.sleep(until: until, clock: .continuous)
            case .closed:
                throw RPCError(.unavailable, "the client was closed")
            }
        }
    }

    private var address: String { "\(self.configuration.host):\(self.configuration.port)" }

    private func unavailable(_ error: any Error) -> RPCError {
        if let rpcError = error as? RPCError { return rpcError }
        return RPCError(.unavailable, "cannot connect to \(self.address): \(error)")
    }

    private func connect(promise: EventLoopPromise<Connected>, failures: Int) {
        let limit = self.configuration.maximumFrameLength
        let tls = self.tls
        let address = self.address
        if case .unusable(let problem) = tls {
            self.state.withLock { state in
                if case .connecting = state { state = .idle(failures: failures, retryAt: nil) }
            }
            promise.fail(RPCError(.unavailable, "cannot connect to \(address): the TLS settings cannot be used: \(problem)"))
            return
        }
        // The handshake's observer, kept here rather than looked up in the pipeline after the
        // connect: a server that refuses the handshake may have closed the channel (and
        // emptied its pipeline) by then, and the answer must still be the handshake's reason.
        let observerSlot = NIOLoopBoundBox<TLSHandshakeObserver?>.makeEmptyBox(
            valueType: TLSHandshakeObserver.self, eventLoop: promise.futureResult.eventLoop)
        ClientBootstrap(group: promise.futureResult.eventLoop)
            .connectTimeout(TimeAmount(self.configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .context(let context, let serverName) = tls {
                        let observer = TLSHandshakeObserver(address: address, handshake: channel.eventLoop.makePromise())
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                        try channel.pipeline.syncOperations.addHandler(observer)
                        observerSlot.value = observer
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameLength: limit)))
                    try channel.pipeline.syncOperations.addHandler(ClientHandler())
                }
            }
            .connect(host: self.configuration.host, port: self.configuration.port)
            .flatMap { channel -> EventLoopFuture<any Channel> in
                // With TLS, the connection is made when the handshake is.
                guard case .context = tls else { return channel.eventLoop.makeSucceededFuture(channel) }
                guard let observer = observerSlot.value else {
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(RPCError(.internal, "the TLS handshake of \(address) has no observer"))
                }
                return observer.handshake.futureResult.map { channel }.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
            }
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: ClientHandler.self)
                return Connected(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
            .whenComplete { result in
                switch result {
                case .success(let connection):
                    let kept = self.state.withLock { state -> Bool in
                        guard case .connecting = state else { return false }
                        state = .connected(connection)
                        return true
                    }
                    guard kept else {
                        connection.channel.close(promise: nil)
                        promise.fail(RPCError(.unavailable, "the client was closed"))
                        return
                    }
                    connection.channel.closeFuture.whenComplete { _ in
                        self.state.withLock { state in
                            if case .connected(let current) = state, current.channel === connection.channel {
                                state = .idle(failures: 0, retryAt: nil)
                            }
                        }
                    }
                    promise.succeed(connection)
                case .failure(let error):
                    let backoff = self.backoff(afterFailures: failures + 1)
                    self.state.withLock { state in
                        if case .connecting = state {
                            state = .idle(failures: failures + 1, retryAt: .now + backoff)
                        }
                    }
                    promise.fail(error)
                }
            }
    }

    /// Exponential backoff with full jitter over the upper half.
    private func backoff(afterFailures failures: Int) -> Duration {
        let exponent = min(failures - 1, 16)
        let base = min(self.configuration.initialBackoff * (1 << exponent), self.configuration.maximumBackoff)
        return base * Double.random(in: 0.5...1.0)
    }
}

extension TimeAmount {
    /// The same span as a NIO time amount.
    init(_ duration: Duration) {
        self = .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}

/// On the connection's event loop: sends requests, matches responses to them by id,
/// and fails whatever is left when the connection goes.
private final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame

    private struct Pending {
        let promise: EventLoopPromise<Xcert_Wire_V1_Response>
        let timer: Scheduled<Void>
    }

    private var pending: [UInt64: Pending] = [:]
    private var context: ChannelHandlerContext?
    private var flushScheduled = false
    /// The server's refusal of the connection (id 0, RESOURCE_EXHAUSTED, then it closes),
    /// reported to the calls the closing connection fails.
    private var connectionStatus: Xcert_Wire_V1_Status?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func send(id: UInt64, frame: ByteBuffer, promise: EventLoopPromise<Xcert_Wire_V1_Response>, timeout: TimeAmount) {
        guard let context = self.context, context.channel.isActive else {
            promise.fail(RPCError(.unavailable, "the connection closed before the request was sent"))
            return
        }
        let timer = context.eventLoop.scheduleTask(in: timeout) { [weak self] () -> Void in
            self?.fail(id: id, RPCError(.deadlineExceeded, "no answer within the call's deadline"))
        }
        self.pending[id] = Pending(promise: promise, timer: timer)
        context.write(NIOAny(frame), promise: nil)
        if !self.flushScheduled {
            self.flushScheduled = true
            context.eventLoop.execute { [weak self] in
                guard let self, let context = self.context else { return }
                self.flushScheduled = false
                context.flush()
            }
        }
    }

    func fail(id: UInt64, _ error: RPCError) {
        guard let entry = self.pending.removeValue(forKey: id) else { return }
        entry.timer.cancel()
        entry.promise.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .frame(let bytes) = self.unwrapInboundIn(data) else {
            context.close(promise: nil)  // an oversized response: out of step for good
            return
        }
        guard let response = try? Xcert_Wire_V1_Response(serializedBytes: Array(bytes.readableBytesView)) else {
            context.close(promise: nil)
            return
        }
        if response.id == 0 {
            // Other connection-level answers (a frame that did not parse) concern no call.
            if response.status.code == .resourceExhausted { self.connectionStatus = response.status }
            return
        }
        guard let entry = self.pending.removeValue(forKey: response.id) else { return }
        entry.timer.cancel()
        entry.promise.succeed(response)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error: RPCError
        if let status = self.connectionStatus {
            error = RPCError(wireStatus: status)
        } else {
            error = RPCError(.unavailable, "the connection closed before the response arrived")
        }
        let pending = self.pending
        self.pending = [:]
        for entry in pending.values {
            entry.timer.cancel()
            entry.promise.fail(error)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
