import ArgumentParser
import BenchSupport
import Foundation
import Histogram
import NIOCore
import NIOPosix
import SwiftProtobuf
import XCertProto

/// The load generator for XCert and for the raw echo floor: C connections, W requests kept
/// in flight on each, for a fixed time after a warm-up.
///
/// Built so that it is not what is measured: every request is a frame encoded once before
/// the run (one per in-flight slot: `xcert.wire.v1.Request{id: slot+1, method, payload}`,
/// as docs/protocol.md says a request is), sent again as soon as its slot's answer arrives. An
/// answer is matched by scanning its leading protobuf fields for the id (and, against XCert,
/// the status code) without decoding it; no tasks, locks or allocations per request, a flush
/// per socket read. The first answer is decoded in full and checked once.
@main
struct LoadFrames: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-frames",
        abstract: "Pipelined, pre-encoded XCert request frames against an XCert server or a raw frame echo."
    )

    enum Expect: String, ExpressibleByArgument {
        /// An XCert server: answers are `xcert.wire.v1.Response` with the request's payload.
        case response
        /// A raw echo: answers are the request frames themselves.
        case echo
    }

    @Option(help: "The server, host:port.") var address: String
    @Option(help: "What answers: response (XCert) or echo (the raw floor).") var expect: Expect = .response
    @Option(help: "The label of this target in the report.") var target: String = "xcert"
    @Option(help: "The full method name.") var method: String = "/xcert.bench.v1.Echo/Echo"
    @Option(help: "Bytes of the message's string field (xcert.health.v1.HealthCheckRequest.service).") var payloadBytes: Int = 64
    @Option(help: "Connections.") var connections: Int = 1
    @Option(help: "Requests kept in flight on each connection.") var inFlight: Int = 16
    @Option(help: "Seconds to measure.") var seconds: Double = 5
    @Option(help: "Seconds of warm-up before measuring.") var warmup: Double = 1
    @Option(help: "Event loop threads of the load generator (default: min(connections, cores)).") var threads: Int?
    @Option(help: "The server's pid, to report its CPU and peak RSS.") var serverPID: String?

    func validate() throws {
        guard self.connections > 0, self.inFlight > 0, self.inFlight < 1 << 20 else {
            throw ValidationError("--connections and --in-flight must be positive")
        }
        guard parseAddress(self.address) != nil else { throw ValidationError("--address must be host:port") }
    }

    func run() throws {
        let (host, port) = parseAddress(self.address)!
        var message = Xcert_Health_V1_HealthCheckRequest()
        message.service = String(repeating: "x", count: self.payloadBytes)
        let payload = try message.serializedBytes() as [UInt8]
        let frames: [ByteBuffer] = try (0..<self.inFlight).map { slot in
            var request = Xcert_Wire_V1_Request()
            request.id = UInt64(slot + 1)
            request.method = self.method
            request.payload = Data(payload)
            let bytes: [UInt8] = try request.serializedBytes()
            var buffer = ByteBufferAllocator().buffer(capacity: 4 + bytes.count)
            buffer.writeInteger(UInt32(bytes.count), endianness: .big)
            buffer.writeBytes(bytes)
            return buffer
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads ?? min(self.connections, System.coreCount))
        defer { try? group.syncShutdownGracefully() }
        let start = monotonicNanoseconds() + 50_000_000
        let windowStart = start + UInt64(self.warmup * 1e9)
        let windowEnd = windowStart + UInt64(self.seconds * 1e9)

        var handlers: [PipelineHandler] = []
        var channels: [any Channel] = []
        for _ in 0..<self.connections {
            let loop = group.next()
            let handler = PipelineHandler(
                frames: frames, checkStatus: self.expect == .response,
                windowStart: windowStart, windowEnd: windowEnd, finished: loop.makePromise()
            )
            let channel = try ClientBootstrap(group: loop)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port)
                .wait()
            handlers.append(handler)
            channels.append(channel)
        }
        sleep(until: start)
        for (channel, handler) in zip(channels, handlers) {
            try channel.pipeline.addHandler(handler).wait()
        }

        sleep(until: windowStart)
        let client0 = ProcessSample.read(pid: "self")
        let server0 = self.serverPID.flatMap { ProcessSample.read(pid: $0) }
        sleep(until: windowEnd)
        let client1 = ProcessSample.read(pid: "self")
        let server1 = self.serverPID.flatMap { ProcessSample.read(pid: $0) }

        var latencies = makeLatencyHistogram()
        var completed = 0
        var failed = 0
        var first: [UInt8]?
        for (channel, handler) in zip(channels, handlers) {
            // Whatever is still in flight is answered within moments, or the server is stuck.
            let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) {
                handler.finish(drained: false)
            }
            let drained = (try? handler.finished.futureResult.wait()) != nil
            timeout.cancel()
            let result = try channel.eventLoop.submit {
                (handler.histogram, handler.completed, handler.failed, handler.firstBody, handler.closedEarly)
            }.wait()
            latencies.add(result.0)
            completed += result.1
            failed += result.2
            first = first ?? result.3
            if !drained || result.4 {
                FileHandle.standardError.write(Data("load-frames: a connection closed or stalled before its requests were answered\n".utf8))
                failed += 1
            }
            try? channel.close().wait()
        }

        try self.check(first: first, payload: payload)
        let report = CellReport(
            target: self.target, connections: self.connections, inFlight: self.inFlight, seconds: self.seconds,
            completed: completed, failed: failed, latencies: latencies,
            client: client0.flatMap { c0 in client1.map { (c0, $0) } },
            server: server0.flatMap { s0 in server1.map { (s0, $0) } },
            serverPID: self.serverPID,
            note: "load-frames: pre-encoded pipelined frames, \(self.threads ?? min(self.connections, System.coreCount)) client thread(s)"
        )
        report.print()
        if completed == 0 { throw ExitCode(1) }
    }

    /// Decodes the first answer in full: the scan that counts answers only looks at ids.
    func check(first: [UInt8]?, payload: [UInt8]) throws {
        guard let first else {
            throw ValidationError("no answer arrived")
        }
        switch self.expect {
        case .response:
            let response = try Xcert_Wire_V1_Response(serializedBytes: first)
            guard !response.hasStatus || response.status.code == .ok else {
                throw ValidationError("the server answered \(response.status.code): \(response.status.message)")
            }
            guard Array(response.payload) == payload else {
                throw ValidationError("the answer's payload is not the request's message")
            }
        case .echo:
            let request = try Xcert_Wire_V1_Request(serializedBytes: first)
            guard Array(request.payload) == payload, request.method == self.method else {
                throw ValidationError("the echo is not the request frame")
            }
        }
    }
}

