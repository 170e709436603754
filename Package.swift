// swift-tools-version:6.1
import PackageDescription

/// Modules, one per concern (each file's header comment says what it owns). Dependencies
/// point one way: the daemon knows backends and cache tiers only through their protocols,
/// and `ltod`'s main chooses the concrete ones.
///
/// - `Sources/C`: system libraries (`CSQLite`, `CXXHash`, `CZstd`, `CHiredis`), `CPosix` (the GNU calls,
///   record locks, descriptors passed over a socket and signal traps Swift's Glibc module hides)
///   and `CDemangle` (the C++ runtime's demangler).
/// - `Sources/Support`: Foundation-free foundations both binaries link: `LTOHash` (XXH3-128),
///   `LTOSystem` (processes, paths, environment, files), `LTOConfig` (the settings table,
///   default places, version), `LTOStatistics` (the typed counters).
/// - `Sources/Wire`: `LTOWire`, the protocol between `ltoc` and `ltod`.
/// - `Sources/Object`: `LTOObject`, ELF objects and `ar` archives.
/// - `Sources/Backend`: `LTOBackend` (the toolchain-neutral `LinkBackend` protocol, sessions,
///   scheduler and make's jobserver, cancellation, in-flight builds), and the GCC backend:
///   `LTOGCC` (pure logic: driver protocol, keys, `.gnu.lto_*` grammar) and `LTOGCCBackend`
///   (its I/O).
/// - `Sources/Storage`: `LTOStorage` (the cache protocols and tiered composition) and the
///   tiers: `LTOLocalStorage` (SQLite index and sharded files) and `LTORedisStorage` (a shared
///   tier on Redis, through hiredis).
/// - `Sources/Daemon`: `LTODaemon` (server, listener, systemd, config file, statistics,
///   management commands).
/// - `Sources/Executables`: `ltod` and the Foundation-free shim `ltoc`.
/// - `SyntheticC`: the generator of multi-file C programs for tests and benchmarks.
/// - `ltod-bench` (Benchmarks/): measurements against plain `gcc -flto`, and the demo.
/// - `Tests/`: `LTOTestSupport` (shared test support), one test target per module,
///   `EndToEndTests`, fuzz targets (`fuzz-wire`, `fuzz-object`, built with
///   `-sanitize=fuzzer -Xswiftc -DFUZZING`, see Tests/fuzz) and `cache-stress`.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let orderedCollections = Target.Dependency.product(name: "OrderedCollections", package: "swift-collections")

