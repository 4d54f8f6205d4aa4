import ArgumentParser
import BenchSupport
import Foundation
import Histogram
import Synchronization
import XCertAPI
import XCertProto
import XCertWire

// MARK: - The soak (issue 9, item 7)

/// A mixed load at a fixed rate for a long while, against the four services of a benchmark
/// world (`xcert-load setup`), to see that nothing fails and that no service's memory grows:
/// reads (GetSchool and ListFilings), filing submissions, roster chunks (each roster
/// created, uploaded chunk by chunk and sealed, so that assessment counts it and
/// settlement charges the schools) and payments (RecordPayment, oldest receivables first).
///
/// Open loop: each kind's calls are started on a schedule of their own (`--rate` calls a
/// second in all, shared among the kinds by `--mix`), whether or not earlier ones
/// have been answered; a call due while `--max-in-flight` of its kind are unanswered is not
/// made but counted as *behind*. Every `--report-every` seconds a line gives each kind's
/// throughput and p99, the errors and the RSS of each `--pid`; the end prints a summary and
/// exits 1 if a call failed, a kind fell short of its rate, or a service's RSS in the last
/// minute differs by more than `--tolerance` from its RSS in the second minute.
struct Soak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue 9's soak: reads, filings, roster chunks and payments at fixed rates; memory and errors checked (scripts/soak)."
    )

    @Option(help: "The registry, host:port.") var registry = "127.0.0.1:7301"
    @Option(help: "The filing service, host:port.") var filing = "127.0.0.1:7302"
    @Option(help: "The settlement service, host:port.") var settlement = "127.0.0.1:7304"
    @Option(help: "A file holding a province admin's token (GetSchool, RecordPayment).") var adminTokenFile: String
    @Option(help: "A file holding the benchmark organization's token (filings, rosters, ListFilings).") var organizationTokenFile: String
    @Option(help: "The folder `xcert-load setup` wrote: schools.txt, qualified.txt.") var world: String
    @Option(help: "Calls a second, all kinds together; --mix shares them out.") var rate: Double
    @Option(help: "Minutes to run.") var minutes = 10.0
    @Option(help: "Shares of the calls in percent: reads (half GetSchool, half ListFilings), filings, roster (chunks), payments.")
    var mix = "reads=60,filings=20,roster=10,payments=10"
    @Option(help: "Seconds between reports.") var reportEvery = 30.0
    @Option(help: "Seconds between RSS samples.") var sampleEvery = 5.0
    @Option(help: "A service whose RSS is followed and checked, NAME=PID (repeat it).") var pid: [String] = []
    @Option(help: "PostgreSQL's postmaster pid: the PSS of it and its children is reported, not checked.") var postgresPID: String?
    @Option(help: "Certificates BENCH-0001 … of the world (setup's --certificates).") var certificates = 200
    @Option(help: "The first year with an open round 1.") var firstYear: Int32 = 2019
    @Option(help: "How many years have an open round 1.") var years: Int32 = 82
    @Option(help: "Candidates per roster chunk.") var chunkRows = 20
    @Option(help: "Chunks per roster: created, uploaded, then sealed.") var chunksPerRoster = 5
    @Option(help: "Qualified schools whose candidates sit one exam session.") var schoolsPerSession = 5
    @Option(help: "One payment, in fen.") var paymentFen: Int64 = 500_000
    @Option(help: "Connections to each service.") var connections = 2
    @Option(help: "Calls of one kind unanswered at most; one due beyond that is skipped and counted as behind.") var maxInFlight = 64
    @Option(help: "Largest change of a service's RSS from the second minute to the last, as a fraction.") var tolerance = 0.10
    @Option(help: "Least share of its scheduled rate each kind must achieve.") var minRateShare = 0.9
    @Option(help: "Write the summary as JSON to this file.") var jsonOut: String?

    func validate() throws {
        guard self.rate > 0 else { throw ValidationError("--rate must be more than 0") }
        guard self.minutes > 0 else { throw ValidationError("--minutes must be more than 0") }
        _ = try SoakMix(self.mix)
        for spec in self.pid where !spec.contains("=") { throw ValidationError("--pid takes NAME=PID, not \(spec)") }
        guard (1...5_000).contains(self.chunkRows), (1...9_999).contains(self.chunksPerRoster) else {
            throw ValidationError("--chunk-rows must be 1 to 5000 and --chunks-per-roster 1 to 9999")
        }
        let seconds = self.minutes * 60
        let filings = Int((try SoakMix(self.mix).rate(.filings, total: self.rate) * seconds * 1.02).rounded(.up)) + self.maxInFlight
        let pairs = self.certificates * Int(self.years)
        if filings > pairs {
            throw ValidationError(
                "\(filings) filings need as many certificate × year pairs; there are \(self.certificates) × \(self.years) = \(pairs): "
                    + "make the world with setup --certificates \(Int((Double(filings) / Double(self.years)).rounded(.up)))"
            )
        }
    }

    func run() async throws {
        let mix = try SoakMix(self.mix)
        let admin = try Self.token(self.adminTokenFile)
        let organization = try Self.token(self.organizationTokenFile)
        let schools = try Self.lines(self.world + "/schools.txt")
        let qualified = try Self.lines(self.world + "/qualified.txt")
        guard qualified.count >= self.schoolsPerSession else {
            throw ValidationError("\(self.world)/qualified.txt has fewer than \(self.schoolsPerSession) schools")
        }
        let processes = self.pid.map { spec -> (name: String, pid: String) in
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts[1])
        }
        for process in processes where procStatusMiB(pid: process.pid, field: "VmRSS") == nil {
            throw ValidationError("no process \(process.pid) (\(process.name))")
        }
        // Session n is held at qualified school n mod count, on day n / count of 2025.
        let rosterSessions = 365 * qualified.count
        let rosters =
            Int((mix.rate(.roster, total: self.rate) * self.minutes * 60 * 1.02 / Double(self.chunksPerRoster)).rounded(.up))
            + self.maxInFlight
        if rosters > rosterSessions {
            throw ValidationError(
                """
                \(rosters) rosters are more exam sessions than 2025 holds at \(qualified.count) sites; make rosters larger \
                (--chunks-per-roster)
                """
            )
        }
        let plan = SoakPlan(
            mix: mix, rate: self.rate, seconds: self.minutes * 60,
            registry: try (0..<self.connections).map { _ in try loadClient(self.registry, timeout: .seconds(30)) },
            filing: try (0..<self.connections).map { _ in try loadClient(self.filing, timeout: .seconds(30)) },
            settlement: try (0..<self.connections).map { _ in try loadClient(self.settlement, timeout: .seconds(30)) },
            admin: ["authorization": "Bearer \(admin)"], organization: ["authorization": "Bearer \(organization)"],
            schools: schools, qualified: qualified, workPlan: Filings.plan(),
            certificates: self.certificates, firstYear: self.firstYear, filingLimit: self.certificates * Int(self.years),
            chunkRows: self.chunkRows, chunksPerRoster: self.chunksPerRoster, schoolsPerSession: self.schoolsPerSession,
            rosterSessions: rosterSessions, paymentFen: self.paymentFen, paidOn: Self.todayUTC()
        )
        let memory = MemoryWatch(processes: processes, postgres: self.postgresPID)
        let stats = SoakStats()

        writeLine(
            "soak: \(String(format: "%g", self.minutes)) min; calls a second: "
                + SoakKind.allCases.map { "\($0.label) \(String(format: "%.1f", mix.rate($0, total: self.rate)))" }.joined(separator: ", ")
                + String(format: " (%.1f in all); reports every %.0f s", self.rate, self.reportEvery)
        )
        let started = monotonicNanoseconds()
        let ends = started + UInt64(plan.seconds * 1e9)
        var issued = [Int](repeating: 0, count: SoakKind.allCases.count)
        var nextSample = started
        var nextReport = started + UInt64(self.reportEvery * 1e9)
        var lastReport = started
        let maxInFlight = self.maxInFlight
        await withDiscardingTaskGroup { group in
            while true {
                let now = monotonicNanoseconds()
                if now >= nextSample {
                    memory.sample(at: Double(now - started) / 1e9)
                    nextSample += UInt64(self.sampleEvery * 1e9)
                }
                if now >= nextReport {
                    self.report(
                        stats.takeInterval(), seconds: Double(now - lastReport) / 1e9, at: Double(now - started) / 1e9, memory: memory)
                    lastReport = now
                    nextReport += UInt64(self.reportEvery * 1e9)
                }
                if now >= ends { break }
                let elapsed = Double(now - started) / 1e9
                for kind in SoakKind.allCases {
                    let due = Int(elapsed * mix.rate(kind, total: self.rate))
                    while issued[kind.rawValue] < due {
                        let slot = issued[kind.rawValue]
                        issued[kind.rawValue] += 1
                        guard stats.enter(kind, limit: maxInFlight) else { continue }
                        group.addTask {
                            await plan.perform(kind, slot: slot, stats: stats)
                            stats.leave(kind)
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        let finished = monotonicNanoseconds()
        let tail = Double(finished - lastReport) / 1e9
        if tail > 1 { self.report(stats.takeInterval(), seconds: tail, at: Double(finished - started) / 1e9, memory: memory) }
        for client in plan.registry + plan.filing + plan.settlement { await client.close() }

        if !self.summarize(stats, mix: mix, memory: memory) { throw ExitCode.failure }
    }

    // MARK: Reports

    func report(_ interval: SoakStats.Counts, seconds: Double, at elapsed: Double, memory: MemoryWatch) {
        var line = String(format: "[%4.0f s]", elapsed)
        for kind in SoakKind.allCases {
            line += String(
                format: " %@ %.1f/s (p99 %.1f ms)", kind.label, Double(interval.succeeded[kind.rawValue]) / seconds,
                interval.p99Milliseconds(kind))
        }
        line += " | errors \(interval.errors.reduce(0, +)) behind \(interval.behind.reduce(0, +))"
        line += " | rosters sealed \(interval.calls[SoakCall.sealRoster.rawValue])"
        line += " | RSS MiB " + memory.current().map { "\($0.name) \(String(format: "%.1f", $0.mib))" }.joined(separator: ", ")
        if let postgres = memory.postgresPSS() { line += String(format: ", postgres (PSS) %.0f", postgres) }
        writeLine(line)
    }

    /// Prints the summary; true when the run passed.
    func summarize(_ stats: SoakStats, mix: SoakMix, memory: MemoryWatch) -> Bool {
        let total = stats.total()
        let seconds = self.minutes * 60
        var failures: [String] = []
        writeLine("")
        writeLine(
            "soak summary: \(String(format: "%g", self.minutes)) min at \(String(format: "%.1f", self.rate)) calls/s (mix \(self.mix))")
        let widths = [14, 10, 11, 10, 8, 8, 9, 9]
        writeLine(tableRow(["kind", "target/s", "achieved/s", "calls", "errors", "behind", "p50 ms", "p99 ms"], widths))
        for kind in SoakKind.allCases {
            let target = mix.rate(kind, total: self.rate)
            let achieved = Double(total.succeeded[kind.rawValue]) / seconds
            writeLine(
                tableRow(
                    [
                        kind.label, String(format: "%.1f", target), String(format: "%.1f", achieved),
                        "\(total.succeeded[kind.rawValue] + total.errors[kind.rawValue])",
                        "\(total.errors[kind.rawValue])", "\(total.behind[kind.rawValue])",
                        String(format: "%.1f", total.p50Milliseconds(kind)),
                        String(format: "%.1f", total.p99Milliseconds(kind)),
                    ], widths))
            if target > 0, achieved < target * self.minRateShare {
                failures.append(
                    String(
                        format: "%@ achieved %.1f/s of %.1f/s (less than %.0f %%)", kind.label, achieved, target, self.minRateShare * 100))
            }
        }
        let calls = SoakCall.allCases.map { "\($0.method.split(separator: "/").last ?? "") \(total.calls[$0.rawValue])" }.joined(
            separator: ", ")
        writeLine("calls made: \(calls)")
        let errors = total.errors.reduce(0, +)
        if errors > 0 {
            failures.append("\(errors) calls failed")
            writeLine("errors, by method and status (at most 20 kinds shown):")
            for (message, count) in stats.errorMessages().sorted(by: { $0.value > $1.value }).prefix(20) {
                writeLine("  \(count) × \(message)")
            }
        }

        writeLine("")
        let judged = seconds >= 180
        let memoryWidths = [15, 13, 13, 9, 14]
        writeLine(tableRow(["process", "minute 2 MiB", "last min MiB", "change", "flat"], memoryWidths))
        var memoryJSON: [[String: Any]] = []
        for window in memory.windows(seconds: seconds) {
            let change = window.second.map { second in window.last.map { ($0 - second) / second } } ?? nil
            let flat = change.map { abs($0) <= self.tolerance }
            writeLine(
                tableRow(
                    [
                        window.name, window.second.map { String(format: "%.1f", $0) } ?? "-",
                        window.last.map { String(format: "%.1f", $0) } ?? "-",
                        change.map { String(format: "%+.1f %%", $0 * 100) } ?? "-",
                        window.checked ? (judged ? (flat == true ? "yes" : "NO") : "-") : "(not checked)",
                    ], memoryWidths))
            if window.checked, judged, flat != true {
                failures.append(
                    """
                    \(window.name)'s RSS went from \(window.second.map { String(format: "%.1f", $0) } ?? "?") MiB in minute 2 to \
                    \(window.last.map { String(format: "%.1f", $0) } ?? "?") MiB in the last minute
                    """
                )
            }
            if window.checked, window.lost {
                failures.append("\(window.name) exited during the run")
            }
            memoryJSON.append([
                "name": window.name, "checked": window.checked, "minute2_mib": jsonValue(window.second),
                "last_minute_mib": jsonValue(window.last),
                "change": jsonValue(change), "peak_mib": jsonValue(window.peak),
            ])
        }
        if !judged { writeLine("(memory is judged on runs of 3 minutes or more: minute 2 against the last minute)") }
        writeLine(
            """
            RSS: the mean of the samples every \(String(format: "%.0f", self.sampleEvery)) s in the window; postgres: the PSS of the \
            postmaster and its children
            """
        )

        if let path = self.jsonOut {
            let kinds = SoakKind.allCases.map { kind -> [String: Any] in
                [
                    "kind": kind.label, "target_per_s": mix.rate(kind, total: self.rate),
                    "achieved_per_s": Double(total.succeeded[kind.rawValue]) / seconds, "succeeded": total.succeeded[kind.rawValue],
                    "errors": total.errors[kind.rawValue], "behind": total.behind[kind.rawValue],
                    "p50_ms": total.p50Milliseconds(kind), "p99_ms": total.p99Milliseconds(kind),
                ]
            }
            let summary: [String: Any] = [
                "minutes": self.minutes, "rate": self.rate, "mix": self.mix, "kinds": kinds,
                "calls": Dictionary(
                    uniqueKeysWithValues: SoakCall.allCases.map {
                        (String($0.method.split(separator: "/").last ?? ""), total.calls[$0.rawValue])
                    }),
                "errors": errors, "memory": memoryJSON, "passed": failures.isEmpty, "failures": failures,
                "samples": memory.samplesJSON(),
            ]
            if let data = try? JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys]) {
                _ = FileManager.default.createFile(atPath: path, contents: data)
            }
        }

        writeLine("")
        if failures.isEmpty {
            writeLine("SOAK PASSED: 0 errors, every kind at its rate\(judged ? ", memory flat within \(Int(self.tolerance * 100)) %" : "")")
        } else {
            writeLine("SOAK FAILED: " + failures.joined(separator: "; "))
        }
        return failures.isEmpty
    }

    // MARK: Helpers

    static func token(_ path: String) throws -> String {
        let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ValidationError("\(path) holds no token") }
        return token
    }

    static func lines(_ path: String) throws -> [String] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw ValidationError("\(path) is empty") }
        return lines
    }

    /// Today in UTC: never after today in the province (UTC+8), as a payment's day must be.
    static func todayUTC() -> Xcert_Common_V1_Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: Date())
        var date = Xcert_Common_V1_Date()
        (date.year, date.month, date.day) = (Int32(parts.year!), Int32(parts.month!), Int32(parts.day!))
        return date
    }
}

