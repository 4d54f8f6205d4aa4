import Synchronization

/// What a service may trust for a short while without asking again: each value is kept for
/// at most ``lifetime`` from when it was fetched, so a change at its source (a token
/// revoked, a certificate given to another organization) takes effect here within that
/// time. At most ``capacity`` values are kept: when full, the expired ones go first, and if
/// none has expired everything goes, so a flood of different keys cannot grow it.
///
/// Only what was found is cached: a caller that finds nothing stores nothing (and removes
/// what it had), so something new is seen at once.
public final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry: Sendable {
        let value: Value
        let expires: ContinuousClock.Instant
    }

    /// How long a value is trusted after it was fetched.
    public let lifetime: Duration
    /// How many values are kept at most.
    public let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])

    public init(lifetime: Duration, capacity: Int) {
        precondition(capacity > 0, "a cache keeps at least one value")
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The value of `key` if it was fetched less than ``lifetime`` before `now`.
    public func value(for key: Key, now: ContinuousClock.Instant = .now) -> Value? {
        self.entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    /// Keeps `value`, fetched at `now`, for ``lifetime``.
    public func insert(_ value: Value, for key: Key, now: ContinuousClock.Instant = .now) {
        self.entries.withLock { entries in
            if entries[key] == nil, entries.count >= self.capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= self.capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(value: value, expires: now + self.lifetime)
        }
    }

    /// Forgets `key`'s value.
    public func remove(_ key: Key) {
        _ = self.entries.withLock { $0.removeValue(forKey: key) }
    }

    /// How many values are kept (expired ones included until they are next looked at).
    public var count: Int { self.entries.withLock { $0.count } }
}
