// LTOLocalStorage: putting a verified payload at a destination outside the cache. The file
// is made under a private name beside the destination and renamed over it, so nobody ever
// sees a half-written file there (a daemon killed mid-write leaves only the private name);
// a hard link, which appears whole, is made at the destination itself when it is free.
// It shares the payload's extents (reflink) where the filesystem can, else the payload's
// file (hard link) where it is on the same filesystem, else it is a copy.
import Glibc
import LTOStorage
import Synchronization

/// Places payloads at destinations (see the file header).
final class Placer: Sendable {
    /// The filesystem the payload files live on.
    private let cacheDevice: UInt64?
    /// Filesystems where a reflink failed once: not tried again.
    private let noReflink = Mutex<Set<UInt64>>([])
    /// The filesystem of each destination directory seen (a directory is not moved under a link).
    private let devices = Mutex<[String: UInt64]>([:])
    /// Numbers the private names (with the pid, unique without asking for random bytes).
    private let written = Atomic<UInt64>(0)

    init(objects: String) {
        var info = stat()
        cacheDevice = stat(objects, &info) == 0 ? UInt64(info.st_dev) : nil
    }

    /// Puts `bytes` (an inline payload, already verified) at `destination`.
    func place(_ bytes: [UInt8], at destination: String) throws(CacheError) {
        try replace(destination) { temporary throws(Errno) in
            try createFile(at: temporary, mode: 0o644) { fd throws(Errno) in try writeAll(bytes, to: fd) }
        }
    }

    /// Puts the payload file `file` at `payload` (already verified) at `destination`.
    func place(_ file: ReadFile, payload: String, at destination: String) throws(CacheError) -> Placement {
        var placement = Placement.copy
        let device = deviceOfDirectory(of: destination)
        // Where nothing is at the destination yet, a hard link is made there at once: it
        // appears whole or not at all, as a rename would.
        if let device, device == cacheDevice, noReflink.withLock({ $0.contains(device) }), link(payload, destination) == 0 {
            return .hardLink
        }
        try replace(destination) { temporary throws(Errno) in
            if let device, device == cacheDevice {
                if !noReflink.withLock({ $0.contains(device) }), reflink(file, to: temporary, device: device) {
                    placement = .reflink
                    return
                }
                if link(payload, temporary) == 0 {
                    placement = .hardLink
                    return
                }
            }
            placement = .copy
            try createFile(at: temporary, mode: 0o644) { fd throws(Errno) in try writeAll(file.bytes, to: fd) }
        }
        return placement
    }

    /// A new file at `temporary` sharing `file`'s extents; false (and nothing left) when the
    /// filesystem cannot, which is remembered for `device`.
    private func reflink(_ file: ReadFile, to temporary: String, device: UInt64) -> Bool {
        var shared = false
        do {
            try createFile(at: temporary, mode: 0o644) { fd throws(Errno) in
                guard file.reflink(to: fd) else { throw Errno() }
                shared = true
            }
        } catch {
            if [EOPNOTSUPP, EINVAL, ENOTTY, ENOSYS].contains(error.code) { _ = noReflink.withLock { $0.insert(device) } }
        }
        return shared
    }

    /// Makes the file at a private name beside `destination` with `make`, then renames it over
    /// `destination`; on failure nothing is left at either name.
    private func replace(_ destination: String, _ make: (String) throws(Errno) -> Void) throws(CacheError) {
        let temporary = destination + ".ltod-\(getpid())-\(written.add(1, ordering: .relaxed).newValue)"
        do { try make(temporary) } catch { throw .cannotWriteDestination(path: destination, errno: error.code) }
        guard rename(temporary, destination) == 0 else {
            let code = errno
            unlink(temporary)
            throw .cannotWriteDestination(path: destination, errno: code)
        }
    }

    private func deviceOfDirectory(of path: String) -> UInt64? {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        if let known = devices.withLock({ $0[directory] }) { return known }
        var info = stat()
        guard stat(directory, &info) == 0 else { return nil }
        devices.withLock { known in
            if known.count > 1024 { known.removeAll() }
            known[directory] = UInt64(info.st_dev)
        }
        return UInt64(info.st_dev)
    }
}