/// `columns`, the first left-aligned, the others right-aligned, each in its width.
func tableRow(_ columns: [String], _ widths: [Int]) -> String {
    zip(columns, widths).enumerated().map { index, pair in
        let padding = String(repeating: " ", count: max(0, pair.1 - pair.0.count))
        return index == 0 ? pair.0 + padding : padding + pair.0
    }.joined(separator: " ")
}

/// A number for JSONSerialization, or null.
func jsonValue(_ value: Double?) -> Any {
    value.map { $0 as Any } ?? NSNull()
}

/// What the soak schedules, each at a rate of its own.
enum SoakKind: Int, CaseIterable, Sendable {
    case reads, filings, roster, payments

    var label: String {
        switch self {
        case .reads: "reads"
        case .filings: "filings"
        case .roster: "roster chunks"
        case .payments: "payments"
        }
    }
}

/// The calls the soak makes.
enum SoakCall: Int, CaseIterable, Sendable {
    case getSchool, listFilings, submitFiling, createRoster, uploadChunk, sealRoster, recordPayment

    var method: String {
        switch self {
        case .getSchool: Schools.method.name
        case .listFilings: Xcert_Filing_V1_FilingService.Method.listFilings.name
        case .submitFiling: Filings.method.name
        case .createRoster: Roster.createMethod.name
        case .uploadChunk: Roster.chunkMethod.name
        case .sealRoster: Roster.sealMethod.name
        case .recordPayment: Xcert_Settlement_V1_LedgerService.Method.recordPayment.name
        }
    }
}

