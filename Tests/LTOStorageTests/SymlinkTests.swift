import Foundation
import Glibc
import LTOHash
import Testing

import LTOStatistics
import LTOStorage
import LTOTestSupport
@testable import LTOLocalStorage

/// A symlink planted where the cache keeps a directory or file is refused, never followed:
/// nothing outside the cache directory is read, written or deleted through it.
@Suite struct SymlinkTests {
    /// A directory outside the cache holding one precious file, and a way to check it is untouched.
    struct Victim {
        let directory: String
        var file: String { directory + "/precious" }

        init(in dir: TemporaryDirectory, name: String = "victim") throws {
            directory = dir.file(name)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try writeFile(file, Array("precious".utf8))
        }

        var untouched: Bool {
            (try? FileManager.default.contentsOfDirectory(atPath: directory)) == ["precious"]
                && (try? readBytes(file)) == Array("precious".utf8)
        }
    }

    @Test func aSymlinkedShardDirectoryIsNeitherReadNorWrittenNorSwept() throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteStore(directory: dir.cache)
        let bytes = randomBytes(count: 200_000, seed: 7)
        let key = try storeBytes(bytes, in: store, dir: dir)
        let shard = String(store.payloadPath(key.description).dropLast(key.description.count + 1))
        let victim = try Victim(in: dir)
        // The payload moves into the victim directory, and the shard becomes a link to it.
        #expect(rename(store.payloadPath(key.description), victim.directory + "/" + key.description) == 0)
        #expect(rmdir(shard) == 0 && symlink(victim.directory, shard) == 0)

        #expect(try store.retrieve(key, to: dir.file("out")) == nil, "a payload behind a symlinked shard is a miss")
        #expect(try store.counters()[.cacheCorrupt] == 1)
        #expect(exists(victim.directory + "/" + key.description), "nothing is deleted through the link")
        #expect(throws: CacheError.self) { try storeBytes(bytes, in: store, dir: dir) }
        do {
            try storeBytes(bytes, in: store, dir: dir)
        } catch {
            #expect("\(error)".contains("refusing to use \(shard): it is a symbolic link"), "\(error)")
        }
        _ = try store.clear()
        _ = try SQLiteStore(directory: dir.cache)
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim.directory).sorted() == [key.description, "precious"])
    }

    @Test func aSymlinkedObjectsDirectoryOrIndexStopsTheStoreWithAClearError() throws {
        let dir = try TemporaryDirectory()
        let victim = try Victim(in: dir)
        try FileManager.default.createDirectory(atPath: dir.cache, withIntermediateDirectories: true)
        #expect(symlink(victim.directory, dir.cache + "/objects") == 0)
        #expect(throws: CacheError.self) { try SQLiteStore(directory: dir.cache) }
        #expect(victim.untouched)

        #expect(unlink(dir.cache + "/objects") == 0)
        for name in ["index.sqlite", "index.sqlite-wal"] {
            let path = dir.cache + "/" + name
            #expect(symlink(victim.file, path) == 0)
            do {
                _ = try SQLiteStore(directory: dir.cache)
                Issue.record("a symlink at \(name) was accepted")
            } catch {
                #expect("\(error)".contains("refusing to use \(path): it is a symbolic link"), "\(error)")
            }
            #expect(victim.untouched, "\(name)")
            #expect(unlink(path) == 0)
        }
        #expect(try SQLiteStore(directory: dir.cache).summary().entries == 0)
    }
}
