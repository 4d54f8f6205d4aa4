import Foundation
import Synchronization
import XCertWire

/// A token bucket: `rate` tokens a second up to `burst`; a call takes one.
public struct TokenBucket: Sendable, Equatable {
    public let rate: Double
    public let burst: Double
    private(set) var tokens: Double
    private var updated: Double

    /// A full bucket at `now` (seconds on any monotonic clock).
    public init(rate: Double, burst: Double, now: Double) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now
    }

    /// Takes a token at `now`: nil when one was there, else the seconds until one will be.
    public mutating func take(now: Double) -> Double? {
        self.tokens = min(self.burst, self.tokens + max(0, now - self.updated) * self.rate)
        self.updated = max(self.updated, now)
        if self.tokens >= 1 {
            self.tokens -= 1
            return nil
        }
        return (1 - self.tokens) / self.rate
    }
}

/// How many calls a second one principal may make, per class of method; 0 is no limit.
public struct CallLimitConfiguration: Sendable, Equatable {
    public var readsPerSecond: Double
    public var readBurst: Double
    public var writesPerSecond: Double
    public var writeBurst: Double

    public init(readsPerSecond: Double = 200, readBurst: Double = 400, writesPerSecond: Double = 50, writeBurst: Double = 100) {
        self.readsPerSecond = readsPerSecond
        self.readBurst = readBurst
        self.writesPerSecond = writesPerSecond
        self.writeBurst = writeBurst
    }

    /// No limit at all.
    public static let unlimited = CallLimitConfiguration(readsPerSecond: 0, readBurst: 0, writesPerSecond: 0, writeBurst: 0)
}

/// The limits per principal (issue 9): a token bucket for each principal and class of
/// method (reads: `Get…`, `List…`, `Check…`, `WhoAmI`; writes: the rest). Schools, city
/// bureaus and organizations are limited; the province's own tokens and the services'
/// are never, so no organization can starve them. Past its limit a caller gets
/// RESOURCE_EXHAUSTED with `retry-after-ms` in the response metadata.
public final class CallLimits: Sendable {
    public enum MethodClass: String, Sendable {
        case read, write

        /// The class of `/package.Service/Method`.
        public init(method: String) {
            let name = method.split(separator: "/").last.map(String.init) ?? method
            let reads = ["Get", "List", "Check", "WhoAmI"]
            self = reads.contains { name.hasPrefix($0) } ? .read : .write
        }
    }

    private struct Key: Hashable {
        var principal: Int64
        var methodClass: MethodClass
    }

    public let configuration: CallLimitConfiguration
    private let buckets = Mutex<[Key: TokenBucket]>([:])
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    public init(_ configuration: CallLimitConfiguration) {
        self.configuration = configuration
        self.start = self.clock.now
    }

    /// Takes a call of `principal` to `method` from its bucket, or throws RESOURCE_EXHAUSTED.
    public func admit(_ principal: Principal, method: String) throws {
        guard principal.role != .provinceAdmin, principal.role != .service else { return }
        let methodClass = MethodClass(method: method)
        let (rate, burst) = methodClass == .read
            ? (self.configuration.readsPerSecond, self.configuration.readBurst)
            : (self.configuration.writesPerSecond, self.configuration.writeBurst)
        guard rate > 0 else { return }
        let elapsed = self.clock.now - self.start
        let now = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let key = Key(principal: principal.id, methodClass: methodClass)
        let wait = self.buckets.withLock { buckets -> Double? in
            if buckets.count > 100_000 { buckets.removeAll(keepingCapacity: true) }
            var bucket = buckets[key] ?? TokenBucket(rate: rate, burst: max(1, burst), now: now)
            defer { buckets[key] = bucket }
            return bucket.take(now: now)
        }
        guard let wait else { return }
        let milliseconds = max(1, Int((wait * 1000).rounded(.up)))
        throw RPCError(
            .resourceExhausted,
            "\(principal.name) has made more than \(Self.text(rate)) \(methodClass.rawValue) calls a second (bursts of \(Self.text(burst))); retry after \(milliseconds) ms",
            metadata: ["retry-after-ms": String(milliseconds)]
        )
    }

    private static func text(_ number: Double) -> String {
        number == number.rounded() ? String(Int(number)) : String(number)
    }
}
