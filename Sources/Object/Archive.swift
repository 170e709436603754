// LTOObject: GNU `ar` archives and the `archive@0xOFFSET` member names the GCC linker
// plugin uses.
//
// Layout: "!<arch>\n", then members, each a 60-byte header (name[16] date[12] uid[6]
// gid[6] mode[8] size[10] "`\n") followed by `size` bytes and one '\n' of padding when
// the size is odd. Special members: "/" (symbol table, 32-bit big-endian offsets),
// "/SYM64/" (64-bit offsets), "//" (long names, each ending in "/\n"); a member named
// "/N" takes its name from offset N of the long name table. The linker plugin names
// a member `archive@0x<hex offset of the member's data>` (after the 60-byte header).

/// One file stored in an archive.
public struct ArchiveMember: Hashable, Sendable {
    /// The member's file name (decoded as UTF-8, invalid bytes replaced).
    public let name: String
    /// Offset of the member's 60-byte header.
    public let headerOffset: Int
    /// Offset of the member's data: the offset in the linker plugin's `archive@0xOFFSET`.
    public let dataOffset: Int
    public let size: Int
}

/// One entry of an archive's symbol index.
public struct ArchiveSymbol: Hashable, Sendable {
    public let name: String
    /// Header offset of the member that defines the symbol, as stored in the index.
    public let memberHeaderOffset: Int
}

/// The member list and symbol index of a GNU `ar` archive.
public struct Archive: Hashable, Sendable {
    public static let magic: [UInt8] = Array("!<arch>\n".utf8)
    public static let thinMagic: [UInt8] = Array("!<thin>\n".utf8)
    static let headerSize = 60
    /// Longest member name accepted (PATH_MAX).
    static let maxNameLength = 4096

    /// Regular members, in archive order (the symbol index and long name table excluded).
    public let members: [ArchiveMember]
    /// The "/" or "/SYM64/" symbol index; empty when the archive has none.
    public let symbols: [ArchiveSymbol]

    /// True when `bytes` starts with the `!<arch>\n` magic.
    public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 8 && bytes.prefix(8).elementsEqual(magic)
    }

    /// Parses an archive held in memory; `path` is used in errors.
    public init(bytes: UnsafeRawBufferPointer, path: String) throws(ObjectError) {
        let reader = ByteReader(bytes)
        self = try ArchiveWalker(path: path, fileSize: bytes.count) { (offset, length) throws(ObjectError) in
            guard let slice = reader.slice(offset, length) else {
                throw ObjectError(path: path, kind: .truncated,
                                  detail: "read of \(length) bytes at offset \(offset) is past the end of the archive")
            }
            return Array(slice)
        }.walk()
    }

    public init(bytes: [UInt8], path: String) throws(ObjectError) {
        let result: Result<Archive, ObjectError> = bytes.withUnsafeBytes { buffer in
            do throws(ObjectError) { return .success(try Archive(bytes: buffer, path: path)) }
            catch { return .failure(error) }
        }
        self = try result.get()
    }

    init(members: [ArchiveMember], symbols: [ArchiveSymbol]) {
        self.members = members
        self.symbols = symbols
    }

    /// The member whose data starts at `dataOffset`, if any.
    public func member(atDataOffset dataOffset: Int) -> ArchiveMember? {
        members.first { $0.dataOffset == dataOffset }
    }
}

/// Walks archive headers through a bounded read function, so the same code serves
/// in-memory buffers and files read with pread (which never loads whole archives).
struct ArchiveWalker {
    let path: String
    let fileSize: Int
    /// When false, the symbol index is skipped without being read.
    let includeSymbols: Bool
    let read: (Int, Int) throws(ObjectError) -> [UInt8]

    init(path: String, fileSize: Int, includeSymbols: Bool = true,
         read: @escaping (Int, Int) throws(ObjectError) -> [UInt8]) {
        self.path = path
        self.fileSize = fileSize
        self.includeSymbols = includeSymbols
        self.read = read
    }

    func fail(_ kind: ObjectError.Kind, _ detail: String) -> ObjectError {
        ObjectError(path: path, kind: kind, detail: detail)
    }

