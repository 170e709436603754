import CSQLite
import Glibc

/// Everything that can go wrong in the cache store, each with the path involved.
/// A missing or corrupt payload is not an error: `retrieve` reports it as a miss.
public enum CacheError: Error, CustomStringConvertible {
    /// The cache directory, or a directory inside it, could not be created.
    case cannotCreateDirectory(path: String, errno: Int32)
    /// SQLite could not open the index database.
    case cannotOpenDatabase(path: String, reason: String)
    /// A statement on the index database failed; `code` is SQLite's result code.
    case databaseFailed(path: String, code: Int32, reason: String)
    /// The index database was created by a newer ltod with a schema this one does not know.
    case unsupportedSchema(path: String, version: Int64)
    /// The filesystem ran out of space or quota while storing; nothing was stored.
    case diskFull(path: String)
    /// The file to be stored could not be opened, inspected or mapped.
    case cannotReadSource(path: String, errno: Int32)
    /// A cached payload could not be written to the requested destination.
    case cannotWriteDestination(path: String, errno: Int32)
    /// A file inside the cache directory (payload, temporary file, lock) could not be handled.
    case fileOperationFailed(operation: String, path: String, errno: Int32)
    /// A symbolic link stands where the cache keeps a file or directory; it is never followed.
    case symlinkRefused(path: String)

    public var description: String {
        switch self {
        case let .cannotCreateDirectory(path, errno):
            "cannot create cache directory \(path): \(message(errno)). "
                + "Create it yourself or choose another cache directory (LTOD_CACHE_DIR)."
        case let .cannotOpenDatabase(path, reason):
            "cannot open cache index \(path): \(reason). Check that the cache directory is writable by this user."
        case let .databaseFailed(path, code, reason):
            "cache index \(path) failed (SQLite error \(code)): \(reason). "
                + "If this persists, stop every ltod using this cache and delete \(path) to reset the cache."
        case let .unsupportedSchema(path, version):
            "cache index \(path) has schema version \(version), but this ltod understands only version "
                + "\(Schema.version). Use the newer ltod, or point this one at another cache directory."
        case let .diskFull(path):
            "disk full while writing \(path); nothing was stored in the cache. "
                + "Free space on that filesystem or lower the cache size limit."
        case let .cannotReadSource(path, errno):
            "cannot read \(path) to store it in the cache: \(message(errno)). Check that the file exists and is readable."
        case let .cannotWriteDestination(path, errno):
            "cannot write the cached object to \(path): \(message(errno)). Check that its directory exists and is writable."
        case let .fileOperationFailed(operation, path, errno):
            "cannot \(operation) \(path): \(message(errno)). Check the ownership and permissions of the cache directory."
        case let .symlinkRefused(path):
            "refusing to use \(path): it is a symbolic link, and ltod never follows links inside its cache directory. "
                + "Remove it; ltod recreates what it needs."
        }
    }

    /// True when SQLite says the index file is not a database or is damaged.
    var isCorruptIndex: Bool {
        guard case let .databaseFailed(_, code, _) = self else { return false }
        return code & 0xff == SQLITE_CORRUPT || code & 0xff == SQLITE_NOTADB
    }

    /// The store's error for a failed write of `path`: full disks get their own message.
    static func writeFailed(_ operation: String, _ path: String, _ error: Errno) -> CacheError {
        [ENOSPC, EDQUOT, EFBIG].contains(error.code)
            ? .diskFull(path: path) : .fileOperationFailed(operation: operation, path: path, errno: error.code)
    }
}

private func message(_ errno: Int32) -> String {
    errno == ELOOP ? "it is a symbolic link, which ltod does not follow" : String(cString: strerror(errno))
}