/// `--mix`: each kind's share of the calls, in percent.
struct SoakMix: Sendable {
    var shares: [Double]

    init(_ text: String) throws {
        self.shares = [Double](repeating: 0, count: SoakKind.allCases.count)
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let share = Double(pair[1]), share >= 0,
                let kind = SoakKind.allCases.first(where: { $0.label.hasPrefix(pair[0]) })
            else { throw ValidationError("--mix takes reads=P,filings=P,roster=P,payments=P; not \(part)") }
            self.shares[kind.rawValue] = share
        }
        guard self.shares.reduce(0, +) > 0 else { throw ValidationError("--mix must give some kind a share") }
    }

    /// Calls a second of `kind` when all kinds together make `total`.
    func rate(_ kind: SoakKind, total: Double) -> Double {
        total * self.shares[kind.rawValue] / self.shares.reduce(0, +)
    }
}

/// Counts and latencies, for the interval being reported and the whole run.
final class SoakStats: Sendable {
    struct Counts {
        var succeeded = [Int](repeating: 0, count: SoakKind.allCases.count)
        var errors = [Int](repeating: 0, count: SoakKind.allCases.count)
        var behind = [Int](repeating: 0, count: SoakKind.allCases.count)
        /// Calls answered OK, by method.
        var calls = [Int](repeating: 0, count: SoakCall.allCases.count)
        /// Of each kind's scheduled call (a roster slot: its chunk).
        var latencies = SoakKind.allCases.map { _ in makeLatencyHistogram() }

