// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "session-cluster",
    products: [
        .executable(name: "responder", targets: ["ResponderMain"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
    ],
    targets: [
        .systemLibrary(name: "CEpoll"),
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        /// HTTP values, forms, cookies and JSON: pure, no I/O.
        .target(name: "WebCore"),
        /// PHP's `php` session serialize format.
        .target(name: "PHPSession", dependencies: ["WebCore"]),
        /// The only module that sees libfcgi.
        .target(
            name: "FastCGI",
            dependencies: ["CFastCGI", "CEpoll", "WebCore", .product(name: "Logging", package: "swift-log")]
        ),
        /// The only module that sees libpq.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        /// Two-node storage: clocks, conditional writes, outbox, health of nodes.
        .target(
            name: "Cluster",
            dependencies: ["Postgres", .product(name: "Logging", package: "swift-log")]
        ),
        /// Configuration, routes, pages, status.
        .target(
            name: "Responder",
            dependencies: [
                "WebCore", "PHPSession", "Cluster", "Postgres", .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        /// The `responder` command: arguments, start-up, signals.
        .executableTarget(
            name: "ResponderMain",
            dependencies: [
                "Responder", "FastCGI", "Cluster", "WebCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        /// Fuzz targets for the parsers of hostile input (Tests/Fuzz/run); the driver replays files when
        /// built without `-sanitize=fuzzer`.
        .target(name: "FuzzChecks", dependencies: ["WebCore", "PHPSession"], path: "Tests/Fuzz/Checks"),
        .executableTarget(name: "fuzz", dependencies: ["FuzzChecks"], path: "Tests/Fuzz/Driver"),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzChecks"], path: "Tests/Fuzz/RegressionTests"),
        .testTarget(name: "WebCoreTests", dependencies: ["WebCore"]),
        .testTarget(name: "PHPSessionTests", dependencies: ["PHPSession", "WebCore"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ResponderTests", dependencies: ["Responder", "WebCore", "PHPSession", "Cluster", "FastCGI"]),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI", "CFastCGI", "WebCore"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Postgres", "PHPSession"]),
    ],
    swiftLanguageModes: [.v6]
)
