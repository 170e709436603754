// LTOWire: the socket between ltoc and ltod: connecting, the peer's uid, and frames, which may
// carry descriptors (make's jobserver, handed over with the frame that opens a link session).
#if canImport(Glibc)
import Glibc
#endif
import CPosix
import LTOSystem

/// A connected Unix stream socket that exchanges length-prefixed frames:
/// a 4-byte big-endian payload length, then the payload.
public final class FrameSocket: Sendable {
    public let fd: Int32

    public init(adopting fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Connects to a daemon's socket.
    public static func connect(to path: String) throws(WireError) -> FrameSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .io("socket(): \(errnoText())") }
        let s = FrameSocket(adopting: fd)
        var addr = try UnixAddress(path)
        let rc = addr.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard rc == 0 else { throw .io("cannot connect to \(path): \(errnoText())") }
        return s
    }

    /// The uid of the process at the other end (SO_PEERCRED).
    public func peerUID() throws(WireError) -> uid_t {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (Glibc hides it behind _GNU_SOURCE).
        var cred: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var len = socklen_t(MemoryLayout.size(ofValue: cred))
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else {
            throw .io("getsockopt(SO_PEERCRED): \(errnoText())")
        }
        return cred.uid
    }

    /// Sends one frame; `descriptors` (at most `Protocol.maxDescriptors`) travel with its first byte.
    public func send(_ payload: [UInt8], passing descriptors: [Int32] = []) throws(WireError) {
        guard payload.count <= Int(Protocol.maxFrameBytes) else {
            throw .frameTooLarge(UInt32(clamping: payload.count), limit: Protocol.maxFrameBytes)
        }
        let n = UInt32(payload.count)
        var frame: [UInt8] = [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        frame.append(contentsOf: payload)
        try writeAll(frame, passing: descriptors)
    }

    /// Reads one frame; `.closed` when the peer closed cleanly before a new frame. Descriptors
    /// sent with it are closed.
    public func receive(limit: UInt32 = Protocol.maxFrameBytes) throws(WireError) -> [UInt8] {
        let (payload, descriptors) = try receiveWithDescriptors(limit: limit)
        for d in descriptors { close(d) }
        return payload
    }

    /// Reads one frame and the descriptors sent with it (close-on-exec; the caller owns them,
    /// at most `Protocol.maxDescriptors`, any more are closed).
    public func receiveWithDescriptors(limit: UInt32 = Protocol.maxFrameBytes) throws(WireError) -> (payload: [UInt8], descriptors: [Int32]) {
        var descriptors: [Int32] = []
        do throws(WireError) {
            let header = try readExactly(4, atFrameStart: true, descriptors: &descriptors)
            let n = header.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard n <= limit else { throw WireError.frameTooLarge(n, limit: limit) }
            return (try readExactly(Int(n), atFrameStart: false, descriptors: &descriptors), descriptors)
        } catch {
            for d in descriptors { close(d) }
            throw error
        }
    }

    /// Sends `r` (with `descriptors`) and reads the reply.
    public func request(_ r: Request, passing descriptors: [Int32] = []) throws(WireError) -> Reply {
        try send(r.encoded(), passing: descriptors)
        return try Reply.decode(try receive())
    }

    private func writeAll(_ bytes: [UInt8], passing descriptors: [Int32]) throws(WireError) {
        guard descriptors.count <= Protocol.maxDescriptors else { throw .invalidField("\(descriptors.count) descriptors in one frame") }
        var sent = 0
        while sent < bytes.count {
            let rc = bytes.withUnsafeBytes { buffer in
                sent == 0 && !descriptors.isEmpty
                    ? ltod_send_with_fds(fd, buffer.baseAddress!, UInt(buffer.count), descriptors, Int32(descriptors.count))
                    : Glibc.send(fd, buffer.baseAddress! + sent, buffer.count - sent, Int32(MSG_NOSIGNAL))
            }
            if rc < 0 {
                if errno == EINTR { continue }
                throw errno == EPIPE || errno == ECONNRESET ? .closed : .io("send: \(errnoText())")
            }
            sent += rc
        }
    }

    private func readExactly(_ count: Int, atFrameStart: Bool, descriptors: inout [Int32]) throws(WireError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        var received = [Int32](repeating: -1, count: Protocol.maxDescriptors)
        while got < count {
            var n: Int32 = 0
            let rc = buffer.withUnsafeMutableBytes { b in
                received.withUnsafeMutableBufferPointer {
                    ltod_recv_with_fds(fd, b.baseAddress! + got, UInt(count - got), $0.baseAddress!, Int32(Protocol.maxDescriptors), &n)
                }
            }
            for d in received.prefix(Int(n)) {
                if descriptors.count < Protocol.maxDescriptors { descriptors.append(d) } else { close(d) }
            }
            if rc < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { throw .closed }
                throw .io("read: \(errnoText())")
            }
            if rc == 0 {
                if got == 0 && atFrameStart { throw .closed }
                throw .truncated(expected: count, got: got)
            }
            got += rc
        }
        return buffer
    }
}

/// A `sockaddr_un` for a filesystem path, refusing paths that do not fit.
public struct UnixAddress {
    private var storage = sockaddr_un()

    public init(_ path: String) throws(WireError) {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard bytes.count < capacity else {
            throw .invalidField("socket path is \(bytes.count) bytes, longer than the \(capacity - 1) a Unix socket allows: \(path)")
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
            dst[bytes.count] = 0
        }
    }

    /// Calls `body` with the address as `bind`, `connect` and `sendto` take it.
    public mutating func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
