// LTOSystem: reading files and descriptors to the end, file identities, errno text.
#if canImport(Glibc)
import Glibc
#endif

/// Reads `fd` to its end with read(2); nil on a read error, or when more than `limit`
/// bytes arrive. (Plain read(2): Foundation's `FileManager.contents(atPath:)` leaks about
/// 2 KB per call on an empty file in Swift 6.3, and the shim must not link Foundation.)
public func readToEnd(_ fd: Int32, limit: Int = Int.max) -> [UInt8]? {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { return nil }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
        if bytes.count > limit { return nil }
    }
}

/// The bytes of the file at `path`, or nil if it cannot be read (or is larger than `limit`).
public func readFileBytes(_ path: String, limit: Int = Int.max) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return readToEnd(fd, limit: limit)
}

/// The file at `path` as text (invalid UTF-8 repaired), or nil if it cannot be read.
public func readFileText(_ path: String, limit: Int = Int.max) -> String? {
    readFileBytes(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
}

/// The text of an errno value (the current `errno` by default).
public func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// Identity of a file on disk: device, inode, size, modification and change times. A file
/// whose identity is unchanged is taken to have unchanged contents. (The change time cannot
/// be set back: a file rewritten with its old size and modification time still differs.)
public struct FileIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int
    public let modificationSeconds: Int
    public let modificationNanoseconds: Int
    public let changeSeconds: Int
    public let changeNanoseconds: Int

    public init(device: UInt64, inode: UInt64, size: Int, modificationSeconds: Int, modificationNanoseconds: Int,
                changeSeconds: Int = 0, changeNanoseconds: Int = 0) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modificationSeconds = modificationSeconds
        self.modificationNanoseconds = modificationNanoseconds
        self.changeSeconds = changeSeconds
        self.changeNanoseconds = changeNanoseconds
    }

    /// The identity from a filled-in `stat`.
    public init(_ st: stat) {
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int(st.st_size),
                  modificationSeconds: Int(st.st_mtim.tv_sec), modificationNanoseconds: Int(st.st_mtim.tv_nsec),
                  changeSeconds: Int(st.st_ctim.tv_sec), changeNanoseconds: Int(st.st_ctim.tv_nsec))
    }

    /// The identity of the file at `path` now (following symlinks); nil if it cannot be stat'ed.
    public init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        self.init(st)
    }

    /// The identity of an open descriptor; nil if it cannot be stat'ed.
    public init?(descriptor fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        self.init(st)
    }

    /// `size:mtime:inode`, for keys that must change when a tool is replaced in place.
    public var stamp: String { "\(size):\(modificationSeconds).\(modificationNanoseconds):\(inode)" }
}

/// Which file a path names (device and inode), to notice that it now names another one.
public struct FileNode: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64

    /// The file at `path` now (following symlinks); nil if it cannot be stat'ed.
    public init?(path: String) {
        guard let identity = FileIdentity(path: path) else { return nil }
        device = identity.device
        inode = identity.inode
    }

    /// The file an open descriptor refers to; nil if it cannot be stat'ed.
    public init?(descriptor fd: Int32) {
        guard let identity = FileIdentity(descriptor: fd) else { return nil }
        device = identity.device
        inode = identity.inode
    }
}

/// Why a file could not be written.
public struct WriteError: Error, CustomStringConvertible {
    public let path: String
    public let code: Int32

    public var description: String { "cannot write \(path): \(errnoText(code))" }
}

/// Writes all of `bytes` to `fd`, retrying short writes; the errno of a failed write, or nil.
@discardableResult
public func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return n < 0 ? errno : EIO }
        done += n
    }
    return nil
}

/// Writes `bytes` to a new file at `path` (mode 0600), replacing nothing: the file must not exist.
public func writeFile(_ path: String, _ bytes: [UInt8]) throws(WriteError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw WriteError(path: path, code: errno) }
    if let code = writeAll(fd, bytes) {
        close(fd)
        unlink(path)
        throw WriteError(path: path, code: code)
    }
    guard close(fd) == 0 else { throw WriteError(path: path, code: errno) }
}

/// Writes `bytes` at a new private name beside `path` and renames it over `path`, so that a
/// reader of `path` sees the old file or the whole new one, never part of it.
public func replaceFile(_ path: String, _ bytes: [UInt8]) throws(WriteError) {
    let temporary = path + ".ltod-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    try writeFile(temporary, bytes)
    guard rename(temporary, path) == 0 else {
        let code = errno
        unlink(temporary)
        throw WriteError(path: path, code: code)
    }
}
