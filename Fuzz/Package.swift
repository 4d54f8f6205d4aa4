// swift-tools-version:6.1
// The wire fuzzer: libFuzzer over the frame decoder and the request dispatch. A package of
// its own so that the main build stays lean; `scripts/fuzz` builds it in release with
// `--sanitize=fuzzer --sanitize=address` (here, in Fuzz/.build) and runs it on a copy of
// corpus/. What it runs is `WireFuzzTarget` of the main package's XCertWireFuzzing
// (Fuzz/Harness), so that XCertWireTests replay corpus/ and crashes/ through the same code;
// this package adds only libFuzzer's entry points.
import PackageDescription

let package = Package(
    name: "XCertFuzz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wire-fuzzer", targets: ["WireFuzzer"])
    ],
    dependencies: [
        .package(name: "XCert", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "WireFuzzer",
            dependencies: [
                .product(name: "XCertWireFuzzing", package: "XCert")
            ],
            path: "Sources/WireFuzzer",
            // libFuzzer provides `main`.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ],
    swiftLanguageModes: [.v6]
)
