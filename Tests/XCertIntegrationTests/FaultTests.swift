import Foundation
import SwiftProtobuf
import Synchronization
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

/// Faults under load (issue 9): a steady load of filing submissions (and their
/// withdrawals) and roster chunks, each with an idempotency key and retried with the same
/// key until acknowledged, while every service in turn is killed with SIGKILL and started
/// again, PostgreSQL is restarted (fast shutdown, then start), and PostgreSQL is frozen
/// with SIGSTOP for longer than the requests' deadline. Afterwards every acknowledged write
/// is present exactly once, nothing is half-present, the change feeds have caught up, and a
/// repeat of any acknowledged request with its key gets the first answer.
@Suite(
    "Faults under load", .serialized,
    .enabled(if: TestCluster.isConfigured, "needs PostgreSQL, as scripts/test provides"),
    .timeLimit(.minutes(10))
)
struct FaultTests {
    /// The deadline of every write of the load; the database's pause outlasts it.
    static let deadline: Duration = .seconds(3)
    static let pause: Duration = .seconds(6)
    static let filingYears: [Int32] = [2030, 2031, 2032]
    static let rowsPerChunk = 500
    static let chunksPerRoster = 6

    @Test("SIGKILL of each service, a PostgreSQL restart and a frozen PostgreSQL lose nothing acknowledged and double nothing")
    func faultsUnderLoad() async throws {
        try await PrivateCluster.with { cluster in
            try await withFullStack(on: cluster) { stack in
                let harness = stack.harness()
                let world = try await harness.rosterWorld()
                for year in Self.filingYears { try await harness.openRound(year: year) }
                await harness.client.close()
                await harness.filingClient?.close()

                let ledger = LoadLedger()
                let filingPort = stack.filing.port
                var restarted: [ServiceProcess] = []
                var recoveries: [(String, Duration)] = []

                try await withThrowingTaskGroup(of: Void.self) { load in
                    for year in Self.filingYears {
                        load.addTask { try await Self.fileAndWithdraw(year: year, port: filingPort, token: world.car, ledger: ledger) }
                    }
                    load.addTask { try await Self.uploadRosters(port: filingPort, token: world.car, ledger: ledger) }

                    try await ledger.waitForAcknowledgements(20)
                    for name in ["registry", "filing", "assessment", "settlement"] {
                        let process = restarted.first { $0.name == name } ?? stack.process(name)
                        let fault = ContinuousClock.now
                        kill(process.pid, SIGKILL)
                        _ = try await process.waitForExit(within: .seconds(10))
                        let inEffect = ContinuousClock.now
                        restarted.removeAll { $0.name == name }
                        restarted.append(try await stack.restart(name))
                        recoveries.append(("SIGKILL \(name)", try await ledger.firstAcknowledgement(after: inEffect) - fault))
                    }

                    var fault = ContinuousClock.now
                    try await cluster.stop()
                    var inEffect = ContinuousClock.now
                    try await Task.sleep(for: .seconds(1))
                    try await cluster.start()
                    recoveries.append(("PostgreSQL restart", try await ledger.firstAcknowledgement(after: inEffect) - fault))

                    fault = ContinuousClock.now
                    try cluster.pause()
                    inEffect = ContinuousClock.now
                    try await Task.sleep(for: Self.pause)
                    try await cluster.resume()
                    recoveries.append(("PostgreSQL SIGSTOP \(Self.pause)", try await ledger.firstAcknowledgement(after: inEffect) - fault))

                    try await ledger.waitForAcknowledgements(ledger.acknowledgedCount + 10)
                    ledger.stop()
                    try await load.waitForAll()
                }

                let figures = ledger.figures
                let checks = try await Self.verify(stack: stack, ledger: ledger, token: world.car, filingPort: filingPort)
                print(
                    """
                    FAULTS requests sent \(figures.sent), acknowledged \(figures.acknowledged), retried \(figures.retried), \
                    lost \(checks.lost), doubled \(checks.doubled), \
                    replays matching the first answer \(checks.replayed)/\(figures.acknowledged)
                    """)
                for (what, recovery) in recoveries {
                    let seconds = String(format: "%.2f", Double(recovery.milliseconds) / 1000)
                    print("FAULTS \(what): writes acknowledged again \(seconds) s after the fault began")
                }
                #expect(checks.lost == 0)
                #expect(checks.doubled == 0)
                #expect(checks.replayed == figures.acknowledged)
                #expect(figures.retried > 0, "the faults should have made some requests fail and be retried")
                for process in restarted { _ = try await process.terminate() }
            }
        }
    }

