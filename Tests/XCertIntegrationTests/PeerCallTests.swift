import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

/// A peer that closes its first connections as soon as a request arrives on them, unanswered,
/// as a server closing an idle connection just as a call goes out on it does; later
/// connections are answered (`detail` = the method's name).
private final class DroppingPeer: Sendable {
    let connections = Atomic<Int>(0)
    private let drops: Int

    init(dropping drops: Int) { self.drops = drops }

    func run<Result: Sendable>(_ body: @Sendable (Int) async throws -> Result) async throws -> Result {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                let number = self.connections.wrappingAdd(1, ordering: .relaxed).newValue
                return channel.pipeline.addHandler(Handler(drop: number <= self.drops))
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            let result = try await body(channel.localAddress!.port!)
            try await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let drop: Bool
        var buffer = ByteBuffer()

        init(drop: Bool) { self.drop = drop }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if self.drop {
                context.close(promise: nil)
                return
            }
            var bytes = self.unwrapInboundIn(data)
            self.buffer.writeBuffer(&bytes)
            while let length = self.buffer.getInteger(at: self.buffer.readerIndex, as: UInt32.self),
                self.buffer.readableBytes >= 4 + Int(length)
            {
                self.buffer.moveReaderIndex(forwardBy: 4)
                let body = self.buffer.readBytes(length: Int(length))!
                guard let request = try? Xcert_Wire_V1_Request(serializedBytes: body) else {
                    context.close(promise: nil)
                    return
                }
                var answer = Xcert_Health_V1_HealthCheckResponse()
                answer.detail = request.method
                var response = Xcert_Wire_V1_Response()
                response.id = request.id
                response.payload = try! answer.serializedData()
                let frame = try! response.serializedBytes() as [UInt8]
                var out = context.channel.allocator.buffer(capacity: frame.count + 4)
                out.writeInteger(UInt32(frame.count))
                out.writeBytes(frame)
                context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
            }
        }
    }
}

@Suite("Calls between the services", .timeLimit(.minutes(1)))
struct PeerCallTests {
    typealias Method = MethodDescriptor<Xcert_Health_V1_HealthCheckRequest, Xcert_Health_V1_HealthCheckResponse>
    /// A read and a change, by their contracts (the dropping peer answers any method).
    static let read = Method(
        name: "/test.v1.Peer/Read", contract: MethodContract(roles: [.service], isMutating: false, limitClass: .read), bounds: .textOnly
    )
    static let write = Method(
        name: "/test.v1.Peer/Write", contract: MethodContract(roles: [.service], isMutating: true, limitClass: .write), bounds: .textOnly
    )

    static func context() -> RequestContext {
        RequestContext(
            method: "/test.v1.Test/Call", metadata: [:], deadline: .now + .seconds(20), requestID: "peer-call-test",
            peer: "test", logger: testLogger("peers")
        )
    }

    static func call(_ method: Method, port: Int) async throws -> String {
        let peers = Peers(addresses: ["registry": RPCClientConfiguration(port: port)], token: "xct_test_service")
        defer { Task { await peers.close() } }
        let response = try await peers.call("registry", method, Xcert_Health_V1_HealthCheckRequest(), context: Self.context())
        return response.detail
    }

    @Test("a read whose connection the peer closes as it goes out is asked once more, on a new connection")
    func readAskedAgain() async throws {
        let peer = DroppingPeer(dropping: 1)
        let answer = try await peer.run { port in try await Self.call(Self.read, port: port) }
        #expect(answer == Self.read.name)
        #expect(peer.connections.load(ordering: .relaxed) == 2)
    }

    @Test("only once: a read dropped twice is UNAVAILABLE; a change is never sent twice")
    func onlyOnceAndOnlyReads() async throws {
        let twice = DroppingPeer(dropping: 2)
        let readError = await #expect(throws: RPCError.self) {
            try await twice.run { port in try await Self.call(Self.read, port: port) }
        }
        #expect(readError?.code == .unavailable)
        #expect(twice.connections.load(ordering: .relaxed) == 2)

        let once = DroppingPeer(dropping: 1)
        let writeError = await #expect(throws: RPCError.self) {
            try await once.run { port in try await Self.call(Self.write, port: port) }
        }
        #expect(writeError?.code == .unavailable)
        #expect(once.connections.load(ordering: .relaxed) == 1)
    }
}
