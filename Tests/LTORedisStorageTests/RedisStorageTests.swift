import Foundation
import LTOConfig
import LTOHash
import LTOLocalStorage
import LTORedisStorage
import LTOStatistics
import LTOStorage
import LTOTestSupport
import Testing

/// The Redis tier against a real `redis-server` each test starts in its own directory, and
/// a fake server for replies a real one never gives.
@Suite(.serialized) struct RedisStorageTests {
    init() { signal(SIGPIPE, SIG_IGN) }

    func redis(_ url: String, timeout: Double = 0.25) throws -> RedisStorage {
        RedisStorage(url: try RemoteStorageURL.parse(url), timeout: timeout)
    }

    @Test func storesReadsAndRemovesBinaryBlobsOverASocketAndLoopback() throws {
        let dir = try TemporaryDirectory("redis")
        let server = try RedisServer(in: dir.path)
        for url in [server.unixURL, server.tcpURL] {
            let tier = try redis(url)
            let key = CacheKey(Digest.of(url))
            #expect(try tier.get(key) == nil)
            let blob = randomBytes(count: 300_000, seed: 5) + [0, 0, 13, 10]
            try tier.put(key, blob)
            #expect(try tier.get(key) == blob)
            try tier.put(key, [])
            #expect(try tier.get(key) == [])
            #expect(try tier.remove(key))
            #expect(try !tier.remove(key))
        }
        #expect(try server.ltodKeys().isEmpty)
    }

    @Test func logsInAndSelectsTheDatabase() throws {
        let dir = try TemporaryDirectory("redis")
        let server = try RedisServer(in: dir.path, password: "s3cret@pw")
        let key = CacheKey(Digest.of("k"))
        // The password holds an @, percent-encoded in the URL.
        let tier = try redis("redis+unix://:s3cret%40pw@\(server.socket)?db=3")
        try tier.put(key, [1, 2, 3])
        #expect(try server.cli("-n", "3", "EXISTS", "ltod:\(key)") == "1")
        #expect(try server.cli("-n", "0", "EXISTS", "ltod:\(key)") == "0")
        #expect(tier.name == "redis+unix://:***@\(server.socket)?db=3")

        // An ACL user that may only read (docs/REMOTE.md): reads work, writes are refused.
        try server.cli("ACL", "SETUSER", "dev", "on", ">dev%pw", "~ltod:*", "+get", "+select")
        let reader = try redis("redis://dev:dev%25pw@127.0.0.1:\(server.port)/3")
        #expect(try reader.get(key) == [1, 2, 3])
        #expect { try reader.put(key, [4]) } throws: { error in
            guard case RemoteStorageError.badReply(let message) = error else { return false }
            return message.contains("NOPERM")
        }