    // MARK: - The load

    /// Files the same certificate for `year` and withdraws it, over and over: each filing is
    /// a new version, so a submission done twice would show as an extra version.
    static func fileAndWithdraw(year: Int32, port: Int, token: String, ledger: LoadLedger) async throws {
        let client = testClient(port: port, timeout: Self.deadline, localDeadlineSlack: .seconds(2))
        defer { Task { await client.close() } }
        var round = 0
        while !ledger.isStopped {
            round += 1
            let submission = RegistryHarness.submission("NEV", year: year)
            let filing = try await ledger.acknowledged(
                Xcert_Filing_V1_FilingService.Method.submitFiling, submission,
                key: "fault-submit-\(year)-\(round)", token: token, client: client
            )
            ledger.filed(filing)
            var withdraw = Xcert_Filing_V1_WithdrawFilingRequest()
            withdraw.id = filing.id
            withdraw.reason = "再次报送"
            _ = try await ledger.acknowledged(
                Xcert_Filing_V1_FilingService.Method.withdrawFiling, withdraw,
                key: "fault-withdraw-\(year)-\(round)", token: token, client: client
            )
        }
    }

    /// Rosters of AUTO exams, one after another, each of `chunksPerRoster` chunks, then sealed.
    static func uploadRosters(port: Int, token: String, ledger: LoadLedger) async throws {
        let client = testClient(port: port, timeout: Self.deadline, localDeadlineSlack: .seconds(2))
        defer { Task { await client.close() } }
        var number = 0
        while !ledger.isStopped && number < 27 {
            number += 1
            let roster = try await ledger.acknowledged(
                Xcert_Filing_V1_RosterService.Method.createRoster, RegistryHarness.rosterRequest(day: Int32(number)),
                key: "fault-roster-\(number)", token: token, client: client
            )
            for chunk in 0..<Self.chunksPerRoster {
                let first = (number * Self.chunksPerRoster + chunk) * Self.rowsPerChunk
                let answer = try await ledger.acknowledged(
                    Xcert_Filing_V1_RosterService.Method.uploadChunk,
                    RegistryHarness.chunk(roster.id, Int32(chunk), Candidates.rows(from: first, count: Self.rowsPerChunk)),
                    key: "fault-chunk-\(number)-\(chunk)", token: token, client: client
                )
                ledger.uploaded(roster: roster.id, chunk: answer.chunk.index)
            }
            var seal = Xcert_Filing_V1_SealRosterRequest()
            seal.rosterID = roster.id
            seal.expectedRowCount = Int64(Self.chunksPerRoster * Self.rowsPerChunk)
            _ = try await ledger.acknowledged(
                Xcert_Filing_V1_RosterService.Method.sealRoster, seal,
                key: "fault-seal-\(number)", token: token, client: client
            )
            ledger.sealed(roster: roster.id)
        }
    }

    // MARK: - The checks

    struct Checks {
        var lost = 0
        var doubled = 0
        var replayed = 0
    }

