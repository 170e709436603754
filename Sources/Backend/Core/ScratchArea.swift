// LTOBackend: the daemon's scratch directory (`<cache>/tmp`): job directories, captured
// output and private copies, each named `<kind>-<pid>-<random>`, so that files of a
// daemon that died are recognised and swept by the next one.
import Foundation
import LTOSystem

/// Why the daemon's scratch directory cannot be used.
public enum ScratchAreaError: Error, CustomStringConvertible {
    case cannotCreate(path: String, reason: String)
    case unsafe(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotCreate(path, reason):
            "cannot create ltod's scratch directory \(path): \(reason). Check the cache directory (LTOD_CACHE_DIR)."
        case let .unsafe(path, reason):
            "refusing to use ltod's scratch directory \(path): \(reason). Remove it; ltod recreates it."
        }
    }
}

/// The scratch directory: private (0700, this user's, not a symlink), swept of dead daemons' files.
public struct ScratchArea: Sendable {
    public let path: String

    /// Creates `path` with mode 0700, or checks that it is a real directory owned by this
    /// user; then removes what daemons that no longer run left there.
    public init(path: String) throws(ScratchAreaError) {
        self.path = path
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .cannotCreate(path: path, reason: errnoText())
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .cannotCreate(path: path, reason: errnoText()) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .unsafe(path: path, reason: "it is not a directory (a symlink?)") }
        guard info.st_uid == getuid() else { throw .unsafe(path: path, reason: "it is owned by uid \(info.st_uid), not \(getuid())") }
        sweep()
    }

    /// A new name in the area, `<kind>-<pid>-<random>`, for a file or directory of this daemon.
    public func newPath(_ kind: String) -> String {
        path + "/\(kind)-\(getpid())-\(UUID().uuidString)"
    }

    /// Creates a new private directory (0700) in the area.
    public func makeDirectory(_ kind: String) throws -> String {
        let dir = newPath(kind)
        guard mkdir(dir, 0o700) == 0 else { throw ScratchAreaError.cannotCreate(path: dir, reason: errnoText()) }
        return dir
    }

    /// Removes the entries of processes that no longer exist (a daemon killed mid-link).
    public func sweep() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            guard let pid = Self.owner(name), pid != getpid(), !Self.isRunning(pid) else { continue }
            try? FileManager.default.removeItem(atPath: path + "/" + name)
        }
    }

    /// When the filesystem of the area has less than 1 MiB left, why jobs fail there: a
    /// compiler writes its assembler file in the scratch directory, so a full cache disk fails
    /// the job through no fault of the user's. The shim then runs the job itself.
    public func fullFilesystem() -> String? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
        guard free < 1 << 20 else { return nil }
        return "the cache filesystem is full (\(free) bytes left at \(path)); LTRANS jobs run without ltod until space is freed"
    }

    /// Whether `pid` is a live process; a zombie (killed, not yet reaped) is not.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = readFileText("/proc/\(pid)/stat"), let end = stat.lastIndex(of: ")") else { return true }
        return !stat[stat.index(after: end)...].hasPrefix(" Z")
    }

    /// The pid in a `<kind>-<pid>-…` name.
    static func owner(_ name: String) -> pid_t? {
        let parts = name.split(separator: "-", maxSplits: 2)
        guard parts.count == 3, let pid = pid_t(parts[1]), pid > 0 else { return nil }
        return pid
    }
}