        func p50Milliseconds(_ kind: SoakKind) -> Double { self.percentile(kind, 50) }
        func p99Milliseconds(_ kind: SoakKind) -> Double { self.percentile(kind, 99) }
        private func percentile(_ kind: SoakKind, _ percentile: Double) -> Double {
            let histogram = self.latencies[kind.rawValue]
            return histogram.totalCount > 0 ? Double(histogram.valueAtPercentile(percentile)) / 1e6 : 0
        }
    }

    private struct State {
        var interval = Counts()
        var total = Counts()
        var inFlight = [Int](repeating: 0, count: SoakKind.allCases.count)
        var errorMessages: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// Room for one more call of `kind`; false (counted as behind) at the limit.
    func enter(_ kind: SoakKind, limit: Int) -> Bool {
        self.state.withLock { state in
            if state.inFlight[kind.rawValue] >= limit {
                state.interval.behind[kind.rawValue] += 1
                state.total.behind[kind.rawValue] += 1
                return false
            }
            state.inFlight[kind.rawValue] += 1
            return true
        }
    }

    func leave(_ kind: SoakKind) {
        self.state.withLock { $0.inFlight[kind.rawValue] -= 1 }
    }

    /// A call answered OK.
    func called(_ call: SoakCall) {
        self.state.withLock { state in
            state.interval.calls[call.rawValue] += 1
            state.total.calls[call.rawValue] += 1
        }
    }