let package = Package(
    name: "ltod",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ltod", targets: ["ltod"]),
        .executable(name: "ltoc", targets: ["ltoc"]),
        // For the micro-benchmarks in Benchmarks/Micro, a separate package that depends on this one.
        .library(name: "LTOHash", targets: ["LTOHash"]),
        .library(name: "LTOLocalStorage", targets: ["LTOLocalStorage"]),
        .library(name: "LTOStorage", targets: ["LTOStorage"]),
        .library(name: "LTOWire", targets: ["LTOWire"]),
        .library(name: "LTOSystem", targets: ["LTOSystem"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/C/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CXXHash", path: "Sources/C/CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/C/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // No pkgConfig: hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses (and x86_64 needs no such define).
        .systemLibrary(name: "CHiredis", path: "Sources/C/CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(name: "CPosix", path: "Sources/C/CPosix"),
        .target(name: "CDemangle", path: "Sources/C/CDemangle", linkerSettings: [.linkedLibrary("stdc++")]),

        .target(name: "LTOHash", dependencies: ["CXXHash"], path: "Sources/Support/LTOHash", swiftSettings: strict),
        .target(name: "LTOSystem", dependencies: ["CPosix"], path: "Sources/Support/LTOSystem", swiftSettings: strict),
        .target(name: "LTOConfig", dependencies: ["LTOSystem"], path: "Sources/Support/LTOConfig", swiftSettings: strict),
        .target(name: "LTOStatistics", path: "Sources/Support/LTOStatistics", swiftSettings: strict),
        .target(name: "LTOWire", dependencies: ["CPosix", "LTOSystem"], path: "Sources/Wire", swiftSettings: strict),
        .target(name: "LTOObject", dependencies: ["LTOSystem"], path: "Sources/Object", swiftSettings: strict),

        .target(name: "LTOStorage", dependencies: ["LTOHash", "LTOStatistics", "LTOSystem"], path: "Sources/Storage/Core", swiftSettings: strict),
        .target(
            name: "LTOLocalStorage", dependencies: ["CSQLite", "LTOHash", "LTOStatistics", "LTOStorage", "LTOSystem"],
            path: "Sources/Storage/Local", swiftSettings: strict),
        .target(
            name: "LTORedisStorage", dependencies: ["CHiredis", "LTOConfig", "LTOStorage"], path: "Sources/Storage/Remote/Redis",
            swiftSettings: strict),

        .target(
            name: "LTOBackend", dependencies: ["LTOHash", "LTOSystem", orderedCollections], path: "Sources/Backend/Core",
            swiftSettings: strict),
        .target(
            name: "LTOGCC", dependencies: ["LTOConfig", "LTOHash", "LTOObject", "LTOSystem"], path: "Sources/Backend/GCC/Logic",
            swiftSettings: strict),
        .target(
            name: "LTOGCCBackend",
            dependencies: ["CZstd", "LTOBackend", "LTOConfig", "LTOGCC", "LTOHash", "LTOObject", "LTOStatistics", "LTOStorage", "LTOSystem",
                           logging],
            path: "Sources/Backend/GCC/IO", swiftSettings: strict),

        .target(
            name: "LTODaemon",
            dependencies: [
                "CDemangle", "CPosix", "LTOBackend", "LTOConfig", "LTOStatistics", "LTOStorage", "LTOSystem", "LTOWire", logging,
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            path: "Sources/Daemon", swiftSettings: strict),
        .executableTarget(
            name: "ltod",
            dependencies: [
                "LTOBackend", "LTOConfig", "LTODaemon", "LTOGCCBackend", "LTOLocalStorage", "LTORedisStorage", "LTOStorage", "LTOSystem",
                "LTOWire", argumentParser, logging,
            ],
            path: "Sources/Executables/ltod", swiftSettings: strict),
        .executableTarget(
            name: "ltoc", dependencies: ["CPosix", "LTOConfig", "LTOGCC", "LTOSystem", "LTOWire"], path: "Sources/Executables/ltoc",
            swiftSettings: strict, linkerSettings: [.unsafeFlags(["-static-stdlib"])]),

        .target(name: "SyntheticC", swiftSettings: strict),
        .executableTarget(
            name: "ltod-bench", dependencies: ["LTOConfig", "LTOSystem", "LTOWire", "SyntheticC", argumentParser],
            path: "Benchmarks/LTODBench", swiftSettings: strict),

        .target(name: "LTOTestSupport", dependencies: ["LTOObject", "LTOStatistics", "LTOSystem"], path: "Tests/Support", swiftSettings: strict),
        .executableTarget(name: "fuzz-wire", dependencies: ["LTOSystem", "LTOWire"], path: "Tests/Fuzz/Wire", swiftSettings: strict),
        .executableTarget(
            name: "fuzz-object", dependencies: ["LTOGCC", "LTOObject"], path: "Tests/Fuzz/Object", swiftSettings: strict),
        .executableTarget(
            name: "cache-stress", dependencies: ["LTOHash", "LTOLocalStorage", "LTOStorage", "LTOTestSupport"], path: "Tests/CacheStress",
            swiftSettings: strict),
        .testTarget(name: "LTOHashTests", dependencies: ["LTOHash"], swiftSettings: strict),
        .testTarget(name: "LTOSystemTests", dependencies: ["LTOSystem", "LTOTestSupport"], swiftSettings: strict),
        .testTarget(name: "LTOConfigTests", dependencies: ["LTOConfig", "LTOTestSupport"], swiftSettings: strict),
        .testTarget(name: "LTOWireTests", dependencies: ["LTOSystem", "LTOWire"], swiftSettings: strict),
        .testTarget(name: "LTOObjectTests", dependencies: ["LTOObject", "LTOSystem", "LTOTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LTOStorageTests", dependencies: ["LTOHash", "LTOLocalStorage", "LTOStatistics", "LTOStorage", "LTOSystem", "LTOTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "LTORedisStorageTests",
            dependencies: ["LTOConfig", "LTOHash", "LTOLocalStorage", "LTORedisStorage", "LTOStatistics", "LTOStorage", "LTOTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "LTOGCCTests", dependencies: ["LTOGCC", "LTOGCCBackend", "LTOHash", "LTOObject", "LTOSystem", "LTOTestSupport", "SyntheticC"],
            swiftSettings: strict),
        .testTarget(
            name: "LTOBackendTests", dependencies: ["LTOBackend", "LTOHash", "LTOSystem", "LTOTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LTODaemonTests", dependencies: ["LTOBackend", "LTODaemon", "LTOConfig", "LTOStatistics", "LTOTestSupport"],
            swiftSettings: strict),
        .testTarget(name: "SyntheticCTests", dependencies: ["SyntheticC", "LTOTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["LTOConfig", "LTOHash", "LTOLocalStorage", "LTORedisStorage", "LTOStorage", "LTOSystem", "LTOTestSupport", "LTOWire",
                           "SyntheticC"],
            swiftSettings: strict),
    ]
)
