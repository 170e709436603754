import Foundation
import LTOHash
import LTOStatistics
import LTOStorage
import LTOTestSupport
import Synchronization
import Testing

@testable import LTOLocalStorage

@Suite struct RemoteEntryTests {
    let key = CacheKey(Digest.of("key"))
    let entry = RemoteEntry(payload: randomBytes(count: 70_000, seed: 3), info: EntryInfo(buildSeconds: 1.25, target: "/src/app"))

    @Test func roundTrips() throws {
        #expect(try RemoteEntry(decoding: entry.encoded(key: key), key: key) == entry)
        let empty = RemoteEntry(payload: [], info: EntryInfo(buildSeconds: 0, target: ""))
        #expect(try RemoteEntry(decoding: empty.encoded(key: key), key: key) == empty)
    }

    @Test func anyChangedByteIsRefused() throws {
        let blob = entry.encoded(key: key)
        // Every byte of the header and fields, and a sample of the payload.
        for i in Array(0..<120) + stride(from: 120, to: blob.count, by: 997).map({ $0 }) {
            var damaged = blob
            damaged[i] ^= 0x40
            #expect(throws: RemoteEntryError.self, "byte \(i)") { try RemoteEntry(decoding: damaged, key: key) }
        }
        #expect(throws: RemoteEntryError.wrongKey) { try RemoteEntry(decoding: blob, key: CacheKey(Digest.of("other"))) }
        #expect(throws: RemoteEntryError.malformed("truncated")) { try RemoteEntry(decoding: Array(blob.prefix(20)), key: key) }
        #expect(throws: RemoteEntryError.self) { try RemoteEntry(decoding: blob + [0], key: key) }
    }

    @Test func anotherFormatVersionIsTold() throws {
        var blob = entry.encoded(key: key)
        blob[8] = 3
        #expect(throws: RemoteEntryError.unsupportedVersion(3)) { try RemoteEntry(decoding: blob, key: key) }
    }

    /// An entry whose job printed something carries the bytes, status and context, in format 2
    /// (which an ltod that would drop them reads as a miss); one that printed nothing stays format 1.
    @Test func diagnosticsTravelInFormatTwo() throws {
        let printed = EntryDiagnostics(stdout: Array("out\n".utf8), stderr: Array("a.c:3:1: warning: x [-Wfoo]\n".utf8), exitStatus: 0,
                                       context: Digest.of("context"))
        let loud = RemoteEntry(payload: [1, 2, 3], info: EntryInfo(buildSeconds: 2, target: "t", diagnostics: printed))
        let blob = loud.encoded(key: key)
        #expect(blob[8] == 2 && entry.encoded(key: key)[8] == 1)
        #expect(try RemoteEntry(decoding: blob, key: key) == loud)
    }

    /// A field from a later ltod (an unknown tag) is skipped, and the entry still reads.
    @Test func unknownFieldsAreSkipped() throws {
        let blob = entry.encoded(key: key)
        let headerCount = 8 + 2 + 16 + 8 + 16
        var body = Array(blob[headerCount...])
        body[0] += 1  // one more field
        let extra: [UInt8] = [0x39, 0x30] + [5, 0, 0, 0] + Array("hello".utf8)  // tag 12345, 5 bytes
        body.insert(contentsOf: extra, at: 4)
        var rebuilt = Array(blob[..<26])
        rebuilt += withUnsafeBytes(of: UInt64(body.count).littleEndian, Array.init)
        let digest = Digest.of(body)
        rebuilt += withUnsafeBytes(of: digest.high.littleEndian, Array.init) + withUnsafeBytes(of: digest.low.littleEndian, Array.init)
        rebuilt += body
        #expect(try RemoteEntry(decoding: rebuilt, key: key) == entry)
    }
}

@Suite struct RemoteHealthTests {
    @Test func backsOffDoublingThenProbesOnce() {
        var h = RemoteHealth(initialBackOff: 10, maximumBackOff: 25)
        #expect(h.admit(at: 0) == .use)
        h.failed("refused", at: 1)
        #expect(h.admit(at: 2) == .skip && h.admit(at: 10.9) == .skip)
        #expect(h.admit(at: 11) == .use)  // the probe
        #expect(h.admit(at: 11.5) == .skip)  // others wait for it
        h.failed("refused", at: 12)
        #expect(h.skipUntil == 32)  // 20 s
        #expect(h.admit(at: 32) == .use)
        h.failed("refused", at: 32)
        #expect(h.skipUntil == 57)  // capped at 25 s
        #expect(h.admit(at: 57) == .use)
        h.succeeded()
        #expect(h.admit(at: 57.1) == .use && h.admit(at: 57.2) == .use)
        h.failed("timeout", at: 60)
        #expect(h.skipUntil == 70)  // a new episode starts at the initial period
    }