    /// A scheduled call of `kind` done, begun at `start`.
    func done(_ kind: SoakKind, since start: UInt64) {
        let elapsed = max(1_000, monotonicNanoseconds() &- start)
        self.state.withLock { state in
            state.interval.succeeded[kind.rawValue] += 1
            state.total.succeeded[kind.rawValue] += 1
            _ = state.interval.latencies[kind.rawValue].record(elapsed)
            _ = state.total.latencies[kind.rawValue].record(elapsed)
        }
    }

    func failed(_ kind: SoakKind, _ call: SoakCall, _ error: any Error) {
        let message: String
        if let error = error as? RPCError {
            message = "\(call.method): \(error.code) \(error.message.prefix(200))"
        } else {
            message = "\(call.method): \(String(describing: error).prefix(200))"
        }
        self.state.withLock { state in
            state.interval.errors[kind.rawValue] += 1
            state.total.errors[kind.rawValue] += 1
            if state.errorMessages[message] != nil || state.errorMessages.count < 100 { state.errorMessages[message, default: 0] += 1 }
        }
    }

    func takeInterval() -> Counts {
        self.state.withLock { state in
            defer { state.interval = Counts() }
            return state.interval
        }
    }

    func total() -> Counts { self.state.withLock { $0.total } }
    func errorMessages() -> [String: Int] { self.state.withLock { $0.errorMessages } }
}

/// What the calls need, and how each kind's call is made.
struct SoakPlan: Sendable {
    let mix: SoakMix
    let rate: Double
    let seconds: Double
    let registry: [RPCClient]
    let filing: [RPCClient]
    let settlement: [RPCClient]
    let admin: [String: String]
    let organization: [String: String]
    let schools: [String]
    let qualified: [String]
    let workPlan: Xcert_Filing_V1_WorkPlan
    let certificates: Int
    let firstYear: Int32
    let filingLimit: Int
    let chunkRows: Int
    let chunksPerRoster: Int
    let schoolsPerSession: Int
    let rosterSessions: Int
    let paymentFen: Int64
    let paidOn: Xcert_Common_V1_Date
    let rosters = RosterPool()

