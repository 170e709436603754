// swift-tools-version:6.1
import PackageDescription

/// Micro-benchmarks of ltod's hot paths (ordo-one/benchmark), kept in their own package so
/// that the root package's build and CI never build the benchmark framework.
/// Run with Benchmarks/micro (it builds ltod first: the round-trip benchmarks start a daemon).
let package = Package(
    name: "LTODMicro",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ltod", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "LTODMicro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LTOHash", package: "ltod"),
                .product(name: "LTOLocalStorage", package: "ltod"),
                .product(name: "LTOStorage", package: "ltod"),
                .product(name: "LTOWire", package: "ltod"),
                .product(name: "LTOSystem", package: "ltod"),
            ],
            path: "Benchmarks/LTODMicro",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