    @Test func failuresOfRequestsAlreadyUnderWayDoNotLengthenTheBackOff() {
        var h = RemoteHealth(initialBackOff: 10, maximumBackOff: 300)
        _ = h.admit(at: 0)
        _ = h.admit(at: 0)
        h.failed("timeout", at: 1)
        h.failed("timeout", at: 1.2)
        #expect(h.faultsInARow == 1 && h.skipUntil == 11)
    }

    @Test func warnsTheLinksThatMetTrouble() {
        var h = RemoteHealth(initialBackOff: 10, maximumBackOff: 300)
        #expect(h.warning(since: 0, now: 5, name: "redis://h:6379/0") == nil)
        h.failed("connecting to redis://h:6379/0: Connection refused", at: 5)
        let line = h.warning(since: 4, now: 6, name: "redis://h:6379/0")
        #expect(line == "remote cache redis://h:6379/0 skipped for part of this link (connecting to redis://h:6379/0: Connection refused); "
            + "the local cache served it; the remote one is tried again in 9 s")
        #expect(!(line ?? "").contains("\n"))
        #expect(h.warning(since: 7, now: 8, name: "r") == nil)  // a later link that met no trouble
        _ = h.admit(at: 9)  // skipped: trouble for a link open at 9
        #expect(h.warning(since: 8, now: 20, name: "r")?.hasSuffix("tried again on the next link") == true)
    }
}

@Suite struct TieredStorageTests {
    /// A remote tier kept in memory, for the composition's logic; the Redis tier itself is
    /// tested against a real server in LTORedisStorageTests.
    final class MemoryTier: RemoteStorage {
        let blobs = Mutex<[CacheKey: [UInt8]]>([:])
        let failure = Mutex<RemoteStorageError?>(nil)
        var name: String { "memory" }
        func get(_ key: CacheKey) throws -> [UInt8]? {
            if let f = failure.withLock({ $0 }) { throw f }
            return blobs.withLock { $0[key] }
        }
        func put(_ key: CacheKey, _ value: [UInt8]) throws {
            if let f = failure.withLock({ $0 }) { throw f }
            blobs.withLock { $0[key] = value }
        }
        func remove(_ key: CacheKey) throws -> Bool { blobs.withLock { $0.removeValue(forKey: key) != nil } }
        subscript(key: CacheKey) -> [UInt8]? {
            get { blobs.withLock { $0[key] } }
            set { blobs.withLock { $0[key] = newValue } }
        }
    }

    final class Clock: Sendable {
        let now = Mutex(1000.0)
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
        var read: @Sendable () -> Double { { self.now.withLock { $0 } } }
    }

    func tiered(_ local: SQLiteStore, _ remote: MemoryTier, _ stats: RecordedStatistics, clock: Clock = Clock(),
                settings: RemoteTierSettings = RemoteTierSettings()) -> TieredStorage {
        TieredStorage(local: local, remote: remote, settings: settings, stats: stats, clock: clock.read)
    }

    func stored(_ bytes: [UInt8], in storage: TieredStorage, dir: TemporaryDirectory) throws -> CacheKey {
        try writeFile(dir.file("obj"), bytes)
        let key = CacheKey(Digest.of(bytes))
        try storage.store(key, from: dir.file("obj"), info: EntryInfo(buildSeconds: 2, target: "app"))
        return key
    }

