import Foundation
import Glibc
import LTOHash
import Testing

import LTOStatistics
import LTOStorage
import LTOTestSupport
@testable import LTOLocalStorage

/// An index as ltod 0.1 wrote it (schema version 1), made with the sqlite3 tool: one inline
/// entry and one counter.
func writeVersionOneIndex(in cache: String, key: String, payload: [UInt8]) throws {
    try FileManager.default.createDirectory(atPath: cache + "/objects", withIntermediateDirectories: true)
    let hex = payload.map { String(format: "%02x", $0) }.joined()
    let sql = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS entries (
            key TEXT PRIMARY KEY, size INTEGER NOT NULL, payload_hash TEXT NOT NULL, inline BLOB,
            created REAL NOT NULL, last_used REAL NOT NULL, hits INTEGER NOT NULL, build_seconds REAL NOT NULL,
            target TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS entries_last_used ON entries (last_used);
        CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value REAL NOT NULL);
        PRAGMA user_version = 1;
        INSERT INTO entries VALUES ('\(key)', \(payload.count), '\(Digest.of(payload))', X'\(hex)', 1, 1, 0, 2.5, '/old/app');
        INSERT INTO counters VALUES ('cache.hits', 7);
        """
    try Shell.check(["sqlite3", cache + "/index.sqlite", sql], cwd: cache)
}

func userVersion(_ index: String) throws -> String {
    try Shell.check(["sqlite3", index, "PRAGMA user_version"], cwd: "/").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite struct IndexUpgradeTests {
    @Test func anIndexOfTheFirstFormatIsUpgradedKeepingItsEntriesAndCounters() throws {
        let dir = try TemporaryDirectory()
        let payload = randomBytes(count: 500, seed: 11)
        let key = CacheKey(Digest.of(payload))
        try writeVersionOneIndex(in: dir.cache, key: key.description, payload: payload)

        let store = try SQLiteStore(directory: dir.cache)
        #expect(try userVersion(dir.cache + "/index.sqlite") == String(Schema.version))
        let hit = try #require(try store.retrieve(key, to: dir.file("out")))
        #expect(try readBytes(dir.file("out")) == payload && hit.info.target == "/old/app" && hit.info.buildSeconds == 2.5)
        #expect(try store.counters()[.cacheHits] == 7)
        try store.recordLink(entry("/a/app", at: 1), limits: LinkHistoryLimits())
        #expect(try store.links(of: "/a/app").count == 1)
        // Opening it again (another daemon) finds nothing left to do.
        #expect(try SQLiteStore(directory: dir.cache).contains(key))
    }

    @Test func anIndexOfANewerFormatIsRefusedNotMisread() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.cache, withIntermediateDirectories: true)
        try Shell.check(["sqlite3", dir.cache + "/index.sqlite", "CREATE TABLE entries (key TEXT); PRAGMA user_version = 99;"], cwd: "/")
        do {
            _ = try SQLiteStore(directory: dir.cache)
            Issue.record("an index of schema version 99 was opened")
        } catch {
            #expect("\(error)".contains("schema version 99"), "\(error)")
        }
    }

    @Test func anIndexThatCannotBeUpgradedIsSetAside() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.cache, withIntermediateDirectories: true)
        // Version 1 by its number, but the link history's table already exists with another shape.
        try Shell.check(["sqlite3", dir.cache + "/index.sqlite", "CREATE TABLE links (x); PRAGMA user_version = 1;"], cwd: "/")
        let store = try SQLiteStore(directory: dir.cache)
        #expect(try store.summary().entries == 0)
        let asides = try FileManager.default.contentsOfDirectory(atPath: dir.cache).filter { $0.hasPrefix("index.sqlite.corrupt-") }
        #expect(asides.count == 1)
    }

    @Test func theHistoryKeepsTheNewestLinksOfEachTargetAndTheirTotals() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let limits = LinkHistoryLimits(linksPerTarget: 3, targets: 2)
        for i in 0..<5 { try store.recordLink(entry("/a/app", at: Double(i)), limits: limits) }
        try store.recordLink(entry("/b/app", at: 10), limits: limits)
        #expect(try store.links(of: "/a/app").map(\.started) == [4, 3, 2])
        let totals = try #require(try store.linkTotals(of: "/a/app"))
        #expect(totals.links == 5 && totals.partitions == 50 && totals.reused == 40 && totals.firstLink == 0 && totals.lastLink == 4)
        #expect(try store.latestLinks().map(\.target) == ["/b/app", "/a/app"])
        #expect(try store.latestLinks().first?.report == Array("report 10.0".utf8))

        try store.recordLink(entry("/c/app", at: 11), limits: limits)
        #expect(try store.latestLinks().map(\.target) == ["/c/app", "/b/app"], "the least recently linked target is forgotten")
        #expect(try store.linkTotals(of: "/a/app") == nil)
    }

    @Test func aCleanCloseLeavesNeitherLogNorLock() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        try storeBytes(randomBytes(count: 1000, seed: 1), in: store, dir: dir)
        #expect(exists(dir.cache + "/index.sqlite-wal") && exists(dir.cache + "/index.sqlite.lock"))
        store.close()
        for leftover in ["index.sqlite-wal", "index.sqlite-shm", "index.sqlite.lock"] {
            #expect(!exists(dir.cache + "/" + leftover), "\(leftover) left after close")
        }
        #expect(try store.summary().entries == 1, "the store reopens after close")
    }

    @Test func theSummaryCountsTheIndexWithItsLogOnDisk() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        for i in 0..<200 { try storeBytes(randomBytes(count: 30_000, seed: UInt64(i)), in: store, dir: dir, name: "s\(i)") }
        let summary = try store.summary()
        let index = ["index.sqlite", "index.sqlite-wal", "index.sqlite-shm"].reduce(0) { sum, name in
            sum + ((try? FileManager.default.attributesOfItem(atPath: dir.cache + "/" + name)[.size] as? Int) ?? 0)
        }
        let objects = dir.cache + "/objects"
        let payloads = (FileManager.default.subpaths(atPath: objects) ?? []).reduce(0) { sum, name in
            sum + ((try? FileManager.default.attributesOfItem(atPath: objects + "/" + name)).flatMap { $0[.type] as? FileAttributeType == .typeRegular ? $0[.size] as? Int : 0 } ?? 0)
        }
        #expect(summary.diskBytes == UInt64(index + payloads), "the on-disk figure is the index's files and the payload files")
        #expect(summary.diskBytes < summary.bytes + summary.bytes / 4 + (256 << 10),
                "checkpointed: \(summary.diskBytes) bytes on disk for \(summary.bytes) bytes of payloads")
    }

    @Test func aNewLimitEvictsAtOnce() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        for i in 0..<10 { try storeBytes(randomBytes(count: 100_000, seed: UInt64(i)), in: store, dir: dir, name: "s\(i)") }
        let result = try store.setLimit(maxBytes: 450_000)
        #expect(result.entriesRemoved == 6)
        #expect(try store.summary().limitBytes == 450_000 && store.summary().entries == 4)
        try storeBytes(randomBytes(count: 100_000, seed: 99), in: store, dir: dir, name: "late")
        #expect(try store.summary().entries == 4, "stores keep to the new limit")
    }

    func entry(_ target: String, at time: Double) -> LinkHistoryEntry {
        LinkHistoryEntry(target: target, started: time, partitions: 10, reused: 8, wpaSeconds: 0.5, savedSeconds: 2,
                         report: Array("report \(time)".utf8))
    }
}
