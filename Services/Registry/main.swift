import NIOCore
import NIOPosix
import XCertService

// Run Swift concurrency on NIO's event loops: no thread hop between socket and handler.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

await ServiceMain.run(name: "registry", defaultPort: 7101) { context in
    [
        PrincipalService(context: context),
        ReferenceDataService(context: context),
        PilotService(context: context),
        AllianceService(context: context),
        SiteService(context: context),
    ]
}