    @Test func aRemoteHitIsVerifiedAndWrittenBackLocally() throws {
        let dir = try TemporaryDirectory()
        let remote = MemoryTier()
        let stats = RecordedStatistics()
        let first = tiered(try SQLiteStore(directory: dir.file("a")), remote, stats)
        let bytes = randomBytes(count: 100_000, seed: 7)
        let key = try stored(bytes, in: first, dir: dir)
        #expect(first.finishRemoteWrites(timeout: 30) == 0)
        #expect(remote[key] != nil && stats[.remoteWrites] == 1 && stats[.remoteBytesWritten] == Double(remote[key]?.count ?? 0))

        let secondLocal = try SQLiteStore(directory: dir.file("b"))
        let second = tiered(secondLocal, remote, stats)
        let hit = try #require(try second.retrieve(key, to: dir.file("out")))
        #expect(hit.tier == .remote && hit.info == EntryInfo(buildSeconds: 2, target: "app"))
        #expect(try readBytes(dir.file("out")) == bytes)
        #expect(secondLocal.contains(key))
        #expect(try second.retrieve(key, to: dir.file("out"))?.tier == .local)
        #expect(stats[.remoteHits] == 1 && stats[.remoteBytesRead] == 100_000 && stats[.remoteMisses] == 0)
        #expect(try second.retrieve(CacheKey(Digest.of("absent")), to: dir.file("out")) == nil)
        #expect(stats[.remoteMisses] == 1)
        second.finishRemoteWrites(timeout: 1)
    }

    /// An entry whose job printed diagnostics comes back from the remote tier with the same
    /// bytes, status and context; `retrieveAll` takes the remote tier's answers too.
    @Test func aRemoteHitKeepsItsDiagnostics() throws {
        let dir = try TemporaryDirectory()
        let remote = MemoryTier()
        let stats = RecordedStatistics()
        let first = tiered(try SQLiteStore(directory: dir.file("a")), remote, stats)
        let bytes = randomBytes(count: 5000, seed: 9)
        try writeFile(dir.file("obj"), bytes)
        let key = CacheKey(Digest.of(bytes))
        let printed = EntryDiagnostics(stdout: [], stderr: Array("\u{1B}[01mb.c:7:3:\u{1B}[m warning: w\n".utf8), exitStatus: 0,
                                       context: Digest.of("tty"))
        let info = EntryInfo(buildSeconds: 3, target: "app", diagnostics: printed)
        try first.store(key, from: dir.file("obj"), info: info)
        #expect(first.finishRemoteWrites(timeout: 30) == 0)

        let second = tiered(try SQLiteStore(directory: dir.file("b")), remote, stats)
        let hits = try second.retrieveAll([(key, dir.file("out")), (CacheKey(Digest.of("absent")), dir.file("none"))])
        #expect(hits.count == 2 && hits[1] == nil)
        let hit = try #require(hits[0])
        #expect(hit.tier == .remote && hit.info == info)
        #expect(try readBytes(dir.file("out")) == bytes)
        #expect(try second.retrieve(key, to: dir.file("again"))?.info.diagnostics == printed)
        second.finishRemoteWrites(timeout: 1)
    }

    /// `contains` brings a remote entry into the local tier; its next retrieve is still a remote hit.
    @Test func containsFetchesAndTheNextRetrieveCountsAsRemote() throws {
        let dir = try TemporaryDirectory()
        let remote = MemoryTier()
        let stats = RecordedStatistics()
        let first = tiered(try SQLiteStore(directory: dir.file("a")), remote, stats)
        let key = try stored(randomBytes(count: 1000, seed: 1), in: first, dir: dir)
        first.finishRemoteWrites(timeout: 30)
        let second = tiered(try SQLiteStore(directory: dir.file("b")), remote, stats)
        #expect(second.contains(key))
        #expect(try second.retrieve(key, to: dir.file("out"))?.tier == .remote)
        #expect(try second.retrieve(key, to: dir.file("out"))?.tier == .local)
        #expect(stats[.remoteHits] == 1)
        second.finishRemoteWrites(timeout: 1)
    }

    @Test func aCorruptEntryIsAFaultAMissAndIsRemoved() throws {
        let dir = try TemporaryDirectory()
        let remote = MemoryTier()
        let stats = RecordedStatistics()
        let clock = Clock()
        let storage = tiered(try SQLiteStore(directory: dir.cache), remote, stats, clock: clock)
        let bytes = randomBytes(count: 5000, seed: 1)
        let key = CacheKey(Digest.of(bytes))
        var blob = RemoteEntry(payload: bytes, info: EntryInfo(buildSeconds: 1, target: "t")).encoded(key: key)
        blob[blob.count - 1] ^= 1
        remote[key] = blob
        let started = clock.read()
        #expect(try storage.retrieve(key, to: dir.file("out")) == nil)
        #expect(remote[key] == nil, "the corrupt entry is removed so that a rebuild replaces it")
        #expect(stats[.remoteErrors] == 1 && stats[.remoteHits] == 0)
        #expect(storage.linkWarning(since: started)?.contains("does not match its hash") == true)
        // Backing off: the next look-up does not reach the tier.
        remote[key] = RemoteEntry(payload: bytes, info: EntryInfo(buildSeconds: 1, target: "t")).encoded(key: key)
        #expect(try storage.retrieve(key, to: dir.file("out")) == nil)
        #expect(stats[.remoteSkipped] == 1)
        clock.advance(10)
        #expect(try storage.retrieve(key, to: dir.file("out"))?.tier == .remote)
        storage.finishRemoteWrites(timeout: 1)
    }

