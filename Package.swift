// swift-tools-version: 6.1
// ParkFederation: a hub and node agents that clear signed ticket assertions between parks.
import PackageDescription

let package = Package(
    name: "ParkFederation",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "parkfed", targets: ["parkfed"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", exact: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
    ],
    targets: [
        // Pure domain core: identifiers, money, principals. No I/O.
        .target(name: "ParkFedDomain"),
        // QR symbols (byte mode, level M, versions 1-15) as SVG and PNG: no listed package draws them.
        .target(name: "ParkFedQR"),
        // Signatures and encodings: JWS (EdDSA), base64url, hashing.
        .target(
            name: "ParkFedCrypto",
            dependencies: [
                "ParkFedDomain",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // What flows over the wire: request and response bodies, the trust list, problem details. Pure Codable.
        .target(
            name: "ParkFedProtocol", dependencies: ["ParkFedDomain", "ParkFedCrypto", .product(name: "Crypto", package: "swift-crypto")]),
        // HTTP edges shared by the hub and the node agent: problem details, access log, JSON responses, strict
        // decoding, body limits, route parameters, token buckets.
        .target(
            name: "ParkFedHTTP",
            dependencies: [
                "ParkFedDomain", "ParkFedProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                "ParkFedCrypto",
            ],
            // The consoles' one style sheet.
            resources: [.copy("Pages/Resources")]
        ),
        // Federation PKI: root CA, CSR checks, certificate issuing, principals from certificates.
        .target(
            name: "ParkFedPKI",
            dependencies: [
                "ParkFedDomain",
                "ParkFedCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // Durable state of the hub and of a node agent on SQLite (GRDB, WAL, migrations).
        .target(
            name: "ParkFedStore",
            dependencies: [
                "ParkFedDomain",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The hub's store on PostgreSQL (postgres-nio): several hub processes on one database.
        .target(
            name: "ParkFedStorePostgres",
            dependencies: [
                "ParkFedStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The federation hub: HTTP API over mutual TLS.
        .target(
            name: "ParkFedHub",
            dependencies: [
                "ParkFedDomain", "ParkFedCrypto", "ParkFedProtocol", "ParkFedPKI", "ParkFedStore", "ParkFedHTTP", "ParkFedQR",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                // RSA (PKCS #1 v1.5 with SHA-256) for WeChat Pay API v3's signatures.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            // The consoles' and the shop's page templates (`shop-*`), beside the module that serves them.
            resources: [.copy("Console/Templates")]
        ),
        // The node agent each park runs: hub client, trust-list cache, local API.
        .target(
            name: "ParkFedNode",
            dependencies: [
                "ParkFedDomain", "ParkFedCrypto", "ParkFedProtocol", "ParkFedPKI", "ParkFedStore", "ParkFedHTTP", "ParkFedQR",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            // The node console's page templates, beside the module that serves them.
            resources: [.copy("Console/Templates")]
        ),
        // In-process federations for the demo, the benchmarks and the simulator (and the tests): hubs and node agents
        // on loopback, the link relay, the card simulator, seeded randomness, the example federation's location. Runs
        // no outside tool.
        .target(
            name: "ParkFedLab",
            dependencies: [
                "ParkFedDomain", "ParkFedCrypto", "ParkFedProtocol", "ParkFedPKI", "ParkFedStore", "ParkFedStorePostgres", "ParkFedHub",
                "ParkFedNode",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Test support: the lab's federations on the test run's store, and the outside tools tests check with.
        .target(
            name: "ParkFedTesting",
            dependencies: [
                "ParkFedLab", "ParkFedHub", "ParkFedNode", "ParkFedProtocol", "ParkFedDomain", "ParkFedCrypto", "ParkFedPKI",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "parkfed",
            dependencies: [
                "ParkFedDomain", "ParkFedCrypto", "ParkFedProtocol", "ParkFedPKI", "ParkFedStore", "ParkFedHub", "ParkFedNode", "ParkFedLab",
                "ParkFedStorePostgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // libFuzzer targets for every decoder that reads from outside (scripts/fuzz); a normal build replays files.
        .executableTarget(
            name: "parkfed-fuzz",
            dependencies: [
                "ParkFedDomain", "ParkFedCrypto", "ParkFedProtocol", "ParkFedPKI",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "ParkFedDomainTests", dependencies: ["ParkFedDomain", "ParkFedTesting"]),
        .testTarget(name: "ParkFedCryptoTests", dependencies: ["ParkFedCrypto"]),
        .testTarget(name: "ParkFedQRTests", dependencies: ["ParkFedQR", "ParkFedTesting"]),
        .testTarget(
            name: "ParkFedProtocolTests",
            dependencies: [
                "ParkFedProtocol", "ParkFedTesting", .product(name: "Crypto", package: "swift-crypto"), "ParkFedCrypto", "ParkFedDomain", "ParkFedNode",
            ]),
        .testTarget(
            name: "ParkFedPKITests",
            dependencies: [
                "ParkFedPKI", "ParkFedTesting", "ParkFedCrypto", "ParkFedDomain",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .testTarget(
            name: "ParkFedHubTests",
            dependencies: [
                "ParkFedHub", "ParkFedHTTP", "ParkFedNode", "ParkFedTesting", "ParkFedStore", "ParkFedPKI", "ParkFedProtocol", "ParkFedCrypto",
                "ParkFedDomain",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ParkFedNodeTests",
            dependencies: [
                "ParkFedNode", "ParkFedHub", "ParkFedTesting", "ParkFedStore", "ParkFedProtocol", "ParkFedCrypto", "ParkFedDomain", "ParkFedPKI",
                .product(name: "X509", package: "swift-certificates"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)
