// swift-tools-version:6.1
// Benchmarks live in their own package so that the main build stays lean: build one
// product at a time (`swift build -c release --product wire-bench`).
import PackageDescription

let package = Package(
    name: "XCertBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wire-bench", targets: ["WireBench"]),
    ],
    dependencies: [
        .package(name: "XCert", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "WireBench",
            dependencies: [
                .product(name: "XCertWire", package: "XCert"),
                .product(name: "XCertProto", package: "XCert"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
