import Glibc
import LTOSystem

/// A failed system call's errno, captured at the point of failure.
struct Errno: Error {
    let code: Int32
    init(_ code: Int32 = errno) { self.code = code }
}

/// A regular file opened read-only and read whole with read(2). Never mapped: a mapped
/// file that another process truncates raises SIGBUS on the next access, while a file
/// truncated during read(2) just gives fewer bytes, which the size and hash checks of the
/// store turn into a miss.
final class ReadFile {
    let descriptor: Int32
    let bytes: [UInt8]

    /// With `followSymlinks: false` a symlink at `path` fails with ELOOP. Anything but a
    /// regular file fails with EINVAL; O_NONBLOCK keeps a planted FIFO from blocking the open.
    init(path: String, followSymlinks: Bool) throws(Errno) {
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followSymlinks ? 0 : O_NOFOLLOW)
        let fd = open(path, flags)
        guard fd >= 0 else { throw Errno() }
        var info = stat()
        guard fstat(fd, &info) == 0 else { let error = Errno(); close(fd); throw error }
        guard info.st_mode & S_IFMT == S_IFREG else { close(fd); throw Errno(EINVAL) }
        guard let bytes = Self.read(fd, expected: Int(info.st_size)) else { let error = Errno(); close(fd); throw error }
        descriptor = fd
        self.bytes = bytes
    }

    /// Everything `fd` holds, read into a buffer of the size fstat gave (the file may have
    /// changed since: fewer bytes are fewer, more are read on); nil on a read error.
    private static func read(_ fd: Int32, expected: Int) -> [UInt8]? {
        var failed = false
        var bytes = [UInt8](unsafeUninitializedCapacity: max(expected, 0)) { buffer, count in
            while count < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + count, buffer.count - count)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failed = true }
                if n <= 0 { break }
                count += n
            }
        }
        guard !failed else { return nil }
        var next: UInt8 = 0
        if bytes.count == expected, Glibc.read(fd, &next, 1) == 1 {
            guard let rest = readToEnd(fd) else { return nil }
            bytes += [next] + rest
        }
        return bytes
    }

    deinit { close(descriptor) }

    /// Whether the file's contents could be shared with `fd` copy-on-write (FICLONE); false
    /// where the filesystem cannot (then `errno` says why).
    func reflink(to fd: Int32) -> Bool {
        ioctl(fd, ficlone, descriptor) == 0
    }
}

/// `_IOW(0x94, 9, int)` from <linux/fs.h>.
private let ficlone: UInt = 0x4004_9409

func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32) throws(Errno) {
    var offset = 0
    while offset < bytes.count {
        let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            guard errno == EINTR else { throw Errno() }
            continue
        }
        offset += written
    }
}

func writeAll(_ bytes: [UInt8], to fd: Int32) throws(Errno) {
    let failure: Errno? = bytes.withUnsafeBytes { raw in
        do throws(Errno) { try writeAll(raw, to: fd) } catch { return error }
        return nil
    }
    if let failure { throw failure }
}

/// Creates a new file at `path` with exactly `mode`, never following or reusing anything
/// already there (O_EXCL | O_NOFOLLOW), lets `fill` write it, and closes it.
/// On any failure the file is removed again.
func createFile(at path: String, mode: mode_t, _ fill: (Int32) throws(Errno) -> Void) throws(Errno) {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    guard fd >= 0 else { throw Errno() }
    do throws(Errno) {
        guard fchmod(fd, mode) == 0 else { throw Errno() }
        try fill(fd)
    } catch {
        close(fd)
        unlink(path)
        throw error
    }
    guard close(fd) == 0 else {
        let error = Errno()
        unlink(path)
        throw error
    }
}

/// `mkdir -p` with mode 0700 for every directory it creates. An existing symlink at `path`
/// fails with ELOOP: the cache never follows a link planted inside it.
func makeDirectories(_ path: String) throws(Errno) {
    if mkdir(path, 0o700) == 0 { return }
    switch errno {
    case EEXIST:
        var info = stat()
        guard lstat(path, &info) == 0 else { throw Errno() }
        guard info.st_mode & S_IFMT != S_IFLNK else { throw Errno(ELOOP) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw Errno(ENOTDIR) }
    case ENOENT:
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { throw Errno(ENOENT) }
        try makeDirectories(String(path[..<slash]))
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw Errno() }
    default:
        throw Errno()
    }
}

/// Whether `path` is a directory itself, not a symlink to one (lstat).
func isRealDirectory(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
}

/// Whether `path` is a symbolic link (lstat).
func isSymlink(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
}

/// Removes a file; a file that is already gone is fine (another process may have removed it).
func removeFile(_ path: String) {
    unlink(path)
}

/// Names in a directory, without "." and ".."; empty if it cannot be read.
func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// Seconds since the Unix epoch.
func currentTime() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// An exclusive flock on a lock file, held until the object is released. Its holder may
/// remove the file (`remove()`); whoever locked it at that moment sees that the path no
/// longer names the file it locked, and locks the new one instead.
final class FileLock {
    private let path: String
    private let descriptor: Int32

    init(path: String) throws(Errno) {
        self.path = path
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw Errno() }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else { let error = Errno(); close(fd); throw error }
            }
            if FileNode(descriptor: fd) == FileNode(path: path) {
                descriptor = fd
                return
            }
            close(fd)
        }
    }

    /// Removes the lock file while holding it.
    func remove() { unlink(path) }

    deinit { close(descriptor) }
}
