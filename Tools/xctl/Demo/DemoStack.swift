import Foundation
import SwiftProtobuf
import XCertWire

/// Someone the demo acts as: the province's officer, a city bureau's reviewer, a school, an
/// organization; each with its own bearer token.
struct Party: Sendable {
    var name: String
    var token: String
}

/// The four services as the demo reaches them: one pipelined client each, calls made as a
/// ``Party``, every change with an idempotency key so that a retry after a lost
/// connection does the work once.
struct DemoStack: Sendable {
    enum Service: String, Sendable {
        case registry, filing, assessment, settlement
    }

    private let clients: [Service: RPCClient]

    init(registry: String, filing: String, assessment: String, settlement: String) throws {
        var clients: [Service: RPCClient] = [:]
        for (service, address) in [(Service.registry, registry), (.filing, filing), (.assessment, assessment), (.settlement, settlement)] {
            clients[service] = try makeClient(address, timeoutMs: 60_000)
        }
        self.clients = clients
    }

    func close() async {
        for client in self.clients.values { await client.close() }
    }

    /// How a call may be repeated when its answer was lost.
    enum Kind: Sendable {
        /// A change: it carries an idempotency key and is tried again with the same key.
        case change
        /// A read: simply tried again.
        case read
        /// A change that takes no idempotency key (CreateToken): tried once.
        case once
    }

    /// Calls `method` (a generated descriptor of `XCertAPI`) as `party`, on the service whose
    /// package (`xcert.<service>.v1`) declares it; a change or a read whose connection was
    /// lost or whose deadline passed is tried again (see ``Kind``), and one refused for the
    /// party's limit of calls a second is tried again after the `retry-after-ms` the
    /// service names.
    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, by party: Party, kind: Kind = .change
    ) async throws -> Response {
        guard let service = Self.service(of: method), let client = self.clients[service] else {
            throw CLIError("no client of the service of \(method.name)")
        }
        let options = CallOptions(
            idempotencyKey: kind == .change ? "demo-\(UUID().uuidString)" : nil,
            metadata: ["authorization": "Bearer \(party.token)"]
        )
        var attempt = 0
        while true {
            do {
                return try await client.unary(method, request, options: options)
            } catch let error as RPCError
                where (error.code == .unavailable || error.code == .deadlineExceeded) && kind != .once && attempt < 4
            {
                attempt += 1
                try await Task.sleep(for: .milliseconds(250 * attempt))
            } catch let error as RPCError where error.code == .resourceExhausted && kind != .once && attempt < 50 {
                // Past the party's limit of calls: wait as long as the service says.
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int(error.metadata["retry-after-ms"] ?? "") ?? 100))
            }
        }
    }

    /// The error a call is refused with; nil if it succeeds. For the refusals the demo
    /// shows on purpose (a cap breached, a round closed, a fee above its ceiling).
    func refusal<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, by party: Party
    ) async throws -> RPCError? {
        do {
            _ = try await self.call(method, request, by: party)
            return nil
        } catch let error as RPCError where error.code != .unavailable && error.code != .deadlineExceeded && error.code != .internal {
            return error
        }
    }

    /// The service that serves `method`: the `<service>` of its package `xcert.<service>.v1`.
    static func service<Request, Response>(of method: MethodDescriptor<Request, Response>) -> Service? {
        let package = method.name.dropFirst().prefix { $0 != "/" }.split(separator: ".")
        return package.count > 2 ? Service(rawValue: String(package[1])) : nil
    }
}

/// Runs `body` for every element, at most `limit` at once; the first error ends it.
func forEachConcurrently<Element: Sendable>(
    _ elements: [Element], limit: Int = 8, _ body: @escaping @Sendable (Element) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var iterator = elements.makeIterator()
        for _ in 0..<limit {
            guard let element = iterator.next() else { break }
            group.addTask { try await body(element) }
        }
        while try await group.next() != nil {
            if let element = iterator.next() { group.addTask { try await body(element) } }
        }
    }
}

/// Like ``forEachConcurrently(_:limit:_:)``, collecting each element's result in the elements' order.
func mapConcurrently<Element: Sendable, Result: Sendable>(
    _ elements: [Element], limit: Int = 8, _ body: @escaping @Sendable (Element) async throws -> Result
) async throws -> [Result] {
    try await withThrowingTaskGroup(of: (Int, Result).self) { group in
        var results = [Result?](repeating: nil, count: elements.count)
        var next = 0
        func add() {
            let index = next
            let element = elements[index]
            group.addTask { (index, try await body(element)) }
            next += 1
        }
        while next < min(limit, elements.count) { add() }
        while let (index, result) = try await group.next() {
            results[index] = result
            if next < elements.count { add() }
        }
        return results.map { $0! }
    }
}
