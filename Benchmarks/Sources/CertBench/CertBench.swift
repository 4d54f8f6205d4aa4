import ArgumentParser
import BenchSupport
import Crypto
import Foundation
import Histogram
import XCertService

/// B6 and B7: a year's certificates signed (a 50,000-candidate year by default) and verified,
/// each as the filing service and a verifier do it (the W3C VC document made, serialized and
/// signed as a compact JWS; the JWS parsed, its header and issuer checked, its signature
/// verified), against the same Ed25519 signatures and verifications over the same bytes with
/// swift-crypto alone, the floor any credential format pays. One cell per number of tasks
/// (1, and every core); each prints a human line and a `CELL` line per side, the targets
/// `xcert-…` and `ed25519-…` telling them apart.
@main
struct CertBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert-bench",
        abstract: "Certificates signed or verified a second, XCert's credentials vs raw Ed25519 over the same bytes.",
        subcommands: [Sign.self, Verify.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "Candidates who passed in the year: certificates signed or verified per cell.") var candidates: Int = 50_000
        @Option(help: "Task counts, one cell each (default: 1 and every core).") var tasks: [Int] = []

        var cells: [Int] { self.tasks.isEmpty ? Array(Set([1, ProcessInfo.processInfo.activeProcessorCount])).sorted() : self.tasks }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "B6: a year's certificates signed, vs raw Ed25519 signatures.")
        @OptionGroup var options: Options
        func run() async throws {
            let year = try Year(candidates: self.options.candidates)
            for tasks in self.options.cells {
                let xcert = try await measure(year.holders, tasks: tasks) { holder in _ = try year.credential(holder) }
                xcert.report(target: "xcert-sign", tasks: tasks, note: "VC 2.0 document made and signed (compact JWS, EdDSA)")
                let inputs = try year.holders.map { Data(try year.signingInput(year.credential($0)).utf8) }
                let peer = try await measure(inputs, tasks: tasks) { input in _ = try year.key.signature(for: input) }
                peer.report(target: "ed25519-sign", tasks: tasks, note: "swift-crypto Ed25519 signature of the same JWS input")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "B7: a year's certificates verified, vs raw Ed25519 verifications.")
        @OptionGroup var options: Options
        func run() async throws {
            let year = try Year(candidates: self.options.candidates)
            let credentials = try year.holders.map(year.credential)
            let jwk = year.issuer.publicJWK
            let publicKey = year.key.publicKey
            let split = credentials.map { jws -> (Data, Data) in
                let dot = jws.lastIndex(of: ".")!
                return (Data(jws[..<dot].utf8), Base64URL.decode(String(jws[jws.index(after: dot)...]))!)
            }
            for tasks in self.options.cells {
                let xcert = try await measure(credentials, tasks: tasks) { jws in
                    guard case .valid = CertificateCredential.verify(jws, jwk: jwk) else {
                        throw ValidationError("a credential did not verify")
                    }
                }
                xcert.report(target: "xcert-verify", tasks: tasks, note: "JWS parsed, header and issuer key checked, signature verified")
                let peer = try await measure(split, tasks: tasks) { input, signature in
                    guard publicKey.isValidSignature(signature, for: input) else { throw ValidationError("a signature did not verify") }
                }
                peer.report(target: "ed25519-verify", tasks: tasks, note: "swift-crypto Ed25519 verification of the same bytes")
            }
        }
    }
}

/// A year's passed candidates and the province as their certificates' issuer.
struct Year: Sendable {
    struct Holder: Sendable {
        var number: String
        var name: String
        var masked: String
        var salt: Data
        var digest: Data
    }

    let key: Curve25519.Signing.PrivateKey
    let issuer: CertificateIssuer
    let holders: [Holder]

    init(candidates: Int) throws {
        self.key = Curve25519.Signing.PrivateKey()
        self.issuer = try CertificateIssuer(
            provinceCode: "36", provinceName: "江西省", privateKey: self.key.rawRepresentation.base64EncodedString())
        self.holders = (0..<candidates).map { n in
            let id = "36010420050101" + String(format: "%04d", n % 10_000)
            var salt = Data(count: 16)
            for index in salt.indices { salt[index] = UInt8.random(in: 0...255) }
            return Holder(
                number: "36-2025-AUTO-1-" + String(format: "%06d", n + 1), name: "考生\(n)", masked: "3601**********" + id.suffix(4),
                salt: salt, digest: CertificateCredential.holderDigest(salt: salt, nationalID: id))
        }
    }

    /// The holder's credential, as the filing service issues it.
    func credential(_ holder: Holder) throws -> String {
        try self.issuer.sign(
            CertificateCredential.payload(
                issuer: self.issuer, number: holder.number, holderName: holder.name, nationalIDMasked: holder.masked,
                holderSalt: holder.salt, holderDigest: holder.digest, certificateCode: "AUTO", certificateName: "汽车运用与维修",
                level: "初级", organization: "北京中车行高新技术有限公司", examDate: "2025-06-15", issuedOn: "2025-06-27",
                status: CertificateStatusList.entry(issuer: self.issuer, index: Int(holder.number.suffix(6))! - 1)))
    }

    /// What the JWS signature covers: its header and payload.
    func signingInput(_ jws: String) -> String { String(jws[..<jws.lastIndex(of: ".")!]) }
}

/// What one cell measured: each item's time, and the cell's wall time and CPU.
struct Measured {
    var latencies: Histogram<UInt64>
    var seconds: Double
    var completed: Int
    var client: (ProcessSample, ProcessSample)?

    func report(target: String, tasks: Int, note: String) {
        CellReport(
            target: target, connections: tasks, inFlight: 1, seconds: self.seconds, completed: self.completed, failed: 0,
            latencies: self.latencies, client: self.client, server: nil, serverPID: nil, note: note
        ).print()
    }
}

/// Runs `work` over every item, split among `tasks` tasks.
func measure<Item: Sendable>(
    _ items: [Item], tasks: Int, _ work: @escaping @Sendable (Item) throws -> Void
) async throws -> Measured {
    let pid = String(ProcessInfo.processInfo.processIdentifier)
    let before = ProcessSample.read(pid: pid)
    let start = monotonicNanoseconds()
    let histograms = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
        for part in 0..<tasks {
            group.addTask {
                var histogram = makeLatencyHistogram()
                for index in stride(from: part, to: items.count, by: tasks) {
                    let begun = monotonicNanoseconds()
                    try work(items[index])
                    _ = histogram.record(max(1, monotonicNanoseconds() - begun))
                }
                return histogram
            }
        }
        var all: [Histogram<UInt64>] = []
        for try await histogram in group { all.append(histogram) }
        return all
    }
    let seconds = Double(monotonicNanoseconds() - start) / 1e9
    var latencies = makeLatencyHistogram()
    for histogram in histograms { latencies.add(histogram) }
    let after = ProcessSample.read(pid: pid)
    return Measured(
        latencies: latencies, seconds: seconds, completed: items.count,
        client: before.flatMap { b in after.map { (b, $0) } })
}
