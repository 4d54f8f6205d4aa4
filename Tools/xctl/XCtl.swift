import ArgumentParser
import NIOPosix

@main
struct XCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xctl",
        abstract:
            """
            The XCert command line: reference data, pilot applications, alliances, sites, filings; call any method, check health, \
            migrations, tokens.
            """,
        subcommands: [
            Call.self, Health.self, DB.self, Admin.self, Registry.self, Pilot.self, Alliance.self, Sites.self, Trainings.self, Filing.self,
            Assessment.self,
            Settlement.self, Results.self, Certificates.self, CreditBank.self, Report.self, Demo.self,
        ]
    )
}