    func walk() throws(ObjectError) -> Archive {
        try checkMagic()
        var members: [ArchiveMember] = []
        var symbols: [ArchiveSymbol] = []
        var longNames: [UInt8]? = nil
        var offset = 8
        while offset < fileSize {
            guard fileSize - offset >= Archive.headerSize else {
                throw fail(.truncated, "archive ends with a partial member header at offset \(hex(offset)) (\(fileSize) bytes)")
            }
            let header = try read(offset, Archive.headerSize)
            let size = try memberSize(header, at: offset)
            let dataOffset = offset + Archive.headerSize
            guard size <= fileSize - dataOffset else {
                throw fail(.truncated, "member at offset \(hex(offset)) extends past end of archive (size \(size), archive \(fileSize) bytes)")
            }
            switch try classify(header.prefix(16), at: offset) {
            case .symbolTable(let wide):
                if includeSymbols, symbols.isEmpty {
                    symbols = try symbolTable(read(dataOffset, size), wide: wide, at: offset)
                }
            case .longNames:
                guard longNames == nil else { throw fail(.malformed, "archive has two long name tables (second at \(hex(offset)))") }
                longNames = try read(dataOffset, size)
            case .longNameReference(let index):
                guard let table = longNames else {
                    throw fail(.malformed, "member at offset \(hex(offset)) uses a long name but the archive has no long name table before it")
                }
                let name = try longName(table, index: index, at: offset)
                members.append(ArchiveMember(name: name, headerOffset: offset, dataOffset: dataOffset, size: size))
            case .name(let name):
                members.append(ArchiveMember(name: name, headerOffset: offset, dataOffset: dataOffset, size: size))
            }
            offset = dataOffset + size + (size & 1)
        }
        return Archive(members: members, symbols: symbols)
    }

    func checkMagic() throws(ObjectError) {
        guard fileSize >= 8 else { throw fail(.wrongFormat, "not an archive (file is \(fileSize) bytes)") }
        let magic = try read(0, 8)
        if magic == Archive.thinMagic {
            throw fail(.unsupported, "thin archives (!<thin>) are not supported; members live in separate files")
        }
        guard magic == Archive.magic else { throw fail(.wrongFormat, "not an archive (no !<arch> magic)") }
    }

    func memberSize(_ header: [UInt8], at offset: Int) throws(ObjectError) -> Int {
        guard header[58] == UInt8(ascii: "`"), header[59] == UInt8(ascii: "\n") else {
            throw fail(.malformed, "member header at offset \(hex(offset)) is corrupt (missing \"`\\n\" terminator)")
        }
        guard let size = decimal(header[48..<58]) else {
            throw fail(.malformed, "member header at offset \(hex(offset)) has an invalid size field")
        }
        return size
    }

    /// Parses a space-padded ASCII decimal field; nil when empty, non-numeric or too large.
    func decimal(_ field: ArraySlice<UInt8>) -> Int? {
        let digits = field.prefix { $0 != UInt8(ascii: " ") }
        guard !digits.isEmpty, digits.count <= 18,
              field.dropFirst(digits.count).allSatisfy({ $0 == UInt8(ascii: " ") }),
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(String(decoding: digits, as: UTF8.self))
    }

    enum NameField {
        case symbolTable(wide: Bool)
        case longNames
        case longNameReference(Int)
        case name(String)
    }

    func classify(_ field: ArraySlice<UInt8>, at offset: Int) throws(ObjectError) -> NameField {
        let trimmed = Array(field.reversed().drop { $0 == UInt8(ascii: " ") }.reversed())
        let slash = UInt8(ascii: "/")
        if trimmed == [slash] { return .symbolTable(wide: false) }
        if trimmed == Array("/SYM64/".utf8) { return .symbolTable(wide: true) }
        if trimmed == [slash, slash] { return .longNames }
        if trimmed.starts(with: Array("#1/".utf8)) {
            throw fail(.unsupported, "member at offset \(hex(offset)) uses a BSD-style long name (#1/); only GNU archives are supported")
        }
        if trimmed.first == slash {
            guard let index = decimal(trimmed.dropFirst()[...]) else {
                throw fail(.malformed, "member at offset \(hex(offset)) has an invalid long name reference")
            }
            return .longNameReference(index)
        }
        // GNU ends short names with '/'; other writers pad with spaces only.
        let name = trimmed.last == slash ? trimmed.dropLast() : trimmed[...]
        return .name(String(decoding: name, as: UTF8.self))
    }

