import Foundation
import Glibc
import LTOHash
import Testing

import LTOStatistics
import LTOStorage
import LTOTestSupport
@testable import LTOLocalStorage

extension TemporaryDirectory {
    /// The cache directory of a test.
    var cache: String { file("cache") }
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Writes `bytes` to a source file in `dir` and stores them under the digest of their content.
@discardableResult
func storeBytes(_ bytes: [UInt8], in store: SQLiteStore, dir: TemporaryDirectory, name: String = "source") throws -> CacheKey {
    let key = CacheKey(Digest.of(bytes))
    try writeFile(dir.file(name), bytes)
    try store.store(key, from: dir.file(name), info: EntryInfo(buildSeconds: 1.5, target: "\(name).o"))
    return key
}

/// Retrieves every indexed entry and checks its content against its key (content-addressed
/// entries); returns how many were intact. Entries found damaged must be gone afterwards.
func verifyContentAddressedEntries(in store: SQLiteStore, scratch: String) throws -> Int {
    var intact = 0
    for key in try store.allKeys() {
        if try store.retrieve(key, to: scratch) != nil {
            #expect(Digest.of(try readBytes(scratch)) == key.digest, "entry \(key) retrieved with wrong content")
            intact += 1
        } else {
            #expect(!store.contains(key), "entry \(key) reported as a miss but still indexed")
        }
    }
    return intact
}

/// Temporary files left in the cache's payload directories.
func temporaryFiles(in cache: String) -> [String] {
    let objects = cache + "/objects"
    let shards = (try? FileManager.default.contentsOfDirectory(atPath: objects)) ?? []
    return shards.flatMap { shard in
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(objects)/\(shard)")) ?? []).filter { $0.hasPrefix(".tmp-") }
    }
}

/// The `cache-stress` helper, built next to the test bundle in the build products directory.
func cacheStressExecutable() throws -> String {
    let bundle = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let path = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("cache-stress").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestFailure(
            "the cache-stress helper is missing at \(path); run `swift build` (with the same --scratch-path) before `swift test`")
    }
    return path
}

/// Starts `cache-stress <cache> <count> <seed> [fileSizeLimit]`.
func startStress(cache: String, count: Int, seed: Int, fileSizeLimit: Int? = nil) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try cacheStressExecutable())
    process.arguments = [cache, String(count), String(seed)] + (fileSizeLimit.map { [String($0)] } ?? [])
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    return (process, errors)
}

/// Waits for a process started by `startStress`; returns its exit status and standard error.
func finish(_ started: (Process, Pipe)) -> (status: Int32, stderr: String) {
    let output = started.1.fileHandleForReading.readDataToEndOfFile()
    started.0.waitUntilExit()
    return (started.0.terminationStatus, String(decoding: output, as: UTF8.self))
}