    static func verify(stack: FullStack, ledger: LoadLedger, token: String, filingPort: Int) async throws -> Checks {
        var checks = Checks()
        let postgres = stack.postgres
        let state = ledger.snapshot

        // Filings: every acknowledged one is there; no version beyond those acknowledged.
        let filingIDs = state.filings.map(\.id)
        let present = try await postgres.scalar("SELECT count(*) FROM filing.filings WHERE id = ANY(\(filingIDs))", as: Int64.self) ?? 0
        checks.lost += filingIDs.count - Int(present)
        let stored =
            try await postgres.scalar(
                "SELECT count(*) FROM filing.filings WHERE certificate_code = 'NEV' AND year = ANY(\(Self.filingYears))", as: Int64.self
            ) ?? 0
        checks.doubled += Int(stored) - filingIDs.count
        for year in Self.filingYears {
            let versions =
                try await postgres.scalar(
                    "SELECT coalesce(max(version), 0) - count(*) FROM filing.filings WHERE certificate_code = 'NEV' AND year = \(year)",
                    as: Int64.self
                ) ?? 0
            #expect(versions == 0, "the versions of \(year) have a gap: a submission half-present")
        }

        // Rosters: every acknowledged chunk once, with its rows; nothing else.
        let chunks =
            try await postgres.scalar(
                "SELECT count(*) FROM filing.roster_chunks WHERE roster_id = ANY(\(Array(state.chunks.keys)))", as: Int64.self
            ) ?? 0
        let acknowledgedChunks = state.chunks.values.reduce(0) { $0 + $1.count }
        checks.lost += max(0, acknowledgedChunks - Int(chunks))
        checks.doubled += max(0, Int(chunks) - acknowledgedChunks)
        let rows = try await postgres.scalar("SELECT count(*) FROM filing.roster_candidates", as: Int64.self) ?? 0
        #expect(rows == Int64(acknowledgedChunks * Self.rowsPerChunk), "rows of chunks not acknowledged, or rows missing")

        // The feeds: assessment has counted every sealed roster once, and every follower's
        // cursor has reached the end of the feed it follows.
        let sealedRows = Int64(state.sealed.count * Self.chunksPerRoster * Self.rowsPerChunk)
        try await Self.eventually("assessment and settlement caught up with their feeds") {
            let counted = try await postgres.scalar(
                "SELECT coalesce(sum(declared), 0)::bigint FROM assessment.roster_counts WHERE roster_id = ANY(\(state.sealed))",
                as: Int64.self
            )
            let behind = try await postgres.scalar(
                """
                SELECT count(*) FROM (VALUES
                    ((SELECT cursor FROM assessment.feed_cursors WHERE feed = 'filing.rosters'),
                        (SELECT max(cursor) FROM filing.roster_changes)),
                    ((SELECT cursor FROM assessment.feed_cursors WHERE feed = 'registry.qualifications'),
                        (SELECT max(cursor) FROM registry.qualification_changes)),
                    ((SELECT cursor FROM settlement.feed_cursors WHERE feed = 'filing.approvals'),
                        (SELECT max(cursor) FROM filing.approval_changes)),
                    ((SELECT cursor FROM settlement.feed_cursors WHERE feed = 'assessment.outcomes'),
                        (SELECT max(cursor) FROM assessment.outcome_changes))
                ) AS f(followed, last)
                WHERE coalesce(followed, 0) < coalesce(last, 0)
                """,
                as: Int64.self
            )
            return counted == sealedRows && behind == 0
        }

        // Every acknowledged request, sent again with its key, gets its first answer.
        let client = testClient(port: filingPort, timeout: .seconds(20))
        defer { Task { await client.close() } }
        for request in state.answers {
            let response = try await client.call(
                request.method, payload: request.payload,
                metadata: ["authorization": "Bearer \(token)", "idempotency-key": request.key], timeout: .seconds(20)
            )
            if response.status.code == .ok || !response.hasStatus, response.payload == request.answer {
                checks.replayed += 1
            } else {
                print("FAULTS replay of \(request.method) (\(request.key)) differs: \(response.status.code) \(response.status.message)")
            }
        }
        return checks
    }

