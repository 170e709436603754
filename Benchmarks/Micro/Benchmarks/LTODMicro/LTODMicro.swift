// Micro-benchmarks of ltod's hot paths: hashing (against memcpy, the machine's memory
// bandwidth, in the same run), cache index lookups on a populated store, and the round
// trip from the shim to a running daemon over its Unix socket.
import Benchmark
import Foundation
import LTOHash
import LTOLocalStorage
import LTOStorage
import LTOSystem
import LTOWire

/// 64 MiB of pseudo-random bytes: larger than any cache, so both hashing and copying stream from memory.
let bufferBytes = 64 << 20

func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

/// A cache store in a temporary directory, holding `count` 4 KiB entries and one 1 MiB
/// entry, all stored as files, as LTRANS objects are.
struct CacheFixture: Sendable {
    let store: SQLiteStore
    let keys: [CacheKey]
    let large: CacheKey
    let destination: String

    static func make(count: Int) -> CacheFixture {
        let dir = NSTemporaryDirectory() + "ltod-micro-cache-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
            let store = try SQLiteStore(directory: dir + "/cache")
            var keys: [CacheKey] = []
            for i in 0..<count {
                let payload = dir + "/in/small"
                try Data(pseudoRandomBytes(4096, seed: UInt64(i))).write(to: URL(fileURLWithPath: payload))
                let key = CacheKey(Digest.of("entry \(i)"))
                try store.store(key, from: payload, info: EntryInfo(buildSeconds: 0.1, target: "micro"))
                keys.append(key)
            }
            let largePayload = dir + "/in/large"
            try Data(pseudoRandomBytes(1 << 20, seed: 7)).write(to: URL(fileURLWithPath: largePayload))
            let large = CacheKey(Digest.of("large"))
            try store.store(large, from: largePayload, info: EntryInfo(buildSeconds: 1, target: "micro"))
            return CacheFixture(store: store, keys: keys, large: large, destination: dir + "/out.o")
        } catch {
            fatalError("cannot populate the cache store in \(dir): \(error)")
        }
    }
}

/// A private ltod (its own socket and cache), started from the root package's release build.
struct DaemonFixture: Sendable {
    let binaries: String
    let environment: [String]
    let socket: String

    init() {
        let env = ProcessInfo.processInfo.environment
        binaries = env["LTOD_BIN_DIR"] ?? FileManager.default.currentDirectoryPath + "/../../.build/release"
        let dir = NSTemporaryDirectory() + "ltod-micro-daemon-\(getpid())"
        socket = dir + "/socket"
        environment = env.map { "\($0.key)=\($0.value)" }
            + ["LTOD_SOCKET=\(socket)", "LTOD_CACHE_DIR=\(dir)/cache", "LTOD_CONFIG=\(dir)/none.toml"]
    }

    func ltoc(_ arguments: String...) -> ExitStatus {
        var command = Command(executable: binaries + "/ltoc", argv: ["ltoc"] + arguments, environment: environment)
        command.stdout = .null
        do { return try run(command) } catch { fatalError("cannot run \(binaries)/ltoc (build it with `swift build -c release`): \(error)") }
    }

    func start() {
        var command = Command(executable: binaries + "/ltod", argv: ["ltod", "start"], environment: environment)
        command.stdout = .null
        guard (try? run(command)) == .exited(0) else {
            fatalError("cannot start \(binaries)/ltod (build it with `swift build -c release`, or set LTOD_BIN_DIR)")
        }
    }

    func stop() { _ = ltoc("shutdown") }

    /// A connection that has exchanged its hello, as ltoc's are before their first request.
    func connect() throws -> FrameSocket {
        let socket = try FrameSocket.connect(to: self.socket)
        guard case .hello = try socket.request(.hello(version: Protocol.version)) else { fatalError("the daemon refused hello") }
        return socket
    }
}

let daemon = DaemonFixture()

let benchmarks: @Sendable () -> Void = {
    hashing()
    cacheLookups()
    roundTrips()
}

func hashing() {
    let source = pseudoRandomBytes(bufferBytes, seed: 1)
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput], timeUnits: .microseconds, maxDuration: .seconds(5), maxIterations: 200)
    Benchmark("XXH3-128 of 64 MiB (LTOHash)", configuration: config) { benchmark in
        source.withUnsafeBytes { bytes in blackHole(Digest.of(bytes)) }
    }
    Benchmark("memcpy of 64 MiB (memory bandwidth)", configuration: config) { benchmark in
        var destination = [UInt8](repeating: 0, count: bufferBytes)
        benchmark.startMeasurement()
        destination.withUnsafeMutableBytes { to in source.withUnsafeBytes { from in to.copyMemory(from: from) } }
        benchmark.stopMeasurement()
        blackHole(destination)
    }
}

func cacheLookups() {
    let count = 2000
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput], scalingFactor: .kilo, maxDuration: .seconds(5))
    Benchmark("SQLiteStore.contains, \(count) entries", configuration: config) { benchmark in
        let fixture = cache
        for i in benchmark.scaledIterations { blackHole(fixture.store.contains(fixture.keys[i % fixture.keys.count])) }
    }
    Benchmark("SQLiteStore.contains, absent key", configuration: config) { benchmark in
        let fixture = cache
        for i in benchmark.scaledIterations { blackHole(fixture.store.contains(CacheKey(Digest(high: 1, low: UInt64(i))))) }
    }
    let single = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(5))
    Benchmark("SQLiteStore.retrieve, 4 KiB entry", configuration: single) { benchmark in
        let fixture = cache
        blackHole(try fixture.store.retrieve(fixture.keys[benchmark.currentIteration % fixture.keys.count], to: fixture.destination))
    }
    Benchmark("SQLiteStore.retrieve, 1 MiB file entry", configuration: single) { benchmark in
        let fixture = cache
        blackHole(try fixture.store.retrieve(fixture.large, to: fixture.destination))
    }
}

/// Populated on first use, so that listing the benchmarks does not build it.
let cache = CacheFixture.make(count: 2000)

func roundTrips() {
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(5),
                                         setup: { daemon.start() }, teardown: { daemon.stop() })
    Benchmark("ltod round trip: status request on an open connection", configuration: config) { benchmark in
        let socket = try daemon.connect()
        benchmark.startMeasurement()
        blackHole(try socket.request(.command(name: "status", arguments: [])))
        benchmark.stopMeasurement()
    }
    Benchmark("ltod round trip: connect, hello", configuration: config) { benchmark in
        blackHole(try daemon.connect())
    }
    Benchmark("ltod round trip: `ltoc status` process", configuration: config) { benchmark in
        guard daemon.ltoc("status") == .exited(0) else { fatalError("ltoc status failed: is the daemon up?") }
    }
}
