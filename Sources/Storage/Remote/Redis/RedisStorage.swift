// LTORedisStorage owns the remote cache tier on a Redis server: entries as Redis strings
// under `ltod:<key>`, reached through hiredis (a system library, CHiredis) over TCP or a
// Unix socket, with a small pool of connections shared by the daemon's threads.
import LTOConfig
import LTOStorage
import Synchronization

/// A `RemoteStorage` on a Redis server. Blobs are stored with SET (no expiry: bound the
/// server with `maxmemory` and `allkeys-lru`, docs/REMOTE.md), read with GET, removed with
/// DEL. Every request has the timeout on connecting and on each read and write. The process
/// must ignore SIGPIPE (ltod does): hiredis writes to sockets the server may have closed.
public final class RedisStorage: RemoteStorage {
    public let name: String
    private let url: RemoteStorageURL
    private let timeout: Double
    private let idle = Mutex<[RedisConnection]>([])
    static let maxIdleConnections = 16
    /// The prefix of every key ltod writes, so that a shared server can tell them apart.
    public static let keyPrefix = "ltod:"

    public init(url: RemoteStorageURL, timeout: Double) {
        self.url = url
        self.timeout = timeout
        name = url.description
    }

    public func get(_ key: CacheKey) throws -> [UInt8]? {
        try withConnection { c throws(RemoteStorageError) in
            switch try c.command([Array("GET".utf8), Self.redisKey(key)]) {
            case .string(let bytes): return bytes
            case .null: return nil
            case let other: throw Self.unexpected(other, to: "GET")
            }
        }
    }

    public func put(_ key: CacheKey, _ value: [UInt8]) throws {
        try withConnection { c throws(RemoteStorageError) in
            let reply = try c.command([Array("SET".utf8), Self.redisKey(key), value])
            guard reply == .status("OK") else { throw Self.unexpected(reply, to: "SET") }
        }
    }

    @discardableResult
    public func remove(_ key: CacheKey) throws -> Bool {
        try withConnection { c throws(RemoteStorageError) in
            switch try c.command([Array("DEL".utf8), Self.redisKey(key)]) {
            case .integer(let n): return n > 0
            case let other: throw Self.unexpected(other, to: "DEL")
            }
        }
    }

    /// The Redis key of a cache key.
    public static func redisKey(_ key: CacheKey) -> [UInt8] { Array((keyPrefix + key.description).utf8) }

    /// Runs `body` on an idle connection, or a new one. A pooled connection the server has
    /// dropped since its last use (a restart, an idle timeout) is replaced once by a new one;
    /// any other failure is the request's. A connection whose request failed is closed.
    private func withConnection<T>(_ body: (RedisConnection) throws(RemoteStorageError) -> T) throws(RemoteStorageError) -> T {
        if let pooled = idle.withLock({ $0.popLast() }) {
            do {
                let result = try body(pooled)
                release(pooled)
                return result
            } catch .unavailable {
                // The server closed this connection while it was idle; try a fresh one below.
            }
        }
        let fresh = try RedisConnection(url, timeout: timeout)
        let result = try body(fresh)
        release(fresh)
        return result
    }

    private func release(_ connection: RedisConnection) {
        idle.withLock { pool in
            if pool.count < Self.maxIdleConnections { pool.append(connection) }
        }
    }

    private static func unexpected(_ reply: RedisReply, to command: String) -> RemoteStorageError {
        if case .error(let message) = reply { return .badReply("\(command) refused: \(message)") }
        return .badReply("\(command) answered \(reply)")
    }
}
