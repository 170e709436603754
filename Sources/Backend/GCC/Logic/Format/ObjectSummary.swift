// LTOGCC: everything the daemon keeps about one input object.
import LTOHash
import LTOObject
import LTOSystem

/// What ltod knows about one input object (a file or an archive member).
public struct ObjectSummary: Hashable, Sendable {
    /// The object's name in messages: its path, or `archive@0xOFFSET` for a member.
    public let path: String
    /// Set when the object is an archive member.
    public let member: ArchiveMemberReference?
    /// Identity of the file read (the archive, for a member); nil when parsed from memory.
    public let identity: FileIdentity?
    public let size: Int
    /// XXH3-128 of the object's raw bytes.
    public let contentDigest: Digest
    /// The ELF section directory.
    public let elf: ELFFile
    /// The decoded `.gnu.lto_.symtab` (with `.gnu.lto_.ext_symtab` data merged in); empty
    /// for non-LTO objects and WPA partitions.
    public let symbols: [LTOSymbol]
    /// See `ltoSectionDigests(of:in:)`.
    public let sectionDigests: [LTOSectionDigest]
    /// The `.gnu.lto_.lto` header; nil for non-LTO objects and GCC older than 10.
    public let ltoHeader: LTOSectionHeader?
    /// The distinct ID suffixes of the LTO sections, in section order (one for a plain
    /// `gcc -c` object, several after `ld -r` merged objects).
    public let ltoIDs: [UInt64]

    /// True when the object has `.gnu.lto_*` sections.
    public var isLTO: Bool { !ltoIDs.isEmpty || elf.section(named: LTOSectionName.optionsSectionName) != nil }
    public var ltoVersion: LTOVersion? { ltoHeader?.version }
    public var compression: LTOCompression? { ltoHeader?.compression }
    /// True for slim LTO objects, false for fat ones; nil when not LTO or unknown.
    public var isSlim: Bool? { ltoHeader?.isSlim }

    /// Parses an object held in memory; `path` is used in errors and as `path`.
    public init(bytes: UnsafeRawBufferPointer, path: String, member: ArchiveMemberReference? = nil,
                identity: FileIdentity? = nil) throws(ObjectError) {
        let elf = try ELFFile(bytes: bytes, path: path)
        self.path = path
        self.member = member
        self.identity = identity
        self.size = bytes.count
        self.contentDigest = Digest.of(bytes)
        self.elf = elf
        self.sectionDigests = ltoSectionDigests(of: elf, in: bytes)
        var ids: [UInt64] = []
        var header: LTOSectionHeader? = nil
        for section in elf.sections {
            guard let name = LTOSectionName(section.name) else { continue }
            if let id = name.id, !ids.contains(id) { ids.append(id) }
            if header == nil, name.kind == .named("lto"), let data = elf.contents(of: section, in: bytes) {
                header = try LTOSectionHeader(data, path: "\(path): section \(section.index) (\(section.name))")
            }
        }
        self.ltoIDs = ids
        self.ltoHeader = header
        self.symbols = try decodeLTOSymbols(elf: elf, bytes: bytes, path: path)
    }

    public init(bytes: [UInt8], path: String, member: ArchiveMemberReference? = nil,
                identity: FileIdentity? = nil) throws(ObjectError) {
        let result: Result<ObjectSummary, ObjectError> = bytes.withUnsafeBytes { buffer in
            do throws(ObjectError) {
                return .success(try ObjectSummary(bytes: buffer, path: path, member: member, identity: identity))
            } catch { return .failure(error) }
        }
        self = try result.get()
    }
}

/// Decodes all `.gnu.lto_.symtab*` sections in section order, merging in the
/// `.gnu.lto_.ext_symtab*` entries when their total count matches (as the linker plugin does).
public func decodeLTOSymbols(elf: ELFFile, bytes: UnsafeRawBufferPointer, path: String) throws(ObjectError) -> [LTOSymbol] {
    var symbols: [LTOSymbol] = []
    var extensions: [(type: LTOSymbol.SymbolType, sectionKind: UInt8)] = []
    var extensionsUsable = true
    var sawExtension = false
    for section in elf.sections {
        guard let name = LTOSectionName(section.name), case .named(let kind) = name.kind,
              kind == "symtab" || kind == "ext_symtab",
              let data = elf.contents(of: section, in: bytes)
        else { continue }
        let where_ = "\(path): section \(section.index) (\(section.name))"
        if kind == "symtab" {
            symbols += try LTOSymbol.decodeTable(data, path: where_)
        } else {
            sawExtension = true
            if let entries = try LTOSymbol.decodeExtensionTable(data, path: where_) {
                extensions += entries
            } else {
                extensionsUsable = false
            }
        }
    }
    guard sawExtension, extensionsUsable else { return symbols }
    guard extensions.count == symbols.count else {
        throw ObjectError(path: path, kind: .malformed,
                          detail: "LTO symbol table extension has \(extensions.count) entries but the symbol table has \(symbols.count)")
    }
    for i in symbols.indices {
        symbols[i].type = extensions[i].type
        symbols[i].sectionKind = extensions[i].sectionKind
    }
    return symbols
}