/// One connection's pipeline. Confined to its channel's event loop (set up before the
/// channel is active, read afterwards through `eventLoop.submit`), hence `@unchecked`.
final class PipelineHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let frames: [ByteBuffer]
    let checkStatus: Bool
    let windowStart: UInt64
    let windowEnd: UInt64
    let finished: EventLoopPromise<Void>

    private var sentAt: [UInt64]
    private var outstanding = 0
    private var pending: ByteBuffer?
    var histogram = makeLatencyHistogram()
    var completed = 0
    var failed = 0
    var firstBody: [UInt8]?
    var closedEarly = false
    private var done = false

    init(frames: [ByteBuffer], checkStatus: Bool, windowStart: UInt64, windowEnd: UInt64, finished: EventLoopPromise<Void>) {
        self.frames = frames
        self.checkStatus = checkStatus
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.finished = finished
        self.sentAt = Array(repeating: 0, count: frames.count)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let now = monotonicNanoseconds()
        for slot in self.frames.indices {
            context.write(self.wrapOutboundOut(self.frames[slot]), promise: nil)
            self.sentAt[slot] = now
        }
        self.outstanding = self.frames.count
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        if var pending = self.pending {
            pending.writeBuffer(&incoming)
            incoming = pending
            self.pending = nil
        }
        while let length = incoming.getInteger(at: incoming.readerIndex, endianness: .big, as: UInt32.self),
            incoming.readableBytes >= 4 + Int(length)
        {
            incoming.moveReaderIndex(forwardBy: 4)
            let body = Int(length)
            let (id, code) = incoming.withUnsafeReadableBytes { bytes in
                scanFields(UnsafeRawBufferPointer(rebasing: bytes[0..<body]), status: self.checkStatus)
            }
            if self.firstBody == nil { self.firstBody = incoming.getBytes(at: incoming.readerIndex, length: body) }
            incoming.moveReaderIndex(forwardBy: body)
            self.answered(id: id, code: code, context: context)
        }
        if incoming.readableBytes > 0 {
            incoming.discardReadBytes()
            self.pending = incoming
        }
    }

    private func answered(id: UInt64, code: UInt64, context: ChannelHandlerContext) {
        let slot = Int(truncatingIfNeeded: id) &- 1
        guard slot >= 0, slot < self.frames.count else {
            self.failed += 1  // a connection-level answer (id 0): something is wrong
            return
        }
        let now = monotonicNanoseconds()
        if now >= self.windowStart, now < self.windowEnd {
            if code == 0 {
                _ = self.histogram.record(now &- self.sentAt[slot])
                self.completed += 1
            } else {
                self.failed += 1
            }
        }
        if now < self.windowEnd {
            context.write(self.wrapOutboundOut(self.frames[slot]), promise: nil)
            self.sentAt[slot] = now
        } else {
            self.outstanding -= 1
            if self.outstanding == 0 { self.finish(drained: true) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.outstanding > 0 { self.closedEarly = true }
        self.finish(drained: false)
    }

    /// Completes `finished` once: every slot answered after the window, or not.
    func finish(drained: Bool) {
        guard !self.done else { return }
        self.done = true
        if drained { self.finished.succeed(()) } else { self.finished.fail(ChannelError.alreadyClosed) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The id (field 1) and, with `status`, the status code (field 2's field 1) of a message,
/// read off its top-level fields without decoding it.
@inline(__always)
func scanFields(_ bytes: UnsafeRawBufferPointer, status: Bool) -> (id: UInt64, code: UInt64) {
    var index = 0
    var id: UInt64 = 0
    var code: UInt64 = 0
    @inline(__always) func varint(_ end: Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < end {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }
    while index < bytes.count {
        guard let key = varint(bytes.count) else { break }
        switch key & 7 {
        case 0:
            guard let value = varint(bytes.count) else { return (id, code) }
            if key >> 3 == 1 { id = value }
        case 2:
            guard let length = varint(bytes.count), index + Int(length) <= bytes.count else { return (id, code) }
            let end = index + Int(length)
            if status, key >> 3 == 2 {
                // xcert.wire.v1.Status: code is field 1. An empty Status is OK.
                while index < end {
                    guard let inner = varint(end) else { break }
                    if inner & 7 == 0 {
                        let value = varint(end) ?? 0
                        if inner >> 3 == 1 { code = value }
                    } else if inner & 7 == 2 {
                        index += Int(varint(end) ?? 0)
                    } else {
                        break
                    }
                }
                if code == 0 && length > 0 && index > end { code = 2 }
            }
            index = end
        case 1: index += 8
        case 5: index += 4
        default: return (id, code)
        }
    }
    return (id, code)
}
