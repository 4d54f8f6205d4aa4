import NIOCore

/// One unit read off an XCert connection: a whole frame body, or the news that the
/// peer announced a frame larger than the limit.
public enum InboundFrame: Sendable, Equatable {
    /// The L bytes of one frame (L may be 0).
    case frame(ByteBuffer)
    /// The 4-byte header announced `length` bytes, above `limit`. Nothing of the body
    /// was read or allocated; the decoder discards every later byte of the connection.
    case oversized(length: UInt32, limit: Int)
}

/// Splits a byte stream into length-prefixed frames (docs/protocol.md, "Frames").
///
/// The limit is checked from the 4-byte header alone, before the body is awaited or
/// allocated. After an oversized header the stream is out of step for good: the decoder
/// reports it once and then drops everything it is given, so a hostile peer cannot make
/// the connection buffer anything while the answer is written and the socket closed.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = InboundFrame

    /// The largest frame body accepted, in bytes.
    public let maximumFrameLength: Int
    private var poisoned = false
    /// Where the server's ``ConnectionGuard`` reads whether a frame is unfinished.
    private let progress: FrameProgress?

    public init(maximumFrameLength: Int) {
        self.init(maximumFrameLength: maximumFrameLength, progress: nil)
    }

    init(maximumFrameLength: Int, progress: FrameProgress?) {
        precondition(maximumFrameLength >= 0 && maximumFrameLength <= Int(UInt32.max))
        self.maximumFrameLength = maximumFrameLength
        self.progress = progress
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> InboundFrame? {
        let frame = self.split(&buffer)
        if let progress = self.progress {
            progress.partialBytes = buffer.readableBytes
            if frame != nil { progress.framesDecoded += 1 }
        }
        return frame
    }

    private mutating func split(_ buffer: inout ByteBuffer) -> InboundFrame? {
        if self.poisoned {
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return nil
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        if Int(length) > self.maximumFrameLength {
            self.poisoned = true
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return .oversized(length: length, limit: self.maximumFrameLength)
        }
        guard buffer.readableBytes >= 4 + Int(length) else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: 4)
        return .frame(buffer.readSlice(length: Int(length))!)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> InboundFrame? {
        // A partial frame at EOF is dropped (docs/protocol.md): never hand out half a message.
        let frame = try self.decode(buffer: &buffer)
        if frame == nil { buffer.moveReaderIndex(forwardBy: buffer.readableBytes) }
        return frame
    }
}

extension ByteBuffer {
    /// Writes `body` as one frame: the big-endian length, then the bytes.
    @inlinable
    public mutating func writeFrame(_ body: some Collection<UInt8>) {
        self.writeInteger(UInt32(body.count), endianness: .big)
        self.writeBytes(body)
    }
}

extension ByteBufferAllocator {
    /// A buffer holding `body` as one frame.
    @inlinable
    public func frame(_ body: some Collection<UInt8>) -> ByteBuffer {
        var buffer = self.buffer(capacity: 4 + body.count)
        buffer.writeFrame(body)
        return buffer
    }
}
