import Foundation
import Glibc
import LTOHash
import Testing

import LTOStatistics
import Synchronization
import LTOStorage
import LTOTestSupport
@testable import LTOLocalStorage

@Suite struct CacheStoreTests {
    @Test func roundTripsInlineAndFilePayloads() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let destination = dir.file("out.o")
        let inline = CacheLimits().inlineThreshold
        for (index, size) in [0, inline, inline + 1, 100_000, 3_000_000].enumerated() {
            let bytes = randomBytes(count: size, seed: UInt64(index))
            let key = CacheKey(Digest.of(bytes))
            #expect(try store.retrieve(key, to: destination) == nil)
            try storeBytes(bytes, in: store, dir: dir, name: "t\(index)")
            #expect(store.contains(key))
            #expect(exists(store.payloadPath(key.description)) == (size > inline))

            let hit = try #require(try store.retrieve(key, to: destination))
            #expect(hit.size == UInt64(size) && hit.hits == 1 && hit.info.buildSeconds == 1.5 && hit.info.target == "t\(index).o")
            #expect(try readBytes(destination) == bytes)
            var info = stat(), payload = stat()
            #expect(stat(destination, &info) == 0)
            if size > inline {
                // On the cache's filesystem a payload file is shared, never copied: a reflink, or a
                // hard link to the read-only payload itself.
                #expect(hit.placement != .copy)
                if hit.placement == .hardLink {
                    #expect(stat(store.payloadPath(key.description), &payload) == 0 && payload.st_ino == info.st_ino)
                    #expect(info.st_mode & 0o7777 == 0o400 && info.st_nlink == 2)
                }
            } else {
                #expect(hit.placement == .copy && info.st_mode & 0o7777 == 0o644 && info.st_nlink == 1)
            }
            #expect(try store.retrieve(key, to: destination)?.hits == 2)
        }
        #expect(try store.summary().entries == 5)
    }

    @Test func storingAnExistingKeyKeepsTheFirstPayload() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let first = randomBytes(count: 100_000, seed: 1)
        let key = try storeBytes(first, in: store, dir: dir)
        try writeFile(dir.file("other"), randomBytes(count: 100_000, seed: 2))
        try store.store(key, from: dir.file("other"), info: EntryInfo(buildSeconds: 9, target: "other.o"))
        #expect(try store.retrieve(key, to: dir.file("out"))?.info.target == "source.o")
        #expect(try readBytes(dir.file("out")) == first)
    }

    @Test func retrieveReplacesASymlinkAtTheDestinationInsteadOfFollowingIt() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let bytes = randomBytes(count: 200_000, seed: 3)
        let key = try storeBytes(bytes, in: store, dir: dir)
        try writeFile(dir.file("victim"), [1, 2, 3])
        #expect(symlink(dir.file("victim"), dir.file("out")) == 0)
        #expect(try store.retrieve(key, to: dir.file("out")) != nil)
        #expect(try readBytes(dir.file("victim")) == [1, 2, 3])
        #expect(try readBytes(dir.file("out")) == bytes)
    }

    @Test func concurrentStoresAndRetrievesFromManyTasksReturnCorrectPayloads() async throws {
        let dir = try TemporaryDirectory()
        let stores = [try SQLiteStore(directory: dir.cache), try SQLiteStore(directory: dir.cache)]
        let payloads = (0..<40).map { randomBytes(count: $0.isMultiple(of: 3) ? 1000 * $0 : 70_000 + 3000 * $0, seed: UInt64($0)) }
        for (index, bytes) in payloads.enumerated() { try writeFile(dir.file("src-\(index)"), bytes) }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<16 {
                group.addTask {
                    let store = stores[task % 2]
                    let destination = dir.file("dst-\(task)")
                    for op in 0..<50 {
                        let index = (task * 7 + op * 13) % payloads.count
                        let key = CacheKey(Digest.of(payloads[index]))
                        if op.isMultiple(of: 2) {
                            try store.store(key, from: dir.file("src-\(index)"), info: EntryInfo(buildSeconds: 1, target: "t"))
                        } else if try store.retrieve(key, to: destination) != nil {
                            #expect(try readBytes(destination) == payloads[index], "task \(task) op \(op)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let store = try SQLiteStore(directory: dir.cache)
        #expect(try verifyContentAddressedEntries(in: store, scratch: dir.file("check")) == (try store.summary().entries))
        #expect(try store.counters()[.cacheCorrupt] == nil)
    }

    @Test func detectsDamagedPayloadFilesAndInlineBlobs() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let out = dir.file("out")
        func expectCorrupt(_ key: CacheKey, count: Double, _ what: Comment) throws {
            #expect(try store.retrieve(key, to: out) == nil, what)
            #expect(try store.counters()[.cacheCorrupt] == count, what)
            #expect(!store.contains(key), what)
            #expect(!exists(store.payloadPath(key.description)), what)
        }

        let truncated = try storeBytes(randomBytes(count: 300_000, seed: 1), in: store, dir: dir)
        #expect(truncate(store.payloadPath(truncated.description), 150_000) == 0)
        try expectCorrupt(truncated, count: 1, "truncated payload file")

        let flipped = try storeBytes(randomBytes(count: 300_000, seed: 2), in: store, dir: dir)
        let fd = open(store.payloadPath(flipped.description), O_RDWR)
        var byte: UInt8 = 0
        #expect(pread(fd, &byte, 1, 123_456) == 1)
        byte ^= 0x10
        #expect(pwrite(fd, &byte, 1, 123_456) == 1)
        close(fd)
        try expectCorrupt(flipped, count: 2, "bit flip in payload file")

        let missing = try storeBytes(randomBytes(count: 300_000, seed: 3), in: store, dir: dir)
        #expect(unlink(store.payloadPath(missing.description)) == 0)
        try expectCorrupt(missing, count: 3, "missing payload file")

        let planted = try storeBytes(randomBytes(count: 300_000, seed: 4), in: store, dir: dir)
        let path = store.payloadPath(planted.description)
        #expect(rename(path, dir.file("moved")) == 0 && symlink(dir.file("moved"), path) == 0)
        #expect(try store.retrieve(planted, to: out) == nil, "symlink at payload path must not be followed")
        #expect(try store.counters()[.cacheCorrupt] == 4)

        let inline = try storeBytes(randomBytes(count: 500, seed: 5), in: store, dir: dir)
        let db = try SQLiteDatabase(path: dir.cache + "/index.sqlite", busyTimeoutMilliseconds: 1000)
        let garbage = randomBytes(count: 500, seed: 6)
        _ = try garbage.withUnsafeBytes { bytes in
            try db.run("UPDATE entries SET inline = ? WHERE key = ?", [.blob(bytes), .text(inline.description)])
        }
        try expectCorrupt(inline, count: 5, "altered inline blob")
    }

    @Test func evictsLeastRecentlyUsedEntriesFirst() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache, limits: CacheLimits(maxBytes: 1_000_000))
        let a = try storeBytes(randomBytes(count: 300_000, seed: 1), in: store, dir: dir)
        let b = try storeBytes(randomBytes(count: 300_000, seed: 2), in: store, dir: dir)
        let c = try storeBytes(randomBytes(count: 300_000, seed: 3), in: store, dir: dir)
        #expect(try store.retrieve(a, to: dir.file("out")) != nil)
        let d = try storeBytes(randomBytes(count: 300_000, seed: 4), in: store, dir: dir)
        #expect(!store.contains(b) && store.contains(a) && store.contains(c) && store.contains(d))
        #expect(!exists(store.payloadPath(b.description)))
        #expect(try store.counters()[.cacheEvictions] == 1)

        let shrunk = try store.evict(maxBytes: 400_000, olderThan: nil)
        #expect(shrunk.entriesRemoved == 2 && shrunk.bytesFreed == 600_000)
        #expect(!store.contains(c) && !store.contains(a) && store.contains(d))
        #expect(try store.summary().bytes == 300_000)
    }

    @Test func evictsEntriesUnusedForSomeTimeAndClears() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let old = try storeBytes(randomBytes(count: 100_000, seed: 1), in: store, dir: dir)
        let oldInline = try storeBytes(randomBytes(count: 100, seed: 2), in: store, dir: dir)
        #expect(try store.evict(maxBytes: nil, olderThan: 3600).entriesRemoved == 0)
        usleep(300_000)
        let fresh = try storeBytes(randomBytes(count: 100_000, seed: 3), in: store, dir: dir)
        let aged = try store.evict(maxBytes: nil, olderThan: 0.2)
        #expect(aged.entriesRemoved == 2 && aged.bytesFreed == 100_100)
        #expect(!store.contains(old) && !store.contains(oldInline) && store.contains(fresh))

        #expect(mkdir(dir.cache + "/objects/ab", 0o700) == 0 || errno == EEXIST)
        try writeFile(dir.cache + "/objects/ab/orphan", [1])
        let cleared = try store.clear()
        #expect(cleared.entriesRemoved == 1 && cleared.bytesFreed == 100_000)
        #expect(try store.summary().entries == 0 && (try store.summary().bytes) == 0)
        #expect(!exists(store.payloadPath(fresh.description)) && !exists(dir.cache + "/objects/ab/orphan"))
        try storeBytes(randomBytes(count: 100_000, seed: 4), in: store, dir: dir)
        #expect(try store.summary().entries == 1)
    }

    @Test func replacesAGarbageIndexAtInit() throws {
        let dir = try TemporaryDirectory()
        let old = try storeBytes(randomBytes(count: 1000, seed: 1), in: try SQLiteStore(directory: dir.cache), dir: dir)
        try writeFile(dir.cache + "/index.sqlite", randomBytes(count: 8192, seed: 2))

        let store = try SQLiteStore(directory: dir.cache)
        #expect(try store.summary().entries == 0)
        #expect(!store.contains(old))
        let asides = try FileManager.default.contentsOfDirectory(atPath: dir.cache).filter { $0.hasPrefix("index.sqlite.corrupt-") }
        #expect(asides.count == 1)
        let key = try storeBytes(randomBytes(count: 1000, seed: 3), in: store, dir: dir)
        #expect(try store.retrieve(key, to: dir.file("out")) != nil)
    }

    @Test func recoversWhenTheIndexIsReplacedOrDeletedWhileInUse() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        try storeBytes(randomBytes(count: 1000, seed: 1), in: store, dir: dir)
        try writeFile(dir.file("garbage"), randomBytes(count: 8192, seed: 2))
        #expect(rename(dir.file("garbage"), dir.cache + "/index.sqlite") == 0)
        #expect(try store.summary().entries == 0)
        let key = try storeBytes(randomBytes(count: 1000, seed: 3), in: store, dir: dir)
        #expect(try store.retrieve(key, to: dir.file("out")) != nil)

        #expect(unlink(dir.cache + "/index.sqlite") == 0)
        #expect(try store.summary().entries == 0)
        try storeBytes(randomBytes(count: 1000, seed: 4), in: store, dir: dir)
        #expect(try SQLiteStore(directory: dir.cache).summary().entries == 1)
    }

    @Test func initRemovesTemporaryFilesOfDeadProcessesAndOldOnes() throws {
        let dir = try TemporaryDirectory()
        _ = try SQLiteStore(directory: dir.cache)
        let exited = try Process.run(URL(fileURLWithPath: "/bin/true"), arguments: [])
        exited.waitUntilExit()
        let shard = dir.cache + "/objects/00"
        #expect(mkdir(shard, 0o700) == 0)
        let dead = "\(shard)/.tmp-\(exited.processIdentifier)-1"
        let live = "\(shard)/.tmp-\(getpid())-2"
        let old = "\(shard)/.tmp-\(getpid())-3"
        for path in [dead, live, old] { try writeFile(path, [1]) }
        var twoHoursAgo = [timeval(tv_sec: time(nil) - 7200, tv_usec: 0), timeval(tv_sec: time(nil) - 7200, tv_usec: 0)]
        #expect(utimes(old, &twoHoursAgo) == 0)

        _ = try SQLiteStore(directory: dir.cache)
        #expect(!exists(dead) && !exists(old))
        #expect(exists(live))
    }

    @Test func countersPersistAcrossReopening() throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try SQLiteStore(directory: dir.cache)
            try store.addCounters([.cacheHits: 2, .ltransSecondsSaved: 1.25])
            try store.addCounters([.cacheHits: 1])
        }
        let reopened = try SQLiteStore(directory: dir.cache)
        #expect(try reopened.counters() == [.cacheHits: 3, .ltransSecondsSaved: 1.25])
        try reopened.resetCounters()
        #expect(try SQLiteStore(directory: dir.cache).counters().isEmpty)
    }
}
