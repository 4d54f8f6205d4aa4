import Foundation
import NIOCore
import NIOPosix
import SwiftProtobuf
import XCertProto
import XCertWire

/// A bare TCP connection to a server, for tests that must send exactly the bytes they
/// choose (split frames, duplicate ids, garbage) and watch exactly what comes back.
public final class RawConnection: Sendable {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let responses: AsyncStream<Xcert_Wire_V1_Response>
    private let decoder: Task<Void, Never>

    public static func connect(host: String = "127.0.0.1", port: Int) async throws -> RawConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawConnection(channel: channel)
    }

    private init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        self.channel = channel
        let (stream, continuation) = AsyncStream.makeStream(of: Xcert_Wire_V1_Response.self)
        self.responses = stream
        let inbound = channel.inbound
        self.decoder = Task {
            var buffer = ByteBuffer()
            do {
                for try await var chunk in inbound {
                    buffer.writeBuffer(&chunk)
                    while let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
                        buffer.readableBytes >= 4 + Int(length)
                    {
                        buffer.moveReaderIndex(forwardBy: 4)
                        let body = buffer.readBytes(length: Int(length))!
                        if let response = try? Xcert_Wire_V1_Response(serializedBytes: body) {
                            continuation.yield(response)
                        }
                    }
                }
            } catch {}
            continuation.finish()
        }
    }

    /// Sends raw bytes as they are.
    public func send(bytes: [UInt8]) async throws {
        try await self.channel.outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Sends one request as one frame.
    public func send(_ request: Xcert_Wire_V1_Request) async throws {
        try await self.send(bytes: Self.frame(request))
    }

    /// The bytes of one frame holding `request`.
    public static func frame(_ request: Xcert_Wire_V1_Request) -> [UInt8] {
        let body: [UInt8] = try! request.serializedBytes()
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(body.count).bigEndian) { bytes.append(contentsOf: $0) }
        return bytes + body
    }

    /// A request envelope for `method` with a typed payload.
    public static func request(
        id: UInt64, method: String, payload: some SwiftProtobuf.Message = Xcert_Health_V1_HealthCheckRequest(), timeoutMs: UInt32 = 0,
        metadata: [String: String] = [:]
    ) -> Xcert_Wire_V1_Request {
        var request = Xcert_Wire_V1_Request()
        request.id = id
        request.method = method
        request.payload = try! payload.serializedData()
        request.timeoutMs = timeoutMs
        request.metadata = metadata
        return request
    }

    /// The next `count` responses, in arrival order; fewer if the server closes first.
    public func receive(_ count: Int, within timeout: Duration = .seconds(20)) async throws -> [Xcert_Wire_V1_Response] {
        let responses = self.responses
        return try await withTimeout(timeout) {
            var received: [Xcert_Wire_V1_Response] = []
            for await response in responses {
                received.append(response)
                if received.count == count { break }
            }
            return received
        }
    }

    /// Waits until the server closes the connection; throws on timeout. The default is a
    /// bound on liveness, not a measure of speed: generous, as a full run on two cores once
    /// took more than 10 s to see a 2 s read timeout fire.
    public func waitForClose(within timeout: Duration = .seconds(30)) async throws {
        let responses = self.responses
        try await withTimeout(timeout) {
            for await _ in responses {}
        }
    }

    public func close() async {
        self.channel.outbound.finish()
        try? await self.channel.channel.close()
        self.decoder.cancel()
    }

    deinit {
        // A writer must be finished before it goes (NIO traps otherwise), also when a
        // test ends early or the server closed the connection.
        self.channel.outbound.finish()
        self.channel.channel.close(promise: nil)
        self.decoder.cancel()
    }
}
