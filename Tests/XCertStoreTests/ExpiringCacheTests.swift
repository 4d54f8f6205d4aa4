import Testing
import XCertService

@Suite("ExpiringCache: values trusted for a lifetime, bounded in number")
struct ExpiringCacheTests {
    @Test("a value is returned until its lifetime has passed, then never again")
    func expiry() {
        let cache = ExpiringCache<String, Int>(lifetime: .seconds(5), capacity: 10)
        let start = ContinuousClock.now
        cache.insert(1, for: "a", now: start)
        #expect(cache.value(for: "a", now: start) == 1)
        #expect(cache.value(for: "a", now: start + .milliseconds(4999)) == 1)
        #expect(cache.value(for: "a", now: start + .seconds(5)) == nil, "at its lifetime a value is no longer trusted")
        #expect(cache.value(for: "a", now: start) == nil, "an expired value is forgotten, not kept for an earlier clock reading")
        #expect(cache.value(for: "b", now: start) == nil)
    }

    @Test("fetching again renews a value; removing forgets it at once")
    func renewAndRemove() {
        let cache = ExpiringCache<String, Int>(lifetime: .seconds(5), capacity: 10)
        let start = ContinuousClock.now
        cache.insert(1, for: "a", now: start)
        cache.insert(2, for: "a", now: start + .seconds(4))
        #expect(cache.value(for: "a", now: start + .seconds(8)) == 2)
        cache.remove("a")
        #expect(cache.value(for: "a", now: start + .seconds(8)) == nil)
    }

    @Test("when full, expired values go first; if none has expired, all go; it never holds more than its capacity")
    func bounded() {
        let cache = ExpiringCache<Int, Int>(lifetime: .seconds(5), capacity: 3)
        let start = ContinuousClock.now
        cache.insert(0, for: 0, now: start)
        cache.insert(1, for: 1, now: start + .seconds(3))
        cache.insert(2, for: 2, now: start + .seconds(3))
        cache.insert(3, for: 3, now: start + .seconds(6))
        #expect(cache.count == 3, "the expired 0 made room")
        #expect(cache.value(for: 1, now: start + .seconds(6)) == 1)
        #expect(cache.value(for: 3, now: start + .seconds(6)) == 3)
        cache.insert(2, for: 2, now: start + .seconds(6))
        #expect(cache.count == 3, "replacing a value takes no room")
        cache.insert(4, for: 4, now: start + .seconds(6))
        #expect(cache.count == 1, "nothing had expired: everything went but the new value")
        #expect(cache.value(for: 4, now: start + .seconds(6)) == 4)
        for key in 10..<1000 { cache.insert(key, for: key, now: start + .seconds(6)) }
        #expect(cache.count <= 3)
    }
}
