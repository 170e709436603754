import Foundation

/// Why the daemon's scratch directory cannot be used.
enum TemporaryAreaError: Error, CustomStringConvertible {
    case cannotCreate(path: String, reason: String)
    case unsafe(path: String, reason: String)

    var description: String {
        switch self {
        case let .cannotCreate(path, reason):
            "cannot create ltod's scratch directory \(path): \(reason). Check the cache directory (LTOD_CACHE_DIR)."
        case let .unsafe(path, reason):
            "refusing to use ltod's scratch directory \(path): \(reason). Remove it; ltod recreates it."
        }
    }
}

/// The daemon's scratch directory inside the cache directory (`<cache>/tmp`): job
/// directories, captured output and prefetch copies, each named `<kind>-<pid>-<uuid>…`.
enum TemporaryArea {
    /// Creates `path` with mode 0700, or checks that it is a real directory (not a symlink)
    /// owned by this user; then removes what daemons that no longer run left there.
    static func prepare(_ path: String) throws(TemporaryAreaError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .unsafe(path: path, reason: "it is not a directory (a symlink?)") }
        guard info.st_uid == getuid() else { throw .unsafe(path: path, reason: "it is owned by uid \(info.st_uid), not \(getuid())") }
        sweep(path)
    }

    /// Removes the entries of processes that no longer exist (a daemon killed mid-link).
    static func sweep(_ path: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            guard let pid = owner(name), pid != getpid(), !isRunning(pid) else { continue }
            try? FileManager.default.removeItem(atPath: path + "/" + name)
        }
    }

    /// When the filesystem of `path` has less than 1 MiB left, why jobs fail there: LTRANS
    /// writes its assembler file in the scratch directory, so a full cache disk fails the
    /// job through no fault of the user's. The shim then runs the job itself.
    static func fullFilesystem(_ path: String) -> String? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
        guard free < 1 << 20 else { return nil }
        return "the cache filesystem is full (\(free) bytes left at \(path)); LTRANS jobs run without ltod until space is freed"
    }

    /// Whether `pid` is a live process; a zombie (killed, not yet reaped) is not.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return true }
        return !stat[stat.index(after: end)...].hasPrefix(" Z")
    }

    /// The pid in a `<kind>-<pid>-…` name.
    static func owner(_ name: String) -> pid_t? {
        let parts = name.split(separator: "-", maxSplits: 2)
        guard parts.count == 3, let pid = pid_t(parts[1]), pid > 0 else { return nil }
        return pid
    }
}
