import Foundation
import Glibc
import Testing

import LTOStatistics
import LTOStorage
import LTOTestSupport
@testable import LTOLocalStorage

/// Tests that run the `cache-stress` helper as separate processes on one cache directory.
@Suite struct MultiProcessTests {
    @Test func twoProcessesShareOneCacheDirectory() throws {
        let dir = try TemporaryDirectory()
        let first = try startStress(cache: dir.cache, count: 150, seed: 1)
        let second = try startStress(cache: dir.cache, count: 150, seed: 2)
        for (name, run) in [("first", finish(first)), ("second", finish(second))] {
            #expect(run.status == 0, "\(name) cache-stress failed: \(run.stderr)")
        }
        let store = try SQLiteStore(directory: dir.cache)
        // 75 even entries shared by both seeds, 75 odd ones from each.
        #expect(try store.summary().entries == 225)
        #expect(try verifyContentAddressedEntries(in: store, scratch: dir.file("check")) == 225)
        #expect(try store.counters()[.cacheCorrupt] == nil)
    }

    @Test func aProcessKilledMidWriteLeavesAUsableCache() throws {
        let dir = try TemporaryDirectory()
        for round in 1...3 {
            let started = try startStress(cache: dir.cache, count: 1_000_000, seed: round)
            let observer = try SQLiteStore(directory: dir.cache)
            let deadline = currentTime() + 30
            while try observer.summary().entries < 20 * round, currentTime() < deadline { usleep(20_000) }
            usleep(UInt32.random(in: 0...50_000))
            kill(started.0.processIdentifier, SIGKILL)
            let run = finish(started)
            #expect(run.status == SIGKILL, "cache-stress should have been killed, got \(run.status): \(run.stderr)")

            let store = try SQLiteStore(directory: dir.cache)
            #expect(temporaryFiles(in: dir.cache).isEmpty, "temporary files of the killed process remain")
            #expect(try verifyContentAddressedEntries(in: store, scratch: dir.file("check")) >= 20 * round)
            // Rows commit only after their payload is in place, so a kill leaves nothing corrupt.
            #expect(try store.counters()[.cacheCorrupt] == nil)
        }
        let store = try SQLiteStore(directory: dir.cache)
        let key = try storeBytes(randomBytes(count: 250_000, seed: 99), in: store, dir: dir)
        #expect(try store.retrieve(key, to: dir.file("out")) != nil)
        #expect(try readBytes(dir.file("out")) == randomBytes(count: 250_000, seed: 99))
    }

    @Test func aFullDiskStoresNothingAndLeavesNoTemporaryFile() throws {
        let dir = try TemporaryDirectory()
        // A 100 KB file size limit makes writes fail with EFBIG, like a full disk.
        let run = finish(try startStress(cache: dir.cache, count: 50, seed: 5, fileSizeLimit: 100_000))
        #expect(run.status == 3, "expected a cache error, got \(run.status): \(run.stderr)")
        #expect(run.stderr.contains("disk full while writing"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("nothing was stored"))
        #expect(temporaryFiles(in: dir.cache).isEmpty)
        let store = try SQLiteStore(directory: dir.cache)
        #expect(try verifyContentAddressedEntries(in: store, scratch: dir.file("check")) == (try store.summary().entries))
    }
}
