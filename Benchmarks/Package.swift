// swift-tools-version:6.1
// Benchmarks live in their own package so that the main build stays lean. Build one product
// at a time, in release (`swift build -c release --product echo-xcert`): a bare `swift build`
// here would also compile protoc's C++ sources, which grpc-swift-protobuf's plugin needs and
// nothing here uses. `scripts/bench` builds what the scenarios ask for; see README.md.
import PackageDescription

let package = Package(
    name: "XCertBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        // Servers (B1): the same unary echo on three stacks.
        .executable(name: "echo-xcert", targets: ["EchoXCert"]),
        .executable(name: "echo-grpc", targets: ["EchoGRPC"]),
        .executable(name: "echo-raw", targets: ["EchoRaw"]),
        // Load generators.
        .executable(name: "load-frames", targets: ["LoadFrames"]),
        .executable(name: "load-grpc", targets: ["LoadGRPC"]),
        // Load generators and the world of the service scenarios (B2–B5).
        .executable(name: "xcert-load", targets: ["XCertLoad"]),
        // RPCClient against a running service's Health/Check.
        .executable(name: "wire-bench", targets: ["WireBench"]),
        // Certificates signed and verified (B6, B7), in process.
        .executable(name: "cert-bench", targets: ["CertBench"]),
    ],
    dependencies: [
        .package(name: "XCert", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // What the load generators share: measuring a cell and reporting it.
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "Histogram", package: "hdrhistogram-swift")
            ]
        ),
        .executableTarget(
            name: "EchoXCert",
            dependencies: [
                "BenchSupport",
                .product(name: "XCertWire", package: "XCert"),
                .product(name: "XCertProto", package: "XCert"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "EchoGRPC",
            dependencies: [
                "BenchSupport",
                .product(name: "XCertProto", package: "XCert"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "EchoRaw",
            dependencies: [
                "BenchSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "LoadFrames",
            dependencies: [
                "BenchSupport",
                .product(name: "XCertProto", package: "XCert"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "LoadGRPC",
            dependencies: [
                "BenchSupport",
                .product(name: "XCertProto", package: "XCert"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "XCertLoad",
            dependencies: [
                "BenchSupport",
                .product(name: "XCertWire", package: "XCert"),
                .product(name: "XCertProto", package: "XCert"),
                .product(name: "XCertAPI", package: "XCert"),
                .product(name: "XCertDomain", package: "XCert"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "WireBench",
            dependencies: [
                .product(name: "XCertWire", package: "XCert"),
                .product(name: "XCertProto", package: "XCert"),
                .product(name: "XCertAPI", package: "XCert"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "CertBench",
            dependencies: [
                "BenchSupport",
                .product(name: "XCertService", package: "XCert"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
