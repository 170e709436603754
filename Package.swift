// swift-tools-version:6.1
import PackageDescription

/// Module map (one module per concern; see each module's header comment):
/// - `CSQLite`, `CXXHash`, `CZstd`: system libraries (libsqlite3, libxxhash, libzstd; libzstd only
///   for tests, which inflate the compressed body sections of partitions).
/// - `CPosix`: the GNU calls Swift's Glibc module hides (spawn chdir, pipe2, FICLONE).
/// - `LTOHash`: XXH3-128 digests and the framed hasher behind every cache key.
/// - `LTOWire`: the wire protocol between `ltoc` and `ltod` (frames, messages, socket I/O).
/// - `LTOProcess`: spawning and waiting for programs with exact argv, env and cwd.
/// - `LTOObject`: reading ELF objects and GCC's `.gnu.lto_*` sections (pure parsing).
/// - `LTOCache`: the content-addressed SQLite cache store.
/// - `LTOGCC`: GCC backend logic: command lines, partitions, cache keys (no I/O).
/// - `LTODaemon`: the server: sessions, scheduler, statistics.
/// - `SyntheticC`: the generator of synthetic multi-file C programs for tests and benchmarks.
/// - `ltod`, `ltoc`: the daemon and the Foundation-free client shim.
/// - `ltod-bench` (Benchmarks/): measurements against plain `gcc -flto`, and the demo.
/// - `fuzz-wire`, `fuzz-object` (Tests/Fuzz/): libFuzzer targets (built with `-sanitize=fuzzer
///   -Xswiftc -DFUZZING`, see Tests/fuzz); a normal build makes them replay tools for saved inputs.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "ltod",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ltod", targets: ["ltod"]),
        .executable(name: "ltoc", targets: ["ltoc"]),
        // For the micro-benchmarks in Benchmarks/Micro, a separate package that depends on this one.
        .library(name: "LTOHash", targets: ["LTOHash"]),
        .library(name: "LTOCache", targets: ["LTOCache"]),
        .library(name: "LTOWire", targets: ["LTOWire"]),
        .library(name: "LTOProcess", targets: ["LTOProcess"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "LTOHash", dependencies: ["CXXHash"], swiftSettings: strict),
        .target(name: "LTOWire", swiftSettings: strict),
        .target(name: "CPosix"),
        .target(name: "LTOProcess", dependencies: ["CPosix"], swiftSettings: strict),
        .target(name: "LTOObject", dependencies: ["LTOHash"], swiftSettings: strict),
        .target(name: "LTOCache", dependencies: ["CSQLite", "LTOHash"], swiftSettings: strict),
        .target(name: "LTOGCC", dependencies: ["LTOHash", "LTOObject"], swiftSettings: strict),
        .target(
            name: "LTODaemon",
            dependencies: [
                "CPosix", "LTOWire", "LTOProcess", "LTOObject", "LTOCache", "LTOGCC", "LTOHash",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strict),
        .target(name: "SyntheticC", swiftSettings: strict),
        .executableTarget(
            name: "ltod",
            dependencies: ["LTODaemon", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .executableTarget(
            name: "ltoc",
            dependencies: ["LTOWire", "LTOProcess", "LTOGCC"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]),
        .executableTarget(
            name: "ltod-bench",
            dependencies: ["SyntheticC", "LTOProcess", "LTOWire", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/LTODBench", swiftSettings: strict),
        .executableTarget(name: "fuzz-wire", dependencies: ["LTOWire"], path: "Tests/Fuzz/Wire", swiftSettings: strict),
        .executableTarget(
            name: "fuzz-object", dependencies: ["LTOObject"], path: "Tests/Fuzz/Object", swiftSettings: strict),
        .executableTarget(
            name: "cache-stress", dependencies: ["LTOCache", "LTOHash"], path: "Tests/CacheStress",
            swiftSettings: strict),
        .testTarget(name: "LTOHashTests", dependencies: ["LTOHash"], swiftSettings: strict),
        .testTarget(name: "LTOWireTests", dependencies: ["LTOWire"], swiftSettings: strict),
        .testTarget(name: "LTOObjectTests", dependencies: ["LTOObject", "LTOHash"], swiftSettings: strict),
        .testTarget(name: "LTOCacheTests", dependencies: ["LTOCache", "LTOHash"], swiftSettings: strict),
        .testTarget(
            name: "LTOGCCTests", dependencies: ["LTOGCC", "LTOObject", "LTOHash", "CZstd", "SyntheticC"], swiftSettings: strict),
        .testTarget(name: "LTODaemonTests", dependencies: ["LTODaemon"], swiftSettings: strict),
        .testTarget(name: "SyntheticCTests", dependencies: ["SyntheticC"], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["SyntheticC", "LTOWire", "LTOCache", "LTOHash"], swiftSettings: strict),
    ]
)
