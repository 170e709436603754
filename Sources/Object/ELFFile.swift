// LTOObject: the ELF64 little-endian section directory parser.

/// An ELF section type (`sh_type`), with names for the common values.
public struct ELFSectionType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let null = ELFSectionType(rawValue: 0)
    public static let progbits = ELFSectionType(rawValue: 1)
    public static let symtab = ELFSectionType(rawValue: 2)
    public static let strtab = ELFSectionType(rawValue: 3)
    public static let rela = ELFSectionType(rawValue: 4)
    public static let note = ELFSectionType(rawValue: 7)
    public static let nobits = ELFSectionType(rawValue: 8)
    public static let rel = ELFSectionType(rawValue: 9)
    public static let group = ELFSectionType(rawValue: 17)
    public static let symtabShndx = ELFSectionType(rawValue: 18)

    public var description: String {
        switch self {
        case .null: "NULL"
        case .progbits: "PROGBITS"
        case .symtab: "SYMTAB"
        case .strtab: "STRTAB"
        case .rela: "RELA"
        case .note: "NOTE"
        case .nobits: "NOBITS"
        case .rel: "REL"
        case .group: "GROUP"
        case .symtabShndx: "SYMTAB_SHNDX"
        default: hex(rawValue)
        }
    }
}

/// One entry of an ELF section header table.
public struct ELFSection: Hashable, Sendable {
    /// Position in the section header table (0 is the null section).
    public let index: Int
    /// The name, decoded as UTF-8 (invalid bytes replaced); "" when the file has no name table.
    public let name: String
    /// `sh_name`: offset of the name in the section name table.
    public let nameOffset: UInt32
    public let type: ELFSectionType
    public let flags: UInt64
    public let address: UInt64
    /// File offset of the contents (meaningful only when `hasFileContents`).
    public let offset: Int
    /// Size in bytes (in the file unless the type is NOBITS).
    public let size: Int
    public let link: UInt32
    public let info: UInt32
    public let alignment: UInt64
    public let entrySize: UInt64

    /// True when the section occupies `[offset, offset + size)` of the file.
    public var hasFileContents: Bool { type != .nobits && type != .null && size > 0 }

    /// `SHF_COMPRESSED`: contents start with an ELF compression header.
    public var isCompressed: Bool { flags & 0x800 != 0 }
}

/// The section directory of an ELF64 little-endian file (relocatable objects in practice).
///
/// Holds only metadata; section contents are read from the same bytes with
/// `contents(of:in:)`. Construction validates that every section with contents lies
/// inside the file and that every name is a NUL-terminated string of the name table.
public struct ELFFile: Hashable, Sendable {
    /// Size of the parsed bytes.
    public let fileSize: Int
    /// `e_type` (1 = relocatable).
    public let fileType: UInt16
    /// `e_machine` (62 = x86-64, 183 = AArch64).
    public let machine: UInt16
    public let flags: UInt32
    /// `e_phnum` (0 for relocatable objects).
    public let programHeaderCount: Int
    /// `e_shoff`.
    public let sectionHeaderOffset: Int
    /// `e_shentsize`.
    public let sectionHeaderEntrySize: Int
    /// Index of the section name table, resolving `SHN_XINDEX`; nil when the file has none.
    public let sectionNameTableIndex: Int?
    public let sections: [ELFSection]

    public static let relocatableType: UInt16 = 1
    public static let x86_64Machine: UInt16 = 62

    /// Parses the ELF header and section header table of `bytes`; `path` is used in errors.
    public init(bytes: UnsafeRawBufferPointer, path: String) throws(ObjectError) {
        self = try ELFParser(bytes: bytes, path: path).parse()
    }

    public init(bytes: [UInt8], path: String) throws(ObjectError) {
        let result: Result<ELFFile, ObjectError> = bytes.withUnsafeBytes { buffer in
            do throws(ObjectError) { return .success(try ELFFile(bytes: buffer, path: path)) }
            catch { return .failure(error) }
        }
        self = try result.get()
    }

    init(fileSize: Int, fileType: UInt16, machine: UInt16, flags: UInt32, programHeaderCount: Int,
         sectionHeaderOffset: Int, sectionHeaderEntrySize: Int, sectionNameTableIndex: Int?,
         sections: [ELFSection]) {
        self.fileSize = fileSize
        self.fileType = fileType
        self.machine = machine
        self.flags = flags
        self.programHeaderCount = programHeaderCount
        self.sectionHeaderOffset = sectionHeaderOffset
        self.sectionHeaderEntrySize = sectionHeaderEntrySize
        self.sectionNameTableIndex = sectionNameTableIndex
        self.sections = sections
    }

