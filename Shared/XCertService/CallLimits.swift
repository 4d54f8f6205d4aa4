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

/// How many calls a second one principal may make, per class of method, and how many calls
/// without a valid token one client address may make; 0 is no limit.
public struct CallLimitConfiguration: Sendable, Equatable {
    public var readsPerSecond: Double
    public var readBurst: Double
    public var writesPerSecond: Double
    public var writeBurst: Double
    /// Calls without a valid token, per client address.
    public var unauthenticatedPerSecond: Double
    public var unauthenticatedBurst: Double

    public init(
        readsPerSecond: Double = 200,
        readBurst: Double = 400,
        writesPerSecond: Double = 50,
        writeBurst: Double = 100,
        unauthenticatedPerSecond: Double = 20,
        unauthenticatedBurst: Double = 200
    ) {
        self.readsPerSecond = readsPerSecond
        self.readBurst = readBurst
        self.writesPerSecond = writesPerSecond
        self.writeBurst = writeBurst
        self.unauthenticatedPerSecond = unauthenticatedPerSecond
        self.unauthenticatedBurst = unauthenticatedBurst
    }

    /// No limit at all.
    public static let unlimited = CallLimitConfiguration(
        readsPerSecond: 0, readBurst: 0, writesPerSecond: 0, writeBurst: 0, unauthenticatedPerSecond: 0, unauthenticatedBurst: 0
    )
}

/// The limits per principal (issue 9): a token bucket for each principal and class of
/// method, as each rpc declares it in `proto/` (``MethodContract/LimitClass``). Schools,
/// city bureaus and organizations are limited; the province's own tokens and the services'
/// are never, so no organization can starve them. Past its limit a caller gets
/// RESOURCE_EXHAUSTED with `retry-after-ms` in the response metadata.
///
/// Calls whose token is missing or unknown are limited per client address
/// (``CallLimitConfiguration/unauthenticatedPerSecond``), so guessing tokens costs the
/// database little.
public final class CallLimits: Sendable {
    private enum Key: Hashable {
        case principal(Int64, MethodContract.LimitClass)
        case address(String)
    }

    public let configuration: CallLimitConfiguration
    private let buckets = Mutex<[Key: TokenBucket]>([:])
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    public init(_ configuration: CallLimitConfiguration) {
        self.configuration = configuration
        self.start = self.clock.now
    }

    /// Takes a call of `principal` of `limitClass` from its bucket, or throws RESOURCE_EXHAUSTED.
    public func admit(_ principal: Principal, limitClass: MethodContract.LimitClass) throws {
        guard principal.role != .provinceAdmin, principal.role != .service else { return }
        let (rate, burst) =
            limitClass == .read
            ? (self.configuration.readsPerSecond, self.configuration.readBurst)
            : (self.configuration.writesPerSecond, self.configuration.writeBurst)
        guard let wait = self.take(.principal(principal.id, limitClass), rate: rate, burst: burst) else { return }
        throw Self.refusal(
            "\(principal.name) has made more than \(Self.text(rate)) \(limitClass.rawValue) calls a second (bursts of \(Self.text(burst)))",
            wait: wait
        )
    }

    /// Takes a call without a valid token from `address`'s bucket, or throws RESOURCE_EXHAUSTED.
    public func admitUnauthenticated(from address: String) throws {
        let rate = self.configuration.unauthenticatedPerSecond
        let burst = self.configuration.unauthenticatedBurst
        guard let wait = self.take(.address(address), rate: rate, burst: burst) else { return }
        throw Self.refusal(
            "\(address) has made more than \(Self.text(rate)) calls a second without a valid token (bursts of \(Self.text(burst)))",
            wait: wait
        )
    }

    /// nil when the bucket had a token (or there is no limit), else the seconds to wait.
    private func take(_ key: Key, rate: Double, burst: Double) -> Double? {
        guard rate > 0 else { return nil }
        let elapsed = self.clock.now - self.start
        let now = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return self.buckets.withLock { buckets -> Double? in
            if buckets.count > 100_000 { buckets.removeAll(keepingCapacity: true) }
            var bucket = buckets[key] ?? TokenBucket(rate: rate, burst: max(1, burst), now: now)
            defer { buckets[key] = bucket }
            return bucket.take(now: now)
        }
    }

    private static func refusal(_ what: String, wait: Double) -> RPCError {
        let milliseconds = max(1, Int((wait * 1000).rounded(.up)))
        return RPCError(
            .resourceExhausted,
            "\(what); retry after \(milliseconds) ms",
            metadata: ["retry-after-ms": String(milliseconds)]
        )
    }

    private static func text(_ number: Double) -> String {
        number == number.rounded() ? String(Int(number)) : String(number)
    }
}
