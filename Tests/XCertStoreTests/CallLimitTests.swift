import Testing
import XCertAPI
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

    @Test("each rpc declares its limit class in proto/: reads draw on reads, every change on writes")
    func methodClasses() {
        #expect(Xcert_Registry_V1_ReferenceDataService.Method.getSchool.contract.limitClass == .read)
        #expect(Xcert_Filing_V1_RosterService.Method.listCandidates.contract.limitClass == .read)
        #expect(Xcert_Filing_V1_ApprovalService.Method.checkCertificateApproval.contract.limitClass == .read)
        #expect(Xcert_Registry_V1_PrincipalService.Method.whoAmI.contract.limitClass == .read)
        #expect(Xcert_Filing_V1_FilingService.Method.submitFiling.contract.limitClass == .write)
        #expect(Xcert_Filing_V1_RosterService.Method.uploadChunk.contract.limitClass == .write)
    }

    @Test(
        "a school past its limit is refused with retry-after-ms; the province and the services never are; another school has its own bucket"
    )
    func admission() throws {
        let limits = CallLimits(CallLimitConfiguration(readsPerSecond: 1, readBurst: 2, writesPerSecond: 1, writeBurst: 1))
        let school = Principal(id: 7, name: "学校", role: .school, party: "4136010001")
        let other = Principal(id: 8, name: "另一学校", role: .school, party: "4136010002")
        let get = MethodContract.LimitClass.read
        try limits.admit(school, limitClass: get)
        try limits.admit(school, limitClass: get)
        do {
            try limits.admit(school, limitClass: get)
            Issue.record("a third read at once was admitted past a burst of 2")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(Int(error.metadata["retry-after-ms"] ?? "") ?? 0 > 0, "\(error.metadata)")
        }
        try limits.admit(school, limitClass: .write)
        try limits.admit(other, limitClass: get)
        for role in [Principal.Role.provinceAdmin, .service] {
            let own = Principal(id: 1, name: "省厅", role: role, party: nil)
            for _ in 0..<1000 { try limits.admit(own, limitClass: get) }
        }
        for _ in 0..<1000 { try CallLimits(.unlimited).admit(school, limitClass: get) }
    }

    @Test("XCERT_LIMIT_* configure the limits (0: none); defaults 200 reads and 50 writes a second; a bad value is named")
    func configuration() throws {
        let defaults = try ServiceConfiguration(name: "registry", defaultPort: 7101, environment: ["PGPASSFILE": "/nonexistent"])
        #expect(defaults.callLimits == CallLimitConfiguration(readsPerSecond: 200, readBurst: 400, writesPerSecond: 50, writeBurst: 100))
        #expect(defaults.callLimits.unauthenticatedPerSecond == 20 && defaults.callLimits.unauthenticatedBurst == 200)
        let set = try ServiceConfiguration(
            name: "filing", defaultPort: 7102,
            environment: [
                "PGPASSFILE": "/nonexistent", "XCERT_LIMIT_READS_PER_SECOND": "0", "XCERT_LIMIT_WRITES_PER_SECOND": "5",
                "XCERT_LIMIT_WRITE_BURST": "10",
            ])
        #expect(set.callLimits.readsPerSecond == 0 && set.callLimits.writesPerSecond == 5 && set.callLimits.writeBurst == 10)
        #expect(throws: (any Error).self) {
            try ServiceConfiguration(
                name: "filing", defaultPort: 7102, environment: ["PGPASSFILE": "/nonexistent", "XCERT_LIMIT_WRITE_BURST": "lots"])
        }
    }

    @Test("calls without a valid token are limited per client address, each address its own bucket; 0 is no limit")
    func unauthenticated() throws {
        let limits = CallLimits(CallLimitConfiguration(unauthenticatedPerSecond: 1, unauthenticatedBurst: 3))
        for _ in 0..<3 { try limits.admitUnauthenticated(from: "192.0.2.1") }
        do {
            try limits.admitUnauthenticated(from: "192.0.2.1")
            Issue.record("a fourth call without a token was admitted past a burst of 3")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("192.0.2.1") && error.message.contains("without a valid token"), "\(error.message)")
            #expect(Int(error.metadata["retry-after-ms"] ?? "") ?? 0 > 0)
        }
        try limits.admitUnauthenticated(from: "192.0.2.2")
        for _ in 0..<1000 { try CallLimits(.unlimited).admitUnauthenticated(from: "192.0.2.1") }
    }
}
