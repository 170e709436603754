// LTORedisStorage: one connection to a Redis server through hiredis, Debian's
// libhiredis-dev 0.14 (blocking calls, with the connect, read and write timeouts set):
// connecting and logging in (AUTH, SELECT), sending a command, and turning hiredis'
// replies and errors into Swift values and `RemoteStorageError`s.
#if canImport(Glibc)
import Glibc
#endif
import CHiredis
import LTOConfig
import LTOStorage

/// A reply from the server.
enum RedisReply: Equatable {
    case string([UInt8])
    case null
    case integer(Int64)
    case status(String)
    case error(String)
    case array(Int)
}

/// One blocking connection. Not safe for two threads at once: `RedisStorage`'s pool hands
/// it to one request at a time. A connection on which a request failed is not reused.
final class RedisConnection: @unchecked Sendable {
    // @unchecked: only the thread that took it from the pool touches `context`.
    private let context: UnsafeMutablePointer<redisContext>
    private let name: String

    /// Connects to `url` within `timeout` seconds, sets that timeout on every later read and
    /// write, and logs in (AUTH with the URL's user and password, SELECT its database).
    init(_ url: RemoteStorageURL, timeout: Double) throws(RemoteStorageError) {
        name = url.description
        context = try Self.connect(url, timeout: timeout)
        // From here on, a throw runs deinit, which frees the context.
        if let password = url.password {
            let login = (url.user.map { [$0] } ?? []) + [password]
            try expectOK(command(["AUTH"] + login), doing: "logging in")
        }
        if url.database != 0 { try expectOK(command(["SELECT", String(url.database)]), doing: "selecting database \(url.database)") }
    }

    /// A connected context with `timeout` on every read and write; freed again on failure.
    private static func connect(_ url: RemoteStorageURL, timeout: Double) throws(RemoteStorageError) -> UnsafeMutablePointer<redisContext> {
        let tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        let made: UnsafeMutablePointer<redisContext>?
        switch url.endpoint {
        case .tcp(let host, let port): made = redisConnectWithTimeout(host, Int32(port), tv)
        case .unix(let path): made = redisConnectUnixWithTimeout(path, tv)
        }
        guard let context = made else { throw .unavailable("\(url): out of memory while connecting") }
        if context.pointee.err != 0 {
            let error = Self.error(context, errno: errno, doing: "connecting to \(url)")
            redisFree(context)
            throw error
        }
        guard redisSetTimeout(context, tv) == REDIS_OK else {
            redisFree(context)
            throw .unavailable("\(url): cannot set the timeout")
        }
        return context
    }

    deinit { redisFree(context) }

    /// Sends one command and waits for its reply.
    func command(_ arguments: [String]) throws(RemoteStorageError) -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends one command of binary-safe arguments and waits for its reply.
    func command(_ arguments: [[UInt8]]) throws(RemoteStorageError) -> RedisReply {
        let lengths = arguments.map(\.count)
        let raw: UnsafeMutableRawPointer? = withPointers(arguments) { pointers in
            var pointers = pointers
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisCommandArgv(context, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
                }
            }
        }
        let savedErrno = errno
        guard let raw else {
            throw Self.error(context, errno: savedErrno, doing: String(decoding: arguments.first ?? [], as: UTF8.self))
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.convert(reply.pointee)
    }

    private func expectOK(_ reply: RedisReply, doing what: String) throws(RemoteStorageError) {
        switch reply {
        case .status("OK"): return
        case .error(let message): throw .badReply("\(name) refused \(what): \(message)")
        default: throw .badReply("\(name) answered \(what) with \(reply)")
        }
    }

    private static func convert(_ r: redisReply) -> RedisReply {
        let bytes = { () -> [UInt8] in
            guard let str = r.str, r.len > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: r.len))
        }
        switch r.type {
        case REDIS_REPLY_STRING: return .string(bytes())
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_INTEGER: return .integer(r.integer)
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        default: return .array(Int(r.elements))
        }
    }

    /// hiredis' error on `context`, as a timeout, an unreachable server or a bad reply.
    private static func error(_ context: UnsafeMutablePointer<redisContext>, errno code: Int32, doing what: String) -> RemoteStorageError {
        let text = withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let message = "\(what): \(text.isEmpty ? "error \(context.pointee.err)" : text)"
        switch context.pointee.err {
        case REDIS_ERR_IO where [EAGAIN, EWOULDBLOCK, ETIMEDOUT, EINPROGRESS].contains(code) || text.contains("timed out"):
            return .timeout(message + " (timeout)")
        case REDIS_ERR_PROTOCOL: return .badReply(message)
        default: return .unavailable(message)
        }
    }
}

/// Calls `body` with a C pointer to each argument's bytes (valid only during the call).
private func withPointers<R>(_ arguments: [[UInt8]], from index: Int = 0, collected: [UnsafePointer<CChar>?] = [],
                             _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    guard index < arguments.count else { return body(collected) }
    return arguments[index].withUnsafeBytes { buffer in
        let pointer = buffer.baseAddress.map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) } ?? emptyArgument
        return withPointers(arguments, from: index + 1, collected: collected + [pointer], body)
    }
}

/// What an empty argument points at (hiredis copies zero bytes from it).
nonisolated(unsafe) private let emptyArgument = UnsafePointer(UnsafeMutablePointer<CChar>.allocate(capacity: 1))
