import BenchSupport
import NIOCore
import NIOPosix

// The floor of scenario B1: a plain SwiftNIO server that splits the byte stream into
// length-prefixed frames (docs/protocol.md's 4-byte big-endian length, then the body) and writes
// each whole frame back unchanged, flushing once per read. No protobuf, no tasks, no locks:
// what the same event loops and sockets can do when a frame costs nothing.
//
//   echo-raw [--host 127.0.0.1] [--port 0] [--threads N]
// Prints `LISTENING <port>` once bound; runs until killed.

/// One whole frame, header included, as a slice of the read buffer.
struct WholeFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self),
            buffer.readableBytes >= 4 + Int(length)
        else { return nil }
        return buffer.readSlice(length: 4 + Int(length))
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try self.decode(buffer: &buffer)
    }
}

final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

let options = EchoServerOptions(program: "echo-raw", numbers: ["--threads": System.coreCount])

let group = MultiThreadedEventLoopGroup(numberOfThreads: options.numbers["--threads"]!)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WholeFrameDecoder()))
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    }
    .bind(host: options.host, port: options.port)
    .wait()
writeLine("LISTENING \(channel.localAddress?.port ?? 0)")
try channel.closeFuture.wait()
