import NIOCore
import NIOTLS

/// What ``FrameDecoder`` tells the ``ConnectionGuard`` in front of it: how many bytes of an
/// unfinished frame it holds and how many frames it has handed on. Lives on the channel's
/// event loop, like both handlers.
final class FrameProgress {
    /// Bytes buffered that do not yet make a whole frame (0 between frames).
    var partialBytes = 0
    /// Frames decoded so far: each is one request, and each request gets one answer.
    var framesDecoded = 0
}

/// The time limits of one connection, against peers that hold a socket without using it.
///
/// - A frame begun must be finished within `readTimeout`: a peer that sends part of a frame
///   and stalls (slowloris) is closed. While requests of the connection are in flight the
///   server may itself have stopped reading (the in-flight cap), so the limit starts over.
/// - A connection on which nothing was read or written for `idleTimeout`, with no request in
///   flight, is closed.
/// - On a TLS port the handshake, begun when the peer connects, must also be finished within
///   `readTimeout` (a peer that connects and sends nothing, or half a hello, is closed).
///
/// It sits first in the pipeline after TLS: inbound bytes pass through it to the decoder,
/// answers pass through it to TLS and the socket, so it sees all traffic without parsing any.
final class ConnectionGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let readTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let progress: FrameProgress
    /// On a TLS port, until the handshake completes.
    private var awaitingTLSHandshake: Bool
    private var framesAnswered = 0
    private var lastActivity = NIODeadline.now()
    private var stallTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?

    init(readTimeout: Duration, idleTimeout: Duration, progress: FrameProgress, awaitsTLSHandshake: Bool = false) {
        self.readTimeout = TimeAmount(readTimeout)
        self.idleTimeout = TimeAmount(idleTimeout)
        self.progress = progress
        self.awaitingTLSHandshake = awaitsTLSHandshake
    }

    private var requestsInFlight: Bool { self.progress.framesDecoded > self.framesAnswered }

    /// Something begun and not finished: a frame, or the TLS handshake.
    private var unfinished: Bool { self.progress.partialBytes > 0 || self.awaitingTLSHandshake }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.armTimers(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.armTimers(context: context)
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if self.awaitingTLSHandshake, let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            self.awaitingTLSHandshake = false
            if self.progress.partialBytes == 0 {
                self.stallTimer?.cancel()
                self.stallTimer = nil
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func armTimers(context: ChannelHandlerContext) {
        self.armIdleTimer(context: context)
        if self.awaitingTLSHandshake, self.stallTimer == nil { self.armStallTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.stallTimer?.cancel()
        self.idleTimer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.lastActivity = .now()
        context.fireChannelRead(data)
        // The decoder has taken the bytes: is a frame left unfinished?
        if !self.unfinished {
            self.stallTimer?.cancel()
            self.stallTimer = nil
        } else if self.stallTimer == nil {
            self.armStallTimer(context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.framesAnswered += 1
        self.lastActivity = .now()
        context.write(data, promise: promise)
    }

    private func armStallTimer(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.stallTimer = context.eventLoop.scheduleTask(in: self.readTimeout) {
            let (handler, context) = loopBound.value
            handler.stallTimer = nil
            guard handler.unfinished else { return }
            if handler.requestsInFlight {
                handler.armStallTimer(context: context)
            } else {
                context.close(promise: nil)
            }
        }
    }

    private func armIdleTimer(context: ChannelHandlerContext) {
        guard self.idleTimer == nil else { return }
        self.scheduleIdleCheck(context: context, at: self.lastActivity + self.idleTimeout)
    }

    /// One timer for the whole connection, moved on lazily: traffic only updates
    /// `lastActivity`, and the check reschedules itself for the new end of the idle time.
    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            let idleUntil = handler.lastActivity + handler.idleTimeout
            if idleUntil > .now() {
                handler.scheduleIdleCheck(context: context, at: idleUntil)
            } else if handler.requestsInFlight {
                handler.scheduleIdleCheck(context: context, at: .now() + handler.idleTimeout)
            } else {
                handler.idleTimer = nil
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}

@available(*, unavailable)
extension FrameProgress: Sendable {}
