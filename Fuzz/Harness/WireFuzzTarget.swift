import Foundation
import NIOCore
import NIOEmbedded
import SwiftProtobuf
import XCertProto
import XCertWire

/// What the server does with one frame the decoder delivered: exactly one of these.
public enum WireFuzzOutcome: Sendable, Hashable {
    /// The header announced more than the limit: answered RESOURCE_EXHAUSTED with id 0, and
    /// the connection closes (nothing after it is read).
    case closed(length: UInt32)
    /// Answered without running a handler: with id 0 when the envelope is refused, with the
    /// request's id when its method is unknown or its payload does not parse.
    case answered(id: UInt64, RPCError)
    /// The method was found and its request parsed: its handler would run.
    case handled(id: UInt64, method: String)
}

/// One input replayed: what the decoder delivered, what each frame came to, and anything
/// that broke an invariant (empty when all is well).
public struct WireFuzzRun: Sendable {
    /// The frames `FrameDecoder` delivered, in order.
    public var frames: [InboundFrame] = []
    /// The frames of a plain reading of the same bytes, for comparison.
    public var expectedFrames: [InboundFrame] = []
    /// One per delivered frame, in order.
    public var outcomes: [WireFuzzOutcome] = []
    /// Each broken invariant, in words.
    public var problems: [String] = []
}

/// The wire fuzzer's target: one input is the byte stream a client sends on one connection.
///
/// The bytes go through ``FrameDecoder`` in a `ByteToMessageHandler`, as on a server
/// connection, written in pieces whose sizes follow from the input (so frames and headers
/// arrive split anywhere); the connection then ends (EOF). Each frame goes through
/// ``RequestAdmission`` (envelope, method lookup in ``EveryMethod/table``) and the method's
/// ``RPCMethod/parseRequest(_:)``, the server's own code. Beyond not trapping, a run checks:
/// the decoder delivers exactly the frames a plain reading of the bytes gives (no frame
/// after an oversized header, a partial one at EOF dropped); each frame gets one outcome;
/// each answer serializes and reads back the same; a parsed message serializes to bytes
/// that parse to the same bytes again.
public enum WireFuzzTarget {
    /// The server's default frame limit (docs/protocol.md: 4 MiB).
    public static let maximumFrameLength = RPCServerConfiguration(port: 0).maximumFrameLength

    /// The methods frames are dispatched to.
    public static var methods: MethodTable { EveryMethod.table }