    func perform(_ kind: SoakKind, slot: Int, stats: SoakStats) async {
        let start = monotonicNanoseconds()
        var current = SoakCall.getSchool
        do {
            switch kind {
            case .reads:
                current = slot % 2 == 0 ? .getSchool : .listFilings
                if current == .getSchool {
                    _ = try await self.registry[slot % self.registry.count].unary(
                        Schools.method, Schools.request(slot / 2, codes: self.schools), options: CallOptions(metadata: self.admin)
                    )
                } else {
                    var request = Xcert_Filing_V1_ListFilingsRequest()
                    request.certificateCode = Filings.certificateCode((slot / 2 &* 7919) % self.certificates)
                    request.page.pageSize = 20
                    _ = try await self.filing[slot % self.filing.count].unary(
                        Xcert_Filing_V1_FilingService.Method.listFilings, request, options: CallOptions(metadata: self.organization)
                    )
                }
            case .filings:
                current = .submitFiling
                guard slot < self.filingLimit else { throw RPCError(.outOfRange, "no certificate × year pair left for filing \(slot)") }
                _ = try await self.filing[slot % self.filing.count].unary(
                    Filings.method, Filings.request(slot, certificates: self.certificates, firstYear: self.firstYear, plan: self.workPlan),
                    options: CallOptions(metadata: self.change(self.organization))
                )
            case .roster:
                try await self.rosterChunk(slot: slot, stats: stats, current: &current)
                return
            case .payments:
                current = .recordPayment
                var request = Xcert_Settlement_V1_RecordPaymentRequest()
                request.schoolCode = self.qualified[(slot &* 7919) % self.qualified.count]
                request.amount.fen = self.paymentFen
                request.paidOn = self.paidOn
                request.reference = "SOAK-\(slot)"
                _ = try await self.settlement[slot % self.settlement.count].unary(
                    Xcert_Settlement_V1_LedgerService.Method.recordPayment, request, options: CallOptions(metadata: self.change(self.admin))
                )
            }
            stats.called(current)
            stats.done(kind, since: start)
        } catch {
            stats.failed(kind, current, error)
        }
    }