    /// True when the first bytes are the ELF magic number.
    public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x7f && bytes[1] == 0x45 && bytes[2] == 0x4c && bytes[3] == 0x46
    }

    /// The first section called `name`, if any.
    public func section(named name: String) -> ELFSection? {
        sections.first { $0.name == name }
    }

    /// The contents of `section` within `bytes` (the buffer this file was parsed from);
    /// empty for sections without file contents, nil when out of range of `bytes`.
    public func contents(of section: ELFSection, in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard section.hasFileContents else { return UnsafeRawBufferPointer(rebasing: bytes[0..<0]) }
        return ByteReader(bytes).slice(section.offset, section.size)
    }
}

/// The ELF parsing steps, kept apart so each stays short.
private struct ELFParser {
    let reader: ByteReader
    let path: String

    static let headerSize = 64
    static let sectionHeaderSize = 64
    static let shnXIndex: UInt16 = 0xffff
    /// Upper bound on the total bytes of all section names, relative to the name table
    /// size; legitimate tables share tails (".rela.text" / ".text") but never by much.
    static let nameBudgetFactor = 16
    static let nameBudgetSlack = 1 << 16

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.reader = ByteReader(bytes)
        self.path = path
    }

    func fail(_ kind: ObjectError.Kind, _ detail: String) -> ObjectError {
        ObjectError(path: path, kind: kind, detail: detail)
    }

    func parse() throws(ObjectError) -> ELFFile {
        try checkIdentification()
        guard reader.count >= Self.headerSize else {
            throw fail(.truncated, "ELF header is truncated (file is \(reader.count) bytes, the header needs 64)")
        }
        let ehsize = Int(reader.u16(52)!)
        guard ehsize >= Self.headerSize else {
            throw fail(.malformed, "ELF header size e_ehsize=\(ehsize) is smaller than 64")
        }
        let table = try sectionTable()
        var raw: [RawSection] = []
        raw.reserveCapacity(table.count)
        for index in 0..<table.count {
            raw.append(try rawSection(index, tableOffset: table.offset, entrySize: table.entrySize))
        }
        let nameIndex = try nameTableIndex(raw)
        let sections = try namedSections(raw, nameIndex: nameIndex)
        return ELFFile(
            fileSize: reader.count, fileType: reader.u16(16)!, machine: reader.u16(18)!,
            flags: reader.u32(48)!, programHeaderCount: Int(reader.u16(56)!),
            sectionHeaderOffset: table.offset, sectionHeaderEntrySize: table.entrySize,
            sectionNameTableIndex: nameIndex, sections: sections)
    }

    func checkIdentification() throws(ObjectError) {
        guard ELFFile.hasMagic(reader.bytes) else { throw fail(.wrongFormat, "not an ELF file (bad magic number)") }
        guard reader.count >= 16 else {
            throw fail(.truncated, "ELF identification is truncated (file is \(reader.count) bytes)")
        }
        switch reader.u8(4)! {
        case 2: break
        case 1: throw fail(.unsupported, "32-bit ELF (ELFCLASS32) is not supported; only 64-bit objects are read")
        case let c: throw fail(.malformed, "invalid ELF class \(c) in byte 4 of the header")
        }
        switch reader.u8(5)! {
        case 1: break
        case 2: throw fail(.unsupported, "big-endian ELF (ELFDATA2MSB) is not supported; only little-endian objects are read")
        case let d: throw fail(.malformed, "invalid ELF data encoding \(d) in byte 5 of the header")
        }
        guard reader.u8(6)! == 1 else {
            throw fail(.malformed, "unsupported ELF version \(reader.u8(6)!) in byte 6 of the header")
        }
    }

    /// Offset, entry size and entry count of the section header table, resolving the
    /// extended count in section 0 and checking that the whole table is in the file.
    func sectionTable() throws(ObjectError) -> (offset: Int, entrySize: Int, count: Int) {
        let shoffRaw = reader.u64(40)!
        let entrySize = Int(reader.u16(58)!)
        var count = Int(reader.u16(60)!)
        if shoffRaw == 0 {
            guard count == 0 else {
                throw fail(.malformed, "ELF header lists \(count) sections but no section header table (e_shoff is 0)")
            }
            return (0, entrySize, 0)
        }
        guard entrySize >= Self.sectionHeaderSize else {
            throw fail(.malformed, "section header entry size e_shentsize=\(entrySize) is smaller than 64")
        }
        guard let offset = Int(exactly: shoffRaw), reader.contains(offset: offset, length: entrySize) else {
            throw fail(.truncated, "section header table at offset \(hex(shoffRaw)) is past the end of the file (\(reader.count) bytes)")
        }
        if count == 0 {
            let extended = reader.u64(offset + 32)!
            guard let c = Int(exactly: extended) else {
                throw fail(.malformed, "extended section count \(extended) in section 0 is out of range")
            }
            count = c
        }
        let available = (reader.count - offset) / entrySize
        guard count <= available else {
            throw fail(.truncated, "section header table claims \(count) entries of \(entrySize) bytes at offset \(hex(offset)), but the file is \(reader.count) bytes")
        }
        return (offset, entrySize, count)
    }

    struct RawSection {
        var index: Int
        var nameOffset: UInt32
        var type: UInt32
        var flags: UInt64
        var address: UInt64
        var offset: Int
        var size: Int
        var link: UInt32
        var info: UInt32
        var alignment: UInt64
        var entrySize: UInt64
    }

    func rawSection(_ index: Int, tableOffset: Int, entrySize: Int) throws(ObjectError) -> RawSection {
        let base = tableOffset + index * entrySize
        let type = reader.u32(base + 4)!
        let offsetRaw = reader.u64(base + 24)!
        let sizeRaw = reader.u64(base + 32)!
        var section = RawSection(
            index: index, nameOffset: reader.u32(base)!, type: type, flags: reader.u64(base + 8)!,
            address: reader.u64(base + 16)!, offset: 0, size: 0, link: reader.u32(base + 40)!,
            info: reader.u32(base + 44)!, alignment: reader.u64(base + 48)!, entrySize: reader.u64(base + 56)!)
        // Section 0 (type NULL) may carry the extended count in sh_size; it has no contents.
        if type == ELFSectionType.null.rawValue { return section }
        guard let offset = Int(exactly: offsetRaw), let size = Int(exactly: sizeRaw) else {
            throw fail(.malformed, "section \(index) has an out-of-range offset \(hex(offsetRaw)) or size \(hex(sizeRaw))")
        }
        section.offset = offset
        section.size = size
        if type != ELFSectionType.nobits.rawValue, size > 0, !reader.contains(offset: offset, length: size) {
            throw fail(.truncated, "section \(index) extends past end of file (offset \(hex(offset)) size \(hex(size)), file \(reader.count) bytes)")
        }
        return section
    }

    func nameTableIndex(_ raw: [RawSection]) throws(ObjectError) -> Int? {
        guard !raw.isEmpty else { return nil }
        var index = Int(reader.u16(62)!)
        if index == Int(Self.shnXIndex) { index = Int(raw[0].link) }
        if index == 0 { return nil }
        guard index < raw.count else {
            throw fail(.malformed, "section name table index \(index) is out of range (\(raw.count) sections)")
        }
        guard raw[index].type == ELFSectionType.strtab.rawValue else {
            throw fail(.malformed, "section name table (section \(index)) has type \(ELFSectionType(rawValue: raw[index].type)), not STRTAB")
        }
        return index
    }

    func namedSections(_ raw: [RawSection], nameIndex: Int?) throws(ObjectError) -> [ELFSection] {
        let table = nameIndex.map { raw[$0] }
        let tableBytes = table.map { $0.size } ?? 0
        let budget = tableBytes * Self.nameBudgetFactor + Self.nameBudgetSlack
        var used = 0
        var result: [ELFSection] = []
        result.reserveCapacity(raw.count)
        for s in raw {
            var name = ""
            if let table {
                let nameBytes = try self.nameBytes(of: s, table: table)
                used += nameBytes.count
                guard used <= budget else {
                    throw fail(.malformed, "section names total more than \(budget) bytes for a \(tableBytes)-byte name table")
                }
                name = String(lossyUTF8: nameBytes)
            }
            result.append(ELFSection(
                index: s.index, name: name, nameOffset: s.nameOffset, type: ELFSectionType(rawValue: s.type),
                flags: s.flags, address: s.address, offset: s.offset, size: s.size, link: s.link, info: s.info,
                alignment: s.alignment, entrySize: s.entrySize))
        }
        return result
    }

    func nameBytes(of s: RawSection, table: RawSection) throws(ObjectError) -> UnsafeRawBufferPointer {
        let start = Int(s.nameOffset)
        guard start < table.size else {
            throw fail(.malformed, "name offset \(start) of section \(s.index) is outside the section name table (\(table.size) bytes)")
        }
        guard let name = reader.cString(at: table.offset + start, end: table.offset + table.size) else {
            throw fail(.malformed, "name of section \(s.index) is not NUL-terminated inside the section name table")
        }
        return name
    }
}

/// The raw (undecoded) name bytes of `section`, read from the name table in `bytes`.
/// Used wherever names feed a digest, so invalid UTF-8 can never make two names equal.
public func rawSectionName(_ section: ELFSection, elf: ELFFile, bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    guard let tableIndex = elf.sectionNameTableIndex else { return nil }
    let table = elf.sections[tableIndex]
    guard Int(section.nameOffset) < table.size else { return nil }
    return ByteReader(bytes).cString(at: table.offset + Int(section.nameOffset), end: table.offset + table.size)
}
