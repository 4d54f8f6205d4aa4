// swift-tools-version:6.1
import PackageDescription

let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "XCert",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "registry", targets: ["Registry"]),
        .executable(name: "filing", targets: ["Filing"]),
        .executable(name: "assessment", targets: ["Assessment"]),
        .executable(name: "settlement", targets: ["Settlement"]),
        .executable(name: "xctl", targets: ["xctl"]),
        .library(name: "XCertWire", targets: ["XCertWire"]),
        .library(name: "XCertProto", targets: ["XCertProto"]),
        .library(name: "XCertAPI", targets: ["XCertAPI"]),
        .library(name: "XCertService", targets: ["XCertService"]),
        .library(name: "XCertStore", targets: ["XCertStore"]),
        .library(name: "XCertDomain", targets: ["XCertDomain"]),
        .library(name: "XCertWireFuzzing", targets: ["XCertWireFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Tests only: makes the certificates of the TLS tests (valid, expired, other CA).
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        // The rules as pure Swift: no I/O.
        .target(name: "XCertDomain", path: "Shared/XCertDomain", swiftSettings: upcomingFeatures),

        // Code generated from proto/ by scripts/gen-proto (committed).
        .target(
            name: "XCertProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Shared/XCertProto",
            exclude: ["xcert.protoset"]
        ),

        // Framing, RPC server and client, status, metadata, deadlines, TLS.
        .target(
            name: "XCertWire",
            dependencies: [
                "XCertProto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/XCertWire",
            swiftSettings: upcomingFeatures
        ),

        // Generated from proto/ by scripts/gen-proto (committed): per service its method
        // descriptors with their declared contracts, its server protocol and typed client;
        // the request bounds.
        .target(
            name: "XCertAPI",
            dependencies: [
                "XCertWire", "XCertProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/XCertAPI"
        ),

        // PostgresClient setup, migrations, transactions and their errors; no wire types.
        .target(
            name: "XCertStore",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/XCertStore",
            swiftSettings: upcomingFeatures
        ),

        // Configuration, logging, metrics, lifecycle, auth checks, health, reflection.
        .target(
            name: "XCertService",
            dependencies: [
                "XCertWire", "XCertStore", "XCertProto", "XCertDomain", "XCertAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/XCertService",
            swiftSettings: upcomingFeatures
        ),

        .executableTarget(
            name: "Registry",
            dependencies: [
                "XCertService", "XCertStore", "XCertWire", "XCertProto", "XCertDomain", "XCertAPI",
                .product(name: "CSV", package: "CSV.swift"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ], path: "Services/Registry", swiftSettings: upcomingFeatures),
        .executableTarget(
            name: "Filing",
            dependencies: [
                "XCertService", "XCertStore", "XCertWire", "XCertProto", "XCertDomain", "XCertAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Crypto", package: "swift-crypto"),
            ], path: "Services/Filing", swiftSettings: upcomingFeatures),
        .executableTarget(
            name: "Assessment",
            dependencies: [
                "XCertService", "XCertStore", "XCertWire", "XCertProto", "XCertDomain", "XCertAPI",
                .product(name: "Logging", package: "swift-log"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ], path: "Services/Assessment", swiftSettings: upcomingFeatures),
        .executableTarget(
            name: "Settlement",
            dependencies: [
                "XCertService", "XCertStore", "XCertWire", "XCertProto", "XCertDomain", "XCertAPI",
                .product(name: "Logging", package: "swift-log"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ], path: "Services/Settlement", swiftSettings: upcomingFeatures),

        .executableTarget(
            name: "xctl",
            dependencies: [
                "XCertWire", "XCertStore", "XCertService", "XCertProto", "XCertDomain", "XCertAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            path: "Tools/xctl",
            swiftSettings: upcomingFeatures
        ),

        // What the test targets share: a raw frame connection, test servers, test databases, processes.
        .target(
            name: "XCertTestSupport",
            dependencies: [
                "XCertWire", "XCertProto", "XCertStore", "XCertAPI", "XCertService",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Tests/XCertTestSupport"
        ),
        // The wire fuzzer's target: a connection's bytes through the frame decoder and the
        // dispatch, over a table of every rpc of proto/, and its seed corpus. The fuzzer
        // itself (libFuzzer's entry points) is the Fuzz/ package; XCertWireTests replay
        // Fuzz/corpus/ and Fuzz/crashes/ through this.
        .target(
            name: "XCertWireFuzzing",
            dependencies: [
                "XCertWire", "XCertProto", "XCertAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Fuzz/Harness",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "XCertDomainTests", dependencies: ["XCertDomain", .product(name: "PropertyBased", package: "swift-property-based")],
            path: "Tests/XCertDomainTests"),
        .testTarget(
            name: "XCertStoreTests", dependencies: ["XCertStore", "XCertService", "XCertAPI", "XCertWire"], path: "Tests/XCertStoreTests"),
        .testTarget(
            name: "XCertWireTests",
            dependencies: [
                "XCertWire", "XCertProto", "XCertTestSupport", "XCertWireFuzzing", "XCertAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            path: "Tests/XCertWireTests"
        ),
        .testTarget(
            name: "XCertIntegrationTests",
            dependencies: [
                "XCertWire", "XCertDomain", "XCertStore", "XCertService", "XCertProto", "XCertTestSupport", "XCertAPI",
                // The services whose handlers the tests serve in process (InProcessStacks.swift,
                // OutcomeTests.swift, SettlementTests.swift).
                "Registry", "Filing", "Assessment", "Settlement",
                // The handler fuzzer's request generator (HandlerFuzzTests).
                "XCertWireFuzzing",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/XCertIntegrationTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