    /// One chunk of a roster: the roster is created first when none has a chunk left to
    /// upload, and sealed by whoever uploads its last chunk.
    private func rosterChunk(slot: Int, stats: SoakStats, current: inout SoakCall) async throws {
        let client = self.filing[slot % self.filing.count]
        var ticket = self.rosters.take(chunks: self.chunksPerRoster)
        if case .create(let session) = ticket {
            current = .createRoster
            guard session < self.rosterSessions else { throw RPCError(.outOfRange, "no exam session left for roster \(session)") }
            let roster = try await client.unary(
                Roster.createMethod,
                Roster.createRequest(
                    certificate: "ROSTER-BENCH", site: self.sessionSchools(session)[0],
                    date: Self.examDate(session / self.qualified.count)),
                options: CallOptions(metadata: self.change(self.organization))
            )
            stats.called(.createRoster)
            ticket = self.rosters.created(roster.id, session: session)
        }
        guard case .chunk(let roster, let session, let index) = ticket else { return }
        current = .uploadChunk
        let rows = self.chunkRows * self.chunksPerRoster
        let chunkStart = monotonicNanoseconds()
        _ = try await client.unary(
            Roster.chunkMethod,
            Roster.chunkRequest(roster: roster, index: index, chunk: self.chunkRows, rows: rows, schools: self.sessionSchools(session)),
            options: CallOptions(metadata: self.change(self.organization))
        )
        stats.called(.uploadChunk)
        stats.done(.roster, since: chunkStart)
        if self.rosters.uploaded(roster, chunks: self.chunksPerRoster) {
            current = .sealRoster
            _ = try await client.unary(
                Roster.sealMethod, Roster.sealRequest(roster: roster, rows: rows),
                options: CallOptions(metadata: self.change(self.organization)))
            stats.called(.sealRoster)
        }
    }

    /// Session `n`'s candidates come from `schoolsPerSession` qualified schools in a row; the
    /// first hosts the exam. Sessions at one site fall on successive days of 2025.
    func sessionSchools(_ session: Int) -> [String] {
        (0..<self.schoolsPerSession).map { self.qualified[(session + $0) % self.qualified.count] }
    }

    /// 2025-01-01 plus `day` days.
    static func examDate(_ day: Int) -> Xcert_Common_V1_Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let first = calendar.date(from: DateComponents(year: 2025, month: 1, day: 1))!
        let parts = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .day, value: day, to: first)!)
        var date = Xcert_Common_V1_Date()
        (date.year, date.month, date.day) = (Int32(parts.year!), Int32(parts.month!), Int32(parts.day!))
        return date
    }

    private func change(_ metadata: [String: String]) -> [String: String] {
        var metadata = metadata
        metadata["idempotency-key"] = "soak-\(UUID().uuidString)"
        return metadata
    }
}

/// The rosters being uploaded: which chunk goes next, and when one is complete.
final class RosterPool: Sendable {
    enum Ticket {
        case create(session: Int)
        case chunk(roster: Int64, session: Int, index: Int)
    }

    private struct Open {
        var roster: Int64
        var session: Int
        var handedOut: Int
        var uploaded: Int
    }

    private let state = Mutex<(nextSession: Int, open: [Open])>((0, []))

    /// The next chunk of an open roster, or a new session to create a roster for.
    func take(chunks: Int) -> Ticket {
        self.state.withLock { state in
            if let index = state.open.firstIndex(where: { $0.handedOut < chunks }) {
                state.open[index].handedOut += 1
                return .chunk(roster: state.open[index].roster, session: state.open[index].session, index: state.open[index].handedOut - 1)
            }
            defer { state.nextSession += 1 }
            return .create(session: state.nextSession)
        }
    }

