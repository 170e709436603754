// LTODaemon: the log file of a daemon started in the background (`<cache>/ltod.log`):
// opened in append mode, kept bounded by rotation, and the record of why a start failed.
import Foundation
import LTOConfig
import LTOSystem

/// The daemon's log when it runs detached. Every daemon opens it in append mode, so a
/// second start never truncates what a running daemon writes; when it grows past `limit`
/// bytes it is moved to `ltod.log.1` (replacing the previous one) and a new one is begun.
public final class LogFile: Sendable {
    /// 10 MiB: weeks of `info` lines; a `debug` log (every key) rotates every few hundred links.
    public static let defaultLimit = 10 << 20
    public let path: String
    let limit: Int

    /// Opens the log at `path` (rotating it first if it is over the limit) and makes it this
    /// process's standard output and error.
    public init(path: String, limit: Int = LogFile.defaultLimit) throws(SystemError) {
        self.path = path
        self.limit = limit
        if (FileIdentity(path: path)?.size ?? 0) > limit { rename(path, path + ".1") }
        try redirect()
    }

    /// Rotates the log if it has grown past the limit. If another daemon sharing this cache
    /// rotated it meanwhile, the path names a new file: this one writes there from now on.
    public func rotateIfNeeded() {
        guard let current = FileIdentity(descriptor: 2), current.size > limit || FileNode(path: path) != FileNode(descriptor: 2) else {
            return
        }
        if FileNode(path: path) == FileNode(descriptor: 2) { rename(path, path + ".1") }
        try? redirect()
    }

    /// Checks the log's size every `interval` seconds, on a thread of its own.
    public func keepBounded(every interval: Double = 10) {
        Thread.detachNewThread { [self] in
            while true {
                usleep(UInt32(interval * 1_000_000))
                rotateIfNeeded()
            }
        }
    }

    private func redirect() throws(SystemError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("cannot open the log \(path)") }
        defer { close(fd) }
        guard dup2(fd, 1) >= 0, dup2(fd, 2) >= 0 else { throw SystemError("cannot write the log \(path)") }
    }
}

/// Why the last start of a daemon failed, kept beside its socket for `ltoc status` (and for
/// the one line a link that fell back prints); a daemon that serves removes it.
public enum StartupFailure {
    /// Keeps `message` for `places`' socket, if the socket's directory is one the daemon
    /// would use (never through a symlink, never in another user's directory).
    public static func record(_ message: String, places: Places) {
        guard (try? Listener.prepareDirectory(forSocket: places.socket)) != nil else { return }
        let path = places.startErrorFile
        let temporary = path + ".\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        writeAll(fd, Array((message + "\n").utf8))
        close(fd)
        rename(temporary, path)
    }

    public static func clear(places: Places) {
        unlink(places.startErrorFile)
    }
}
