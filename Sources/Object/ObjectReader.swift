// LTOObject: the only file I/O of the module: bounded reads of objects, archives and
// archive members with open/fstat/pread (no mmap: a file truncated by a concurrent
// compile must give an error, never SIGBUS).
import Glibc
import LTOSystem

/// Default upper bound on the bytes read for one object or member (2 GiB).
public let defaultObjectByteLimit = 1 << 31

/// Reads the archive member whose data starts at `dataOffset` (the offset in the linker
/// plugin's `archive@0xOFFSET`), with the identity of the archive it was read under. Only
/// member headers, the long name table and the member itself are read.
public func readArchiveMember(archivePath: String, dataOffset: Int,
                              maxBytes: Int = defaultObjectByteLimit) throws(ObjectError) -> (bytes: [UInt8], identity: FileIdentity) {
    let file = try OpenFile(path: archivePath)
    let archive = try file.archive(includeSymbols: false)
    let reference = ArchiveMemberReference(archivePath: archivePath, dataOffset: dataOffset)
    guard let member = archive.member(atDataOffset: dataOffset) else {
        let starts = archive.members.prefix(8).map { hex($0.dataOffset) }.joined(separator: ", ")
        throw ObjectError(path: archivePath, kind: .noSuchMember,
                          detail: "no archive member starts at offset \(hex(dataOffset)) (members start at \(starts)\(archive.members.count > 8 ? ", ..." : ""))")
    }
    guard member.size <= maxBytes else {
        throw ObjectError(path: reference.description, kind: .tooLarge,
                          detail: "member \(member.name) is \(member.size) bytes, more than the limit of \(maxBytes)")
    }
    let bytes = try file.read(offset: member.dataOffset, length: member.size)
    try file.checkUnchanged()
    return (bytes, file.identity)
}

/// Lists the members (and symbol index) of the archive at `path`, reading only headers
/// and the index tables.
public func readArchive(path: String) throws(ObjectError) -> Archive {
    let file = try OpenFile(path: path)
    let archive = try file.archive(includeSymbols: true)
    try file.checkUnchanged()
    return archive
}

/// Reads a whole file, refusing files larger than `maxBytes`; the identity is the one the
/// bytes were read under (the file did not change while it was read).
public func readFile(path: String, maxBytes: Int = defaultObjectByteLimit) throws(ObjectError) -> (bytes: [UInt8], identity: FileIdentity) {
    let file = try OpenFile(path: path)
    guard file.identity.size <= maxBytes else {
        throw ObjectError(path: path, kind: .tooLarge,
                          detail: "file is \(file.identity.size) bytes, more than the limit of \(maxBytes)")
    }
    let bytes = try file.read(offset: 0, length: file.identity.size)
    try file.checkUnchanged()
    return (bytes, file.identity)
}

/// An open regular file, closed on deinit.
private final class OpenFile {
    let fd: Int32
    let path: String
    let identity: FileIdentity

    init(path: String) throws(ObjectError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.ioError(path, "cannot open") }
        self.fd = fd
        guard let identity = Self.stat(fd) else {
            let error = Self.ioError(path, "cannot stat")
            close(fd)
            throw error
        }
        guard identity.isRegular else {
            close(fd)
            throw ObjectError(path: path, kind: .io, detail: "not a regular file")
        }
        self.identity = identity.identity
    }

    deinit { close(fd) }

    static func ioError(_ path: String, _ what: String) -> ObjectError {
        let code = errno
        return ObjectError(path: path, kind: .io, detail: "\(what): \(String(cString: strerror(code)))")
    }

    static func stat(_ fd: Int32) -> (identity: FileIdentity, isRegular: Bool)? {
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return (FileIdentity(st), st.st_mode & S_IFMT == S_IFREG)
    }

    /// Reads exactly `length` bytes at `offset`; a short read means the file shrank.
    func read(offset: Int, length: Int) throws(ObjectError) -> [UInt8] {
        guard length > 0 else { return [] }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            var done = 0
            while done < length {
                let n = pread(fd, buffer.baseAddress! + done, length - done, off_t(offset + done))
                if n > 0 { done += n } else if n == 0 { break } else if errno != EINTR { failure = errno; break }
            }
            initialized = done
        }
        if failure != 0 {
            throw ObjectError(path: path, kind: .io, detail: "read failed: \(String(cString: strerror(failure)))")
        }
        guard bytes.count == length else {
            throw ObjectError(path: path, kind: .truncated,
                              detail: "file changed while reading (got \(bytes.count) of \(length) bytes at offset \(offset))")
        }
        return bytes
    }

    /// Throws when the file's size or mtime changed since it was opened (rewritten during the read).
    func checkUnchanged() throws(ObjectError) {
        guard let now = Self.stat(fd)?.identity, now == identity else {
            throw ObjectError(path: path, kind: .io, detail: "file changed while it was being read; try again")
        }
    }

    func archive(includeSymbols: Bool) throws(ObjectError) -> Archive {
        try ArchiveWalker(path: path, fileSize: identity.size, includeSymbols: includeSymbols) {
            (offset, length) throws(ObjectError) in try self.read(offset: offset, length: length)
        }.walk()
    }
}
