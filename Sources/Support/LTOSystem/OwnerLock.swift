// LTOSystem: lock files that say which process owns something (a daemon its socket): taken
// with a POSIX record lock, asked about without taking it, removed by their owner.
#if canImport(Glibc)
import Glibc
#endif
import CPosix

/// An exclusive lock file held by one process at a time.
///
/// The owner holds a POSIX record lock (fcntl) on it. Anyone can ask who holds it with
/// F_GETLK, which takes no lock, so a probe never makes an owner's own attempt fail (a
/// probing flock would, for the instant it held a shared lock). The owner removes the file
/// when it lets go; a process that locked a file at the moment it was removed sees that the
/// path no longer names the file it locked, and tries again.
public final class OwnerLock: Sendable {
    public let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Takes the lock at `path` (creating the file, mode 0600, never through a symlink); nil
    /// when another process holds it. Throws the errno of a file that cannot be opened.
    public static func acquire(_ path: String) throws(SystemError) -> OwnerLock? {
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SystemError("cannot open lock file \(path)") }
            guard ltod_lock_whole_file(fd) == 0 else {
                let code = errno
                close(fd)
                if code == EACCES || code == EAGAIN { return nil }
                throw SystemError("cannot lock \(path)", code: code)
            }
            if FileNode(descriptor: fd) == FileNode(path: path) { return OwnerLock(path: path, descriptor: fd) }
            close(fd)
        }
    }

    /// Removes the lock file, then lets go of the lock.
    public func release() {
        if FileNode(descriptor: descriptor) == FileNode(path: path) { unlink(path) }
    }

    /// The pid holding the lock at `path`; nil when none does or there is no such file.
    public static func holder(of path: String) -> pid_t? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let pid = ltod_lock_holder(fd)
        return pid > 0 ? pid : nil
    }

    /// Whether a process holds a flock on `path`: how ltod 0.1 locked its socket, which
    /// F_GETLK does not see. The probe holds a shared flock for an instant, which no lock of
    /// this kind's own ever conflicts with.
    public static func isFlocked(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
        flock(fd, LOCK_UN)
        return false
    }
}

/// A failed system call, with what was attempted and the errno text.
public struct SystemError: Error, CustomStringConvertible {
    public let description: String
    public let code: Int32

    public init(_ what: String, code: Int32 = errno) {
        self.code = code
        description = "\(what): \(errnoText(code))"
    }
}