    func longName(_ table: [UInt8], index: Int, at offset: Int) throws(ObjectError) -> String {
        guard index < table.count else {
            throw fail(.malformed, "member at offset \(hex(offset)) refers to long name \(index), past the end of the long name table (\(table.count) bytes)")
        }
        let rest = table[index...].prefix(Archive.maxNameLength + 2)
        guard let end = rest.firstIndex(of: UInt8(ascii: "\n")) else {
            throw fail(.malformed, "long name \(index) of member at offset \(hex(offset)) is unterminated or longer than \(Archive.maxNameLength) bytes")
        }
        var name = table[index..<end]
        if name.last == UInt8(ascii: "/") { name = name.dropLast() }
        return String(decoding: name, as: UTF8.self)
    }

    func symbolTable(_ data: [UInt8], wide: Bool, at offset: Int) throws(ObjectError) -> [ArchiveSymbol] {
        let width = wide ? 8 : 4
        func bigEndian(_ at: Int) -> UInt64 {
            data[at..<(at + width)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        guard data.count >= width else { throw fail(.malformed, "archive symbol index at \(hex(offset)) is truncated") }
        let count = bigEndian(0)
        guard count <= UInt64((data.count - width) / width) else {
            throw fail(.malformed, "archive symbol index at \(hex(offset)) claims \(count) symbols but holds \(data.count) bytes")
        }
        var symbols: [ArchiveSymbol] = []
        symbols.reserveCapacity(Int(count))
        var nameOffset = width + Int(count) * width
        for i in 0..<Int(count) {
            guard let end = data[nameOffset...].firstIndex(of: 0) else {
                throw fail(.malformed, "archive symbol index at \(hex(offset)) has fewer names than its \(count) entries")
            }
            guard let memberOffset = Int(exactly: bigEndian(width + i * width)) else {
                throw fail(.malformed, "archive symbol index entry \(i) has an out-of-range member offset")
            }
            symbols.append(ArchiveSymbol(name: String(decoding: data[nameOffset..<end], as: UTF8.self),
                                         memberHeaderOffset: memberOffset))
            nameOffset = end + 1
        }
        return symbols
    }
}

/// A reference to an archive member in the linker plugin's form `archive@0xOFFSET`,
/// where OFFSET is the member's data offset (`ArchiveMember.dataOffset`) in hex.
public struct ArchiveMemberReference: Hashable, Sendable, CustomStringConvertible {
    public let archivePath: String
    public let dataOffset: Int

    public init(archivePath: String, dataOffset: Int) {
        self.archivePath = archivePath
        self.dataOffset = dataOffset
    }

    /// Parses `path@0xHEX` (1 to 16 hex digits after the last "@0x"); nil for anything
    /// else, including plain paths. A plain file whose name ends like this is ambiguous,
    /// exactly as it is for the linker plugin; callers can check which one exists.
    public init?(parsing text: String) {
        let utf8 = Array(text.utf8)
        let marker = Array("@0x".utf8)
        guard utf8.count > marker.count else { return nil }
        var at = utf8.count - marker.count
        while at > 0, !utf8[at...].starts(with: marker) { at -= 1 }
        guard at > 0, utf8[at...].starts(with: marker) else { return nil }
        let digits = utf8[(at + marker.count)...]
        guard (1...16).contains(digits.count),
              digits.allSatisfy({ UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0 || UInt8(ascii: "a")...UInt8(ascii: "f") ~= $0
                  || UInt8(ascii: "A")...UInt8(ascii: "F") ~= $0 }),
              let value = UInt64(String(decoding: digits, as: UTF8.self), radix: 16),
              let offset = Int(exactly: value)
        else { return nil }
        self.archivePath = String(decoding: utf8[..<at], as: UTF8.self)
        self.dataOffset = offset
    }

    /// The plugin's spelling: `archive@0x` + lowercase hex.
    public var description: String { archivePath + "@" + hex(dataOffset) }
}
