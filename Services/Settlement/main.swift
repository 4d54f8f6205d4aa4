import NIOCore
import NIOPosix
import XCertService

// Run Swift concurrency on NIO's event loops: no thread hop between socket and handler.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

await ServiceMain.run(name: "settlement", defaultPort: 7104, background: SettlementFollowers.all) { context in
    [FeeCeilingService(context: context), LedgerService(context: context), SettlementReportService(context: context), SubsidyService(context: context)]
}