        let wrong = try redis("redis://:nope@127.0.0.1:\(server.port)")
        #expect { try wrong.get(key) } throws: { error in
            guard case RemoteStorageError.badReply(let message) = error else { return false }
            return message.contains("refused logging in")
        }
    }

    @Test func aServerThatIsDownOrRefusesIsUnavailable() throws {
        let dir = try TemporaryDirectory("redis")
        let key = CacheKey(Digest.of("k"))
        #expect { try redis("redis+unix://\(dir.path)/absent.sock").get(key) } throws: { error in
            guard case RemoteStorageError.unavailable(let message) = error else { return false }
            return message.contains("absent.sock") && message.contains("No such file")
        }
        #expect { try redis("redis://127.0.0.1:\(try freeLoopbackPort())").get(key) } throws: { error in
            guard case RemoteStorageError.unavailable(let message) = error else { return false }
            return message.contains("refused")
        }
    }

    @Test func aSilentServerTimesOutAndGarbageIsABadReply() throws {
        let dir = try TemporaryDirectory("redis")
        let key = CacheKey(Digest.of("k"))
        let silent = try FakeRedisServer(at: dir.file("silent.sock"), behaviour: .silent)
        let began = Date()
        #expect { try redis(silent.url, timeout: 0.2).get(key) } throws: { error in
            guard case RemoteStorageError.timeout = error else { return false }
            return true
        }
        #expect(Date().timeIntervalSince(began) < 10, "the request was bounded by its timeout")
        let garbage = try FakeRedisServer(at: dir.file("garbage.sock"), behaviour: .garbage)
        #expect { try redis(garbage.url).put(key, [1]) } throws: { error in
            guard case RemoteStorageError.badReply(let message) = error else { return false }
            return message.lowercased().contains("protocol error")
        }
    }

    /// A pooled connection the server dropped (it restarted between two requests) is replaced
    /// by a new one instead of failing the request.
    @Test func aRestartedServerIsReconnectedTo() throws {
        let dir = try TemporaryDirectory("redis")
        let server = try RedisServer(in: dir.path)
        let tier = try redis(server.unixURL)
        let key = CacheKey(Digest.of("k"))
        try tier.put(key, [1])
        server.stop()
        #expect(throws: RemoteStorageError.self) { try tier.get(key) }
        try server.start()
        #expect(try tier.get(key) == nil, "the restarted server is empty; the request reached it")
        try tier.put(key, [2])
        server.stop()
        try server.start()
        #expect(try tier.get(key) == nil)
    }

    /// Two local tiers sharing one server: what the first stores, the second takes, verified.
    @Test func twoTieredStoragesShareEntriesThroughTheServer() throws {
        let dir = try TemporaryDirectory("redis")
        let server = try RedisServer(in: dir.path)
        let stats = RecordedStatistics()
        let url = try RemoteStorageURL.parse(server.unixURL)
        let first = TieredStorage(local: try SQLiteStore(directory: dir.file("a")), remote: RedisStorage(url: url, timeout: 0.25),
                                  settings: RemoteTierSettings(), stats: stats)
        var keys: [CacheKey: [UInt8]] = [:]
        for seed in 0..<40 {
            let bytes = randomBytes(count: 1000 + 2000 * seed, seed: UInt64(seed))
            let key = CacheKey(Digest.of(bytes))
            try Data(bytes).write(to: URL(fileURLWithPath: dir.file("obj")))
            try first.store(key, from: dir.file("obj"), info: EntryInfo(buildSeconds: Double(seed), target: "app"))
            keys[key] = bytes
        }
        #expect(first.finishRemoteWrites(timeout: 60) == 0, "every queued write is sent before the stop")
        #expect(try server.ltodKeys().count == 40 && stats[.remoteWrites] == 40)

        let second = TieredStorage(local: try SQLiteStore(directory: dir.file("b")), remote: RedisStorage(url: url, timeout: 0.25),
                                   settings: RemoteTierSettings(readOnly: true), stats: stats)
        for (key, bytes) in keys {
            let hit = try #require(try second.retrieve(key, to: dir.file("out")))
            let content = try readBytes(dir.file("out"))
            #expect(hit.tier == .remote && content == bytes)
        }
        #expect(stats[.remoteHits] == 40 && stats[.remoteHitSeconds] > 0 && stats[.remoteErrors] == 0)

        // A corrupted entry on the server is refused and, from a daemon that may write, removed.
        let victim = try #require(keys.keys.first)
        let third = TieredStorage(local: try SQLiteStore(directory: dir.file("c")), remote: RedisStorage(url: url, timeout: 0.25),
                                  settings: RemoteTierSettings(), stats: stats)
        try server.cli("SETRANGE", "ltod:\(victim)", "60", "XXXX")
        #expect(try third.retrieve(victim, to: dir.file("out")) == nil)
        let exists = try server.cli("EXISTS", "ltod:\(victim)")
        #expect(stats[.remoteErrors] == 1 && exists == "0")
        #expect(third.linkWarning(since: 0)?.contains("does not match its hash") == true)
        third.finishRemoteWrites(timeout: 1)
    }
}
