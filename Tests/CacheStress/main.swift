// cache-stress: hammers one cache directory with deterministic stores and retrieves, for the
// LTOCache tests with several processes and with a process killed mid-write.
//
// Usage: cache-stress <cache-dir> <count> <seed> [file-size-limit]
//
// With a file size limit, every store runs under RLIMIT_FSIZE of that many bytes, so
// writing a larger file fails with EFBIG the way a full disk fails with ENOSPC.
// Entry i has pseudo-random content of 0–300 KB (a third inline-sized, the rest payload
// files) generated from (i, seed) for odd i and from (i, 0) for even i, so two runs with
// different seeds store the even entries concurrently and the odd ones separately. Its key
// is the digest of its content, so any reader can check a retrieved payload against its key.
// Exits 0 on success, 1 on wrong or missing content, 2 on bad usage, 3 on a cache error.
import Glibc
import LTOLocalStorage
import LTOStorage
import LTOHash
import LTOTestSupport

func content(index: Int, seed: UInt64) -> [UInt8] {
    var random = SeededRandom(seed: (index.isMultiple(of: 2) ? 0 : seed) &* 1_000_003 &+ UInt64(index))
    let r = Int(random.next() % 1_000_000)
    let size = r.isMultiple(of: 3) ? r % 65_537 : 65_537 + r % 234_464
    var bytes: [UInt8] = []
    bytes.reserveCapacity(size + 8)
    while bytes.count < size { withUnsafeBytes(of: random.next()) { bytes.append(contentsOf: $0) } }
    return Array(bytes.prefix(size))
}

func fail(_ message: String, status: Int32 = 1) -> Never {
    var line = "cache-stress: \(message)\n"
    _ = line.withUTF8 { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(status)
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { fail("cannot create \(path): errno \(errno)", status: 3) }
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else { fail("short write to \(path)", status: 3) }
}

func readFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("cannot open \(path): errno \(errno)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { break }
        bytes.append(contentsOf: chunk[..<n])
    }
    return bytes
}

let arguments = CommandLine.arguments
guard 4...5 ~= arguments.count, let count = Int(arguments[2]), let seed = UInt64(arguments[3]) else {
    fail("usage: cache-stress <cache-dir> <count> <seed> [file-size-limit]", status: 2)
}
let fileSizeLimit = arguments.count == 5 ? rlim_t(arguments[4]) : nil
signal(SIGXFSZ, SIG_IGN)

/// Runs `body` with the file size limit (if any) in force.
func limitingFileSize<T>(_ body: () throws -> T) rethrows -> T {
    guard let fileSizeLimit else { return try body() }
    var saved = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved)
    var limited = saved
    limited.rlim_cur = fileSizeLimit
    setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limited)
    defer { setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved) }
    return try body()
}
let cacheDirectory = arguments[1]
let scratch = "\(cacheDirectory).stress-\(getpid())"
guard mkdir(scratch, 0o700) == 0 else { fail("cannot create \(scratch): errno \(errno)", status: 3) }
let source = scratch + "/source.o"
let destination = scratch + "/retrieved.o"

do {
    // The old inline threshold, so that a third of the entries still live inside the index.
    let store = try SQLiteStore(directory: cacheDirectory, limits: CacheLimits(inlineThreshold: 64 << 10))
    var random = SeededRandom(seed: seed)
    for index in 0..<count {
        let bytes = content(index: index, seed: seed)
        writeFile(source, bytes)
        try limitingFileSize {
            try store.store(CacheKey(Digest.of(bytes)), from: source, info: EntryInfo(buildSeconds: 1, target: "stress-\(index).o"))
        }
        guard index % 3 == 2 else { continue }
        let earlier = Int(random.next() % UInt64(index + 1))
        let expected = content(index: earlier, seed: seed)
        guard try store.retrieve(CacheKey(Digest.of(expected)), to: destination) != nil else {
            fail("entry \(earlier) missing after it was stored")
        }
        guard readFile(destination) == expected else { fail("entry \(earlier) retrieved with wrong content") }
    }
} catch {
    fail("\(error)", status: 3)
}
unlink(source)
unlink(destination)
rmdir(scratch)