    @Test func anEntryOfAnotherFormatIsAMissNotAFault() throws {
        let dir = try TemporaryDirectory()
        let remote = MemoryTier()
        let stats = RecordedStatistics()
        let storage = tiered(try SQLiteStore(directory: dir.cache), remote, stats)
        let key = CacheKey(Digest.of("k"))
        var blob = RemoteEntry(payload: [1, 2, 3], info: EntryInfo(buildSeconds: 1, target: "t")).encoded(key: key)
        blob[8] = 9
        remote[key] = blob
        #expect(try storage.retrieve(key, to: dir.file("out")) == nil)
        #expect(stats[.remoteMisses] == 1 && stats[.remoteErrors] == 0 && storage.linkWarning(since: 0) == nil)
        storage.finishRemoteWrites(timeout: 1)
    }

    @Test func faultsNeverFailALookUpOrAStore() throws {
        let dir = try TemporaryDirectory()
        let remote = MemoryTier()
        let stats = RecordedStatistics()
        let clock = Clock()
        let storage = tiered(try SQLiteStore(directory: dir.cache), remote, stats, clock: clock)
        remote.failure.withLock { $0 = .timeout("GET: Resource temporarily unavailable (timeout)") }
        #expect(try storage.retrieve(CacheKey(Digest.of("a")), to: dir.file("out")) == nil)
        #expect(stats[.remoteTimeouts] == 1 && stats[.remoteErrors] == 0)
        let key = try stored([9, 9, 9], in: storage, dir: dir)
        #expect(try storage.retrieve(key, to: dir.file("out"))?.tier == .local)
        storage.finishRemoteWrites(timeout: 30)
        #expect(stats[.remoteSkipped] == 1 && remote[key] == nil, "the write met the back-off and was skipped")
        #expect(storage.linkWarning(since: 999)?.contains("timeout") == true)
    }

    @Test func readOnlyNeverWritesAndLimitsBoundWhatIsSent() throws {
        let dir = try TemporaryDirectory()
        let remote = MemoryTier()
        let stats = RecordedStatistics()
        let readOnly = tiered(try SQLiteStore(directory: dir.file("a")), remote, stats, settings: RemoteTierSettings(readOnly: true))
        _ = try stored([1, 2, 3], in: readOnly, dir: dir)
        readOnly.finishRemoteWrites(timeout: 30)
        #expect(remote.blobs.withLock { $0.isEmpty })

        let small = tiered(try SQLiteStore(directory: dir.file("b")), remote, stats, settings: RemoteTierSettings(maxEntryBytes: 1000))
        let big = try stored(randomBytes(count: 1001, seed: 2), in: small, dir: dir)
        let fits = try stored(randomBytes(count: 1000, seed: 3), in: small, dir: dir)
        small.finishRemoteWrites(timeout: 30)
        #expect(remote[big] == nil && remote[fits] != nil && stats[.remoteWritesDropped] == 1)
    }

    @Test func metadataComesFromTheRemoteTierWithoutCountingAHit() throws {
        let dir = try TemporaryDirectory()
        let remote = MemoryTier()
        let stats = RecordedStatistics()
        let first = tiered(try SQLiteStore(directory: dir.file("a")), remote, stats)
        let key = try stored(Array("provenance".utf8), in: first, dir: dir)
        first.finishRemoteWrites(timeout: 30)
        let second = tiered(try SQLiteStore(directory: dir.file("b")), remote, stats)
        #expect(second.smallPayload(key) == Array("provenance".utf8))
        #expect(second.local.smallPayload(key) == Array("provenance".utf8))
        #expect(stats[.remoteHits] == 0 && stats[.remoteBytesRead] > 0)
        second.finishRemoteWrites(timeout: 1)
    }
}
