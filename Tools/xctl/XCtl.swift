import ArgumentParser
import NIOPosix

@main
struct XCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xctl",
        abstract: "The XCert command line: call any method, check health, run the database's migrations, bootstrap tokens.",
        subcommands: [Call.self, Health.self, DB.self, Admin.self]
    )
}