    /// A roster created for `session`: its first chunk is the creator's.
    func created(_ roster: Int64, session: Int) -> Ticket {
        self.state.withLock { state in
            state.open.append(Open(roster: roster, session: session, handedOut: 1, uploaded: 0))
            return .chunk(roster: roster, session: session, index: 0)
        }
    }

    /// One more chunk of `roster` uploaded; true when that was its last (seal it).
    func uploaded(_ roster: Int64, chunks: Int) -> Bool {
        self.state.withLock { state in
            guard let index = state.open.firstIndex(where: { $0.roster == roster }) else { return false }
            state.open[index].uploaded += 1
            guard state.open[index].uploaded == chunks else { return false }
            state.open.remove(at: index)
            return true
        }
    }
}

/// RSS samples of the services (and PostgreSQL's PSS), for the reports and the check.
final class MemoryWatch: Sendable {
    let processes: [(name: String, pid: String)]
    let postgres: String?
    /// (seconds since the start, MiB by process; nil when gone).
    private let samples = Mutex<[(at: Double, mib: [Double?], postgres: Double?)]>([])

    init(processes: [(name: String, pid: String)], postgres: String?) {
        self.processes = processes
        self.postgres = postgres
    }

    func sample(at elapsed: Double) {
        let values = self.processes.map { procStatusMiB(pid: $0.pid, field: "VmRSS") }
        let postgres = self.postgresPSS()
        self.samples.withLock { $0.append((elapsed, values, postgres)) }
    }

    func current() -> [(name: String, mib: Double)] {
        self.processes.map { ($0.name, procStatusMiB(pid: $0.pid, field: "VmRSS") ?? 0) }
    }

    /// The proportional set of the postmaster and its children (their shared buffers counted once).
    func postgresPSS() -> Double? {
        guard let postmaster = self.postgres else { return nil }
        var pids = [postmaster]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
                continue
            }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, fields[1] == postmaster { pids.append(entry) }
        }
        var kib = 0.0
        for pid in pids {
            guard let rollup = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { continue }
            for line in rollup.split(separator: "\n") where line.hasPrefix("Pss:") {
                kib += Double(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
            }
        }
        return kib / 1024
    }

    struct Window {
        var name: String
        var checked: Bool
        /// Mean RSS of the samples in the second minute, and in the last.
        var second: Double?
        var last: Double?
        var peak: Double?
        /// The process was gone at some sample.
        var lost: Bool
    }

    func windows(seconds: Double) -> [Window] {
        let samples = self.samples.withLock { $0 }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        var windows: [Window] = []
        for (index, process) in self.processes.enumerated() {
            let second = samples.filter { $0.at >= 60 && $0.at < 120 }.compactMap { $0.mib[index] }
            let last = samples.filter { $0.at >= seconds - 60 }.compactMap { $0.mib[index] }
            windows.append(
                Window(
                    name: process.name, checked: true, second: mean(second), last: mean(last),
                    peak: samples.compactMap { $0.mib[index] }.max(), lost: samples.contains { $0.mib[index] == nil }
                ))
        }
        if self.postgres != nil {
            let second = samples.filter { $0.at >= 60 && $0.at < 120 }.compactMap { $0.postgres }
            let last = samples.filter { $0.at >= seconds - 60 }.compactMap { $0.postgres }
            windows.append(
                Window(
                    name: "postgres (PSS)", checked: false, second: mean(second), last: mean(last),
                    peak: samples.compactMap { $0.postgres }.max(), lost: false))
        }
        return windows
    }

    func samplesJSON() -> [[String: Any]] {
        self.samples.withLock { samples in
            samples.map { sample in
                var entry: [String: Any] = ["at_s": sample.at]
                for (index, process) in self.processes.enumerated() { entry[process.name] = jsonValue(sample.mib[index]) }
                if let postgres = sample.postgres { entry["postgres_pss"] = postgres }
                return entry
            }
        }
    }
}
