import Testing
import XCertService
import XCertWire

@Suite("Limits per principal: token buckets, method classes, configuration")
struct CallLimitTests {
    @Test("a bucket gives its burst at once, then one call per 1/rate seconds, and says how long to wait")
    func bucket() {
        var bucket = TokenBucket(rate: 2, burst: 3, now: 0)
        #expect((0..<3).map { _ in bucket.take(now: 0) } == [nil, nil, nil])
        #expect(bucket.take(now: 0) == 0.5, "the fourth waits half a second at 2 a second")
        #expect(bucket.take(now: 0.25) == 0.25)
        #expect(bucket.take(now: 0.5) == nil, "after half a second, one more")
        #expect(bucket.take(now: 100) == nil)
        #expect((0..<2).map { _ in bucket.take(now: 100) } == [nil, nil], "idle, it refills only up to its burst")
        #expect(bucket.take(now: 100) != nil)
        #expect(bucket.take(now: 99) != nil, "a clock read out of order gives nothing back")
    }

    @Test("reads are Get…, List…, Check… and WhoAmI; everything else is a write")
    func methodClasses() {
        #expect(CallLimits.MethodClass(method: "/xcert.registry.v1.ReferenceDataService/GetSchool") == .read)
        #expect(CallLimits.MethodClass(method: "/xcert.filing.v1.RosterService/ListCandidates") == .read)
        #expect(CallLimits.MethodClass(method: "/xcert.filing.v1.ApprovalService/CheckCertificateApproval") == .read)
        #expect(CallLimits.MethodClass(method: "/xcert.registry.v1.PrincipalService/WhoAmI") == .read)
        #expect(CallLimits.MethodClass(method: "/xcert.filing.v1.FilingService/SubmitFiling") == .write)
        #expect(CallLimits.MethodClass(method: "/xcert.filing.v1.RosterService/UploadChunk") == .write)
    }

    @Test("a school past its limit is refused with retry-after-ms; the province and the services never are; another school has its own bucket")
    func admission() throws {
        let limits = CallLimits(CallLimitConfiguration(readsPerSecond: 1, readBurst: 2, writesPerSecond: 1, writeBurst: 1))
        let school = Principal(id: 7, name: "学校", role: .school, party: "4136010001")
        let other = Principal(id: 8, name: "另一学校", role: .school, party: "4136010002")
        let get = "/xcert.registry.v1.ReferenceDataService/GetSchool"
        try limits.admit(school, method: get)
        try limits.admit(school, method: get)
        do {
            try limits.admit(school, method: get)
            Issue.record("a third read at once was admitted past a burst of 2")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(Int(error.metadata["retry-after-ms"] ?? "") ?? 0 > 0, "\(error.metadata)")
        }
        try limits.admit(school, method: "/xcert.registry.v1.PilotService/SubmitApplication")
        try limits.admit(other, method: get)
        for role in [Principal.Role.provinceAdmin, .service] {
            let own = Principal(id: 1, name: "省厅", role: role, party: nil)
            for _ in 0..<1000 { try limits.admit(own, method: get) }
        }
        for _ in 0..<1000 { try CallLimits(.unlimited).admit(school, method: get) }
    }

    @Test("XCERT_LIMIT_* configure the limits (0: none); defaults 200 reads and 50 writes a second; a bad value is named")
    func configuration() throws {
        let defaults = try ServiceConfiguration(name: "registry", defaultPort: 7101, environment: ["PGPASSFILE": "/nonexistent"])
        #expect(defaults.callLimits == CallLimitConfiguration(readsPerSecond: 200, readBurst: 400, writesPerSecond: 50, writeBurst: 100))
        let set = try ServiceConfiguration(name: "filing", defaultPort: 7102, environment: [
            "PGPASSFILE": "/nonexistent", "XCERT_LIMIT_READS_PER_SECOND": "0", "XCERT_LIMIT_WRITES_PER_SECOND": "5", "XCERT_LIMIT_WRITE_BURST": "10",
        ])
        #expect(set.callLimits.readsPerSecond == 0 && set.callLimits.writesPerSecond == 5 && set.callLimits.writeBurst == 10)
        #expect(throws: (any Error).self) {
            try ServiceConfiguration(name: "filing", defaultPort: 7102, environment: ["PGPASSFILE": "/nonexistent", "XCERT_LIMIT_WRITE_BURST": "lots"])
        }
    }
}
