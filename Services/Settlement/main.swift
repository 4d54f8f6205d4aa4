import NIOCore
import NIOPosix
import XCertService

// Run Swift concurrency on NIO's event loops: no thread hop between socket and handler.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

await ServiceMain.run(SettlementParts.definition())
