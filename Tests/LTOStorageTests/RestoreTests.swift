import Foundation
import Glibc
import LTOHash
import Synchronization
import Testing

import LTOStorage
import LTOTestSupport
@testable import LTOLocalStorage

/// Restores by link, entries that outlive their restored copies, payloads truncated under
/// the reader, diagnostics kept with entries, and an index of the previous schema.
@Suite struct RestoreTests {
    @Test func aRestoreByLinkLeavesTheEntryIntactWhenTheOutputIsReplaced() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let bytes = randomBytes(count: 300_000, seed: 11)
        let key = try storeBytes(bytes, in: store, dir: dir)
        let output = dir.file("app.ltrans0.ltrans.o")
        let hit = try #require(try store.retrieve(key, to: output))
        #expect(hit.placement != .copy, "the cache and the output share a filesystem: \(hit.placement)")

        // Later links write the output again the way ltod and GCC's temporary names do:
        // a new file renamed over it, or the old one removed and a new one created.
        try writeFile(dir.file("next"), randomBytes(count: 300_000, seed: 12))
        #expect(rename(dir.file("next"), output) == 0)
        #expect(try readBytes(output) != bytes)
        #expect(try store.retrieve(key, to: dir.file("again.o")) != nil)
        #expect(try readBytes(dir.file("again.o")) == bytes)
        #expect(unlink(dir.file("again.o")) == 0)
        try writeFile(dir.file("again.o"), [1, 2, 3])
        #expect(try store.retrieve(key, to: dir.file("third.o")) != nil)
        #expect(try readBytes(dir.file("third.o")) == bytes)
    }

    @Test func writingIntoAHardLinkedRestoreIsCaughtNeverServed() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let bytes = randomBytes(count: 300_000, seed: 13)
        let key = try storeBytes(bytes, in: store, dir: dir)
        let output = dir.file("out.o")
        guard try store.retrieve(key, to: output)?.placement == .hardLink else { return }
        // The payload is read-only; only a writer that ignores permissions (root) gets here.
        let fd = open(output, O_WRONLY)
        guard fd >= 0 else {
            #expect(errno == EACCES)
            return
        }
        var garbage: [UInt8] = [0xde, 0xad]
        #expect(pwrite(fd, &garbage, 2, 1000) == 2)
        close(fd)
        #expect(try store.retrieve(key, to: dir.file("other.o")) == nil, "a damaged payload is a miss")
        #expect(!store.contains(key))
        #expect(try store.counters()[.cacheCorrupt] == 1)
    }

    @Test func aPayloadTruncatedWhileItIsReadIsAMissNotACrash() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let bytes = randomBytes(count: 4_000_000, seed: 14)
        let key = try storeBytes(bytes, in: store, dir: dir)
        let payload = store.payloadPath(key.description)
        // Another process truncates the payload and writes it back in place, again and again,
        // while the store reads it (read through mmap, this raised SIGBUS in the reader).
        let damage = Damage()
        let damager = Thread {
            while !damage.stop.load(ordering: .relaxed) {
                chmod(payload, 0o600)
                let fd = open(payload, O_WRONLY)
                guard fd >= 0 else { continue }
                ftruncate(fd, 4096)
                _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                close(fd)
                damage.rounds.add(1, ordering: .relaxed)
            }
        }
        damager.start()
        defer { damage.stop.store(true, ordering: .relaxed) }
        var misses = 0
        for i in 0..<500 where misses < 5 {
            if let hit = try store.retrieve(key, to: dir.file("out\(i % 4).o")) {
                #expect(hit.size == UInt64(bytes.count))
            } else {
                misses += 1
                try storeBytes(bytes, in: store, dir: dir)
            }
        }
        damage.stop.store(true, ordering: .relaxed)
        while !damager.isFinished { usleep(1000) }
        #expect(misses > 0, "truncated payloads were misses (\(damage.rounds.load(ordering: .relaxed)) truncations)")
        #expect(try store.counters()[.cacheCorrupt] == Double(misses))
    }

    /// The damaging thread's switch and count.
    final class Damage: Sendable {
        let stop = Atomic<Bool>(false)
        let rounds = Atomic<Int>(0)
    }

    @Test func diagnosticsAreKeptWithTheEntry() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        for (index, size) in [1000, 200_000].enumerated() {
            let bytes = randomBytes(count: size, seed: UInt64(20 + index))
            try writeFile(dir.file("obj"), bytes)
            let diagnostics = EntryDiagnostics(stdout: [], stderr: Array("a.c:1:2: warning: w [-Wx]\n".utf8), exitStatus: 0,
                                               context: Digest.of("context"))
            let key = CacheKey(Digest.of(bytes))
            try store.store(key, from: dir.file("obj"), info: EntryInfo(buildSeconds: 2, target: "app", diagnostics: diagnostics))
            #expect(try store.retrieve(key, to: dir.file("out"))?.info.diagnostics == diagnostics)
            #expect(try store.load(key)?.info.diagnostics == diagnostics)
        }
        let quiet = try storeBytes(randomBytes(count: 500, seed: 30), in: store, dir: dir)
        #expect(try store.retrieve(quiet, to: dir.file("out"))?.info.diagnostics == nil)
    }

    @Test func anIndexOfSchemaVersionOneIsUpgradedInPlace() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.cache + "/objects", withIntermediateDirectories: true)
        let bytes = randomBytes(count: 100, seed: 40)
        let hex = Digest.of(bytes).description
        let version1 = """
            CREATE TABLE entries (key TEXT PRIMARY KEY, size INTEGER NOT NULL, payload_hash TEXT NOT NULL, inline BLOB,
                created REAL NOT NULL, last_used REAL NOT NULL, hits INTEGER NOT NULL, build_seconds REAL NOT NULL, target TEXT NOT NULL);
            CREATE INDEX entries_last_used ON entries (last_used);
            CREATE TABLE counters (name TEXT PRIMARY KEY, value REAL NOT NULL);
            INSERT INTO counters VALUES ('cache.hits', 7);
            INSERT INTO entries VALUES ('\(hex)', 100, '\(hex)', X'\(bytes.map { String(format: "%02x", $0) }.joined())', 1, 1, 3, 4.5, 'old.o');
            PRAGMA user_version = 1;
            """
        try Shell.check(["sqlite3", dir.cache + "/index.sqlite", version1], cwd: "/")

        let store = try SQLiteStore(directory: dir.cache)
        let hit = try #require(try store.retrieve(CacheKey(Digest.of(bytes)), to: dir.file("out")))
        #expect(hit.info == EntryInfo(buildSeconds: 4.5, target: "old.o") && hit.hits == 4)
        #expect(try readBytes(dir.file("out")) == bytes)
        #expect(try store.counters()[.cacheHits] == 7)
        let newer = try storeBytes(randomBytes(count: 100, seed: 41), in: store, dir: dir)
        #expect(try store.retrieve(newer, to: dir.file("out")) != nil)
    }
}