    static func eventually(_ what: String, within limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let giveUp = ContinuousClock.now + limit
        while try await !condition() {
            guard ContinuousClock.now < giveUp else {
                Issue.record("not within \(limit): \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// What the load sent and what it got back: every attempt, every acknowledged request with
/// its key, its payload and its first answer, and what the acknowledgements say exists.
final class LoadLedger: Sendable {
    struct Answer: Sendable {
        var method: String
        var key: String
        var payload: Data
        var answer: Data
    }

    struct State: Sendable {
        var sent = 0
        var retried = 0
        var answers: [Answer] = []
        /// When each acknowledged attempt was sent, and when its answer came.
        var acknowledgedAt: [(sent: ContinuousClock.Instant, answered: ContinuousClock.Instant)] = []
        var filings: [Xcert_Filing_V1_Filing] = []
        var chunks: [Int64: Set<Int32>] = [:]
        var sealed: [Int64] = []
        var stopped = false
    }

    private let state = Mutex(State())

    /// Asks the load to end after the operation each worker is in.
    func stop() { self.state.withLock { $0.stopped = true } }
    var isStopped: Bool { self.state.withLock { $0.stopped } }

    var snapshot: State { self.state.withLock { $0 } }
    var acknowledgedCount: Int { self.state.withLock { $0.answers.count } }
    var figures: (sent: Int, acknowledged: Int, retried: Int) {
        self.state.withLock { ($0.sent, $0.answers.count, $0.retried) }
    }

    /// Sends `request` with `key` until it is acknowledged, retrying what a fault explains
    /// (no connection, deadline passed, service or database unavailable, limits); any other
    /// refusal fails the test. Gives up after two minutes.
    func acknowledged<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ descriptor: MethodDescriptor<Request, Response>, _ request: Request, key: String, token: String, client: RPCClient
    ) async throws -> Response {
        let method = descriptor.name
        let payload = try request.serializedData()
        let metadata = ["authorization": "Bearer \(token)", "idempotency-key": key]
        let giveUp = ContinuousClock.now + .seconds(120)
        var attempt = 0
        while true {
            attempt += 1
            self.state.withLock {
                $0.sent += 1
                if attempt > 1 { $0.retried += 1 }
            }
            let error: RPCError
            let sentAt = ContinuousClock.now
            do {
                let response = try await client.call(method, payload: payload, metadata: metadata, timeout: FaultTests.deadline)
                if !response.hasStatus || response.status.code == .ok {
                    self.state.withLock {
                        $0.answers.append(Answer(method: method, key: key, payload: payload, answer: response.payload))
                        $0.acknowledgedAt.append((sentAt, .now))
                    }
                    return try Response(serializedBytes: response.payload)
                }
                error = RPCError(wireStatus: response.status, metadata: response.metadata)
            } catch let thrown as RPCError {
                error = thrown
            }
            guard [.unavailable, .deadlineExceeded, .resourceExhausted, .aborted, .cancelled].contains(error.code) else {
                throw error
            }
            guard ContinuousClock.now < giveUp else { throw error }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func filed(_ filing: Xcert_Filing_V1_Filing) { self.state.withLock { $0.filings.append(filing) } }
    func uploaded(roster: Int64, chunk: Int32) { self.state.withLock { _ = $0.chunks[roster, default: []].insert(chunk) } }
    func sealed(roster: Int64) { self.state.withLock { $0.sealed.append(roster) } }

    func waitForAcknowledgements(_ count: Int, within limit: Duration = .seconds(120)) async throws {
        let giveUp = ContinuousClock.now + limit
        while self.acknowledgedCount < count {
            guard ContinuousClock.now < giveUp else { throw ProcessFailure("fewer than \(count) writes acknowledged within \(limit)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// When the first write sent after `instant` was acknowledged (waits for it). From the
    /// moment a fault is in effect (the process gone, PostgreSQL stopped or frozen), so that a
    /// write that slipped through as the fault began does not count as a recovery.
    func firstAcknowledgement(
        after instant: ContinuousClock.Instant, within limit: Duration = .seconds(120)
    ) async throws -> ContinuousClock.Instant {
        let giveUp = ContinuousClock.now + limit
        while true {
            if let first = self.state.withLock({ $0.acknowledgedAt.filter { $0.sent > instant }.map(\.answered).min() }) { return first }
            guard ContinuousClock.now < giveUp else { throw ProcessFailure("no write acknowledged within \(limit) of a fault") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