    /// Replays `input` as one connection's inbound bytes.
    ///
    /// - Throws: what the decoder's channel threw (it never should: a bug, like a problem).
    public static func run(_ input: [UInt8]) throws -> WireFuzzRun {
        var run = WireFuzzRun()
        run.expectedFrames = self.plainFrames(of: input)

        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameLength: self.maximumFrameLength)))
        var closed = false
        func deliver() throws {
            while let frame = try channel.readInbound(as: InboundFrame.self) {
                run.frames.append(frame)
                // The server stops reading after an oversized header; the decoder drops
                // the rest anyway, which the comparison with the plain reading checks.
                guard !closed else { continue }
                let outcome = self.dispatch(frame, problems: &run.problems)
                if case .closed = outcome { closed = true }
                run.outcomes.append(outcome)
            }
        }
        for piece in self.pieces(of: input) {
            var buffer = channel.allocator.buffer(capacity: piece.count)
            buffer.writeBytes(input[piece])
            try channel.writeInbound(buffer)
            try deliver()
        }
        // The peer closes: a partial frame must be dropped, never delivered.
        let leftOvers = try channel.finish()
        if !leftOvers.isClean {
            run.problems.append("the decoder delivered something at EOF: \(leftOvers)")
        }

        if run.frames != run.expectedFrames {
            run.problems.append(
                "the decoder delivered \(run.frames.count) frames, a plain reading gives \(run.expectedFrames.count): "
                    + "\(self.describe(run.frames)) against \(self.describe(run.expectedFrames))"
            )
        }
        // Every frame up to the first oversized header, that one included.
        let dispatched =
            run.frames.firstIndex { if case .oversized = $0 { true } else { false } }
            .map { $0 + 1 } ?? run.frames.count
        if run.outcomes.count != dispatched {
            run.problems.append("\(dispatched) frames to dispatch gave \(run.outcomes.count) outcomes")
        }
        return run
    }

    // MARK: - One frame

    /// What the server does with `frame`, with its connection-specific checks left out
    /// (drain, duplicate in-flight ids, the concurrency cap).
    static func dispatch(_ frame: InboundFrame, problems: inout [String]) -> WireFuzzOutcome {
        let body: ByteBuffer
        switch frame {
        case .oversized(let length, _):
            return .closed(length: length)
        case .frame(let bytes):
            body = bytes
        }
        let request: Xcert_Wire_V1_Request
        do throws(RPCError) {
            request = try RequestAdmission.envelope(from: body)
        } catch {
            return self.answer(id: 0, error, problems: &problems)
        }
        self.checkRoundTrip(request, what: "the envelope", problems: &problems)
        let method: RPCMethod
        do throws(RPCError) {
            method = try RequestAdmission.method(for: request, in: self.methods)
        } catch {
            return self.answer(id: request.id, error, problems: &problems)
        }
        let message: any SwiftProtobuf.Message
        do throws(RPCError) {
            message = try method.parseRequest(request.payload)
        } catch {
            return self.answer(id: request.id, error, problems: &problems)
        }
        if type(of: message).protoMessageName != method.requestType {
            problems.append("\(method.name) parsed a \(type(of: message).protoMessageName), not its \(method.requestType)")
        }
        self.checkRoundTrip(message, what: "the payload of \(method.name)", problems: &problems)
        return .handled(id: request.id, method: method.name)
    }

    /// The answer as the server frames it; checks that a client reads back the same.
    private static func answer(id: UInt64, _ status: RPCError, problems: inout [String]) -> WireFuzzOutcome {
        var response = Xcert_Wire_V1_Response()
        response.id = id
        response.status = status.wireStatus
        do {
            let bytes: [UInt8] = try response.serializedBytes()
            let read = try Xcert_Wire_V1_Response(serializedBytes: bytes)
            if read.id != id || RPCError(wireStatus: read.status) != status {
                problems.append("the answer \(id) \(status) reads back as \(read.id) \(RPCError(wireStatus: read.status))")
            }
        } catch {
            problems.append("the answer \(id) \(status) does not serialize and read back: \(error)")
        }
        return .answered(id: id, status)
    }

    /// A parsed message serializes, and its bytes parse and serialize to the same bytes.
    private static func checkRoundTrip<Parsed: SwiftProtobuf.Message>(
        _ message: Parsed,
        what: String,
        problems: inout [String]
    ) {
        do {
            let once: [UInt8] = try message.serializedBytes(options: self.deterministic)
            let again: [UInt8] = try Parsed(serializedBytes: once).serializedBytes(options: self.deterministic)
            if once != again {
                problems.append("\(what) serializes to \(once.count) bytes that read back as \(again.count) other bytes")
            }
        } catch {
            problems.append("\(what) parsed but does not serialize and parse again: \(error)")
        }
    }

    static let deterministic: BinaryEncodingOptions = {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }()

    // MARK: - Reading the bytes

    /// The frames of `input` read plainly, the way docs/protocol.md describes them: whole
    /// frames in order, then an oversized header if one comes (and nothing after it); a
    /// partial frame at the end is dropped.
    public static func plainFrames(of input: [UInt8]) -> [InboundFrame] {
        var frames: [InboundFrame] = []
        var offset = 0
        while input.count - offset >= 4 {
            let length = input[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            if Int(length) > self.maximumFrameLength {
                frames.append(.oversized(length: length, limit: self.maximumFrameLength))
                break
            }
            guard input.count - offset - 4 >= Int(length) else { break }
            frames.append(.frame(ByteBuffer(bytes: input[offset + 4..<offset + 4 + Int(length)])))
            offset += 4 + Int(length)
        }
        return frames
    }

    /// Where `input` is cut into the writes the decoder sees: single bytes, pieces of a
    /// header's size, pieces up to 64 bytes, or all the rest, chosen by a generator seeded
    /// with a hash of the input, so the same input is always cut the same way.
    static func pieces(of input: [UInt8]) -> [Range<Int>] {
        var state = input.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
        func next() -> UInt64 {
            // SplitMix64.
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        var pieces: [Range<Int>] = []
        var offset = 0
        while offset < input.count {
            let random = next()
            let left = input.count - offset
            let size: Int
            switch random % 4 {
            case 0: size = 1
            case 1: size = 1 + Int((random >> 8) % 5)
            case 2: size = 1 + Int((random >> 8) % 64)
            default: size = left
            }
            pieces.append(offset..<offset + min(size, left))
            offset += min(size, left)
        }
        return pieces
    }

    private static func describe(_ frames: [InboundFrame]) -> String {
        let each = frames.map { frame -> String in
            switch frame {
            case .frame(let bytes): "\(bytes.readableBytes) bytes"
            case .oversized(let length, _): "oversized \(length)"
            }
        }
        return "[\(each.joined(separator: ", "))]"
    }
}
