// LTODaemon: the listening socket: its directory and permissions, the lock that keeps two
// daemons off one socket, and accepting connections until the daemon stops.
import CPosix
import Foundation
import LTOSystem
import LTOWire

/// Why the daemon cannot serve on its socket.
public enum ListenerError: Error, CustomStringConvertible {
    case alreadyServing(String)
    case unsafeDirectory(String, String)
    case notASocket(String)
    case system(String)

    public var description: String {
        switch self {
        case .alreadyServing(let path): return "another ltod is already serving on \(path) (stop it with `ltoc shutdown`)"
        case .unsafeDirectory(let dir, let why): return "refusing to use socket directory \(dir): \(why)"
        case .notASocket(let path): return "\(path) exists and is not a socket; refusing to replace it (remove it yourself if it is stale)"
        case .system(let what): return what
        }
    }
}

/// The daemon's listening Unix socket: directory 0700 owned by us, socket 0600, and the
/// lock file beside it (`<socket>.lock`, an `OwnerLock`) held while the daemon serves, so
/// that two daemons never share a socket and a client can tell whether one serves it
/// without connecting (under socket activation, connecting would start one).
public final class Listener: Sendable {
    public let path: String
    public let fd: Int32
    private let lock: OwnerLock?
    /// Whether the socket file is this daemon's own (not systemd's) to remove.
    private let ownsSocket: Bool

    /// Binds `path`, replacing a stale socket from a dead daemon but never a live one.
    public init(path: String) throws(ListenerError) {
        self.path = path
        try Self.prepareDirectory(directoryName(path))
        let lock = try Self.lock(path + ".lock")
        do {
            try Self.removeStale(path)
            fd = try Self.bind(path)
        } catch {
            lock.release()
            throw error
        }
        self.lock = lock
        ownsSocket = true
    }

    /// Adopts an inherited listening socket (systemd socket activation); systemd keeps
    /// owning it, so it is never unlinked here. The lock is taken when it can be, so that
    /// clients see a daemon serving.
    public init(inheritedFD: Int32, path: String) {
        self.path = path
        fd = inheritedFD
        lock = try? OwnerLock.acquire(path + ".lock")
        ownsSocket = false
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Creates the socket's directory (0700, ours) for a file the daemon keeps beside its
    /// socket before it listens (the reason it could not start).
    public static func prepareDirectory(forSocket path: String) throws(ListenerError) {
        try prepareDirectory(directoryName(path))
    }

    /// Accepts the next connection. Once `stopping()` is true it still returns every
    /// connection already queued, then nil, so no client that got in is dropped.
    public func accept(stopping: () -> Bool) -> FrameSocket? {
        while true {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&ready, 1, 200)
            if n > 0 {
                let client = ltod_accept_cloexec(fd)
                if client >= 0 { return FrameSocket(adopting: client) }
                if errno == EAGAIN || errno == EINTR || errno == ECONNABORTED { continue }
                return nil
            }
            if n < 0 && errno != EINTR { return nil }
            if n == 0 && stopping() { return nil }
        }
    }

    /// Removes the socket file (our own socket only), so that no new client finds it, and
    /// the lock file: a daemon that stops accepting no longer serves this socket, and a new
    /// one may start while this one finishes the requests it has.
    public func withdraw() {
        if ownsSocket { unlink(path) }
        lock?.release()
    }

    private static func prepareDirectory(_ dir: String) throws(ListenerError) {
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            // Create missing parents (e.g. $XDG_RUNTIME_DIR/ltod under a fresh runtime dir).
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
            catch { throw .system("cannot create socket directory \(dir): \(error.localizedDescription)") }
        }
        var st = stat()
        guard lstat(dir, &st) == 0 else { throw .system("cannot stat \(dir): \(errnoText())") }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .unsafeDirectory(dir, "not a directory (a symlink?)") }
        guard st.st_uid == getuid() else { throw .unsafeDirectory(dir, "owned by uid \(st.st_uid), not \(getuid())") }
        let ours = dir.split(separator: "/").last?.hasPrefix("ltod") ?? false
        if ours {
            guard st.st_mode & 0o077 == 0 || chmod(dir, 0o700) == 0 else { throw .unsafeDirectory(dir, "cannot make it 0700") }
        } else if st.st_mode & 0o002 != 0 && st.st_mode & S_ISVTX == 0 {
            throw .unsafeDirectory(dir, "world-writable without the sticky bit")
        }
    }

    private static func lock(_ lockPath: String) throws(ListenerError) -> OwnerLock {
        let lock: OwnerLock?
        do { lock = try OwnerLock.acquire(lockPath) } catch { throw .system("\(error)") }
        guard let lock else { throw .alreadyServing(String(lockPath.dropLast(5))) }
        return lock
    }

    private static func removeStale(_ path: String) throws(ListenerError) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path) }
        // We hold the lock, so no live daemon owns this socket; still, never steal one that answers.
        if (try? FrameSocket.connect(to: path)) != nil { throw .alreadyServing(path) }
        unlink(path)
    }

    private static func bind(_ path: String) throws(ListenerError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket(): \(errnoText())") }
        var addr: UnixAddress
        do { addr = try UnixAddress(path) } catch {
            close(fd)
            throw .system("\(error)")
        }
        let old = umask(0o177)
        let rc = addr.withSockaddr { Glibc.bind(fd, $0, $1) }
        umask(old)
        guard rc == 0, chmod(path, 0o600) == 0, listen(fd, 128) == 0,
              fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 else {
            let message = "cannot listen on \(path): \(errnoText())"
            close(fd)
            throw .system(message)
        }
        return fd
    }
}
