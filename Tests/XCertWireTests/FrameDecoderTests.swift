import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing
import XCertWire

@Suite("Frame decoder")
struct FrameDecoderTests {
    private func frame(_ body: [UInt8]) -> ByteBuffer {
        ByteBufferAllocator().frame(body)
    }

    @Test("frames split anywhere, byte at a time or run together decode the same")
    func splitFrames() throws {
        let bodies: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 1000), [42]]
        var all = ByteBuffer()
        for body in bodies { all.writeImmutableBuffer(self.frame(body)) }
        // The verifier also feeds the input byte by byte and in every split.
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(all, bodies.map { .frame(ByteBuffer(bytes: $0)) })],
            decoderFactory: { FrameDecoder(maximumFrameLength: 4096) }
        )
    }

    @Test("a zero-length frame is an empty message")
    func zeroLength() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameLength: 16)))
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 0]))
        #expect(try channel.readInbound(as: InboundFrame.self) == .frame(ByteBuffer()))
        #expect(try channel.finish().isClean)
    }

    @Test("a frame of exactly the limit is accepted")
    func exactlyTheLimit() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameLength: 64)))
        let body = [UInt8](repeating: 9, count: 64)
        try channel.writeInbound(self.frame(body))
        #expect(try channel.readInbound(as: InboundFrame.self) == .frame(ByteBuffer(bytes: body)))
        #expect(try channel.finish().isClean)
    }

    @Test("limit + 1 is refused from the header alone, and later bytes are dropped")
    func limitPlusOne() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameLength: 64)))
        // Only the header arrives: the decoder must not wait for (or buffer) the body.
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 65]))
        #expect(try channel.readInbound(as: InboundFrame.self) == .oversized(length: 65, limit: 64))
        try channel.writeInbound(self.frame([1, 2, 3]))
        #expect(try channel.readInbound(as: InboundFrame.self) == nil)
        _ = try channel.finish()
    }

    @Test("a 2 GiB length prefix is refused at once")
    func hugePrefix() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameLength: 4 * 1024 * 1024)))
        try channel.writeInbound(ByteBuffer(bytes: [0x80, 0, 0, 0]))
        #expect(try channel.readInbound(as: InboundFrame.self) == .oversized(length: 0x8000_0000, limit: 4 * 1024 * 1024))
        _ = try channel.finish()
    }

    @Test("an HTTP request reads as an oversized frame ('GET ' is 1.2 GB)")
    func httpRequest() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameLength: 4 * 1024 * 1024)))
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        guard case .oversized(let length, _) = try channel.readInbound(as: InboundFrame.self) else {
            Issue.record("expected an oversized frame")
            return
        }
        #expect(length == 0x4745_5420)
        _ = try channel.finish()
    }

    @Test("a partial frame at end of stream is dropped, not delivered")
    func partialFrameAtEOF() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameLength: 64)))
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 10, 1, 2, 3]))
        #expect(try channel.readInbound(as: InboundFrame.self) == nil)
        _ = try? channel.finish()
        #expect(try channel.readInbound(as: InboundFrame.self) == nil)
    }
}
