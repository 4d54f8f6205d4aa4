import NIOCore
import NIOPosix
import XCertService

// Run Swift concurrency on NIO's event loops: no thread hop between socket and handler.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

await ServiceMain.run(name: "assessment", defaultPort: 7103, background: OutcomeFollowers.all) { context in
    [OutcomeService(context: context), SchemeService(context: context), EvaluationService(context: context), ResultService(context: context)]
}
