import ArgumentParser
import Foundation
import XCertAPI
import XCertProto
import XCertWire

/// `xctl health`: checks all four services.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the health of the four services; exits 1 unless all are SERVING.")

    @Option(help: "The host the services run on.") var host: String = "127.0.0.1"
    @Option(help: "Check only these addresses (host:port, repeatable) instead of the four default ports.") var address: [String] = []
    @Option(help: "Deadline of each check in milliseconds.") var timeoutMs: Int = 3000

    func run() async throws {
        let defaults = [("registry", 7101), ("filing", 7102), ("assessment", 7103), ("settlement", 7104)]
        let targets = self.address.isEmpty ? defaults.map { ($0.0, "\(self.host):\($0.1)") } : self.address.map { ("", $0) }
        var allServing = true
        for (name, address) in targets {
            let client = try makeClient(address, timeoutMs: self.timeoutMs)
            do {
                let response = try await Xcert_Health_V1_Health.Client(client).check()
                let status = response.status == .serving ? "SERVING" : "NOT_SERVING"
                if response.status != .serving { allServing = false }
                let detail = response.detail.isEmpty ? "" : "  (\(response.detail))"
                print("\(pad(response.service.isEmpty ? name : response.service)) \(pad(address, 21)) \(status)\(detail)")
            } catch let error as RPCError {
                allServing = false
                print("\(pad(name)) \(pad(address, 21)) UNREACHABLE  (\(error.code): \(error.message))")
            }
            await client.close()
        }
        if !allServing { throw ExitCode(1) }
    }

    private func pad(_ text: String, _ width: Int = 11) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
