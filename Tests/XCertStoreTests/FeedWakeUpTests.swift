import Testing
import XCertService

@Suite("Feed followers woken early")
struct FeedWakeUpTests {
    @Test("a follower woken while it sleeps looks at once; a wake-up before the sleep is kept; another feed's does not count")
    func wakeUps() async {
        let wakeUps = FeedWakeUps()
        let clock = ContinuousClock()
        // Woken after 50 ms of a 10 s sleep.
        let started = clock.now
        async let slept: Void = wakeUps.sleep("filing.rosters", upTo: .seconds(10))
        try? await Task.sleep(for: .milliseconds(50))
        wakeUps.wake("filing.rosters")
        await slept
        #expect(clock.now - started < .seconds(5))
        // Woken before it sleeps: the next sleep returns at once.
        wakeUps.wake("registry.qualifications")
        let early = clock.now
        await wakeUps.sleep("registry.qualifications", upTo: .seconds(10))
        #expect(clock.now - early < .seconds(5))
        // Another feed's wake-up leaves this one asleep for its interval.
        wakeUps.wake("filing.approvals")
        let full = clock.now
        await wakeUps.sleep("filing.rosters", upTo: .milliseconds(200))
        #expect(clock.now - full >= .milliseconds(200))
    }
}
