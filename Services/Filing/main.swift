import Foundation
import NIOCore
import NIOPosix
import XCertService

// Run Swift concurrency on NIO's event loops: no thread hop between socket and handler.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

let nationalIDs: NationalIDHasher
do {
    nationalIDs = try NationalIDHasher(environment: ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("filing: configuration error: \(error)\n".utf8))
    exit(2)
}

await ServiceMain.run(name: "filing", defaultPort: 7102) { context in
    let certificates = CertificateCache()
    return [
        FilingService(context: context, certificates: certificates),
        ApprovalService(context: context),
        ReportService(context: context),
        RosterService(context: context, hasher: nationalIDs, certificates: certificates),
    ]
}
