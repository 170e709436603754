// LTOGCC: content digests of LTO objects: per-section digests of input objects
// and the normalized digest of a WPA partition file (a component of LTRANS cache keys).
import LTOHash
import LTOObject

/// The digest of one section's contents, under its name with the random ID removed.
public struct LTOSectionDigest: Hashable, Sendable {
    /// `LTOSectionName.normalized` for `.gnu.lto_*` sections; the plain name otherwise.
    public let normalizedName: String
    /// The parsed kind for `.gnu.lto_*` sections (named stream or function body); nil otherwise.
    public let kind: LTOSectionName.Kind?
    /// XXH3-128 of the section's bytes as stored (compressed streams stay compressed).
    public let digest: Digest
    public let size: Int

    public init(normalizedName: String, kind: LTOSectionName.Kind?, digest: Digest, size: Int) {
        self.normalizedName = normalizedName
        self.kind = kind
        self.digest = digest
        self.size = size
    }
}

/// Digests of every `.gnu.lto_*` section (ID suffix removed from the name) and every
/// `.gnu.debuglto_*` section (early debug info of `-g` objects; GCC gives those no
/// suffix), in section order. Comparing two builds of one object tells which function
/// bodies (`.gnu.lto_<fn>.<order>`) and which summaries changed.
public func ltoSectionDigests(of elf: ELFFile, in bytes: UnsafeRawBufferPointer) -> [LTOSectionDigest] {
    var result: [LTOSectionDigest] = []
    for section in elf.sections {
        let name: String
        let parsed = LTOSectionName(section.name)
        if let parsed {
            name = parsed.normalized
        } else if section.name.hasPrefix(LTOSectionName.prefix) || section.name.hasPrefix(".gnu.debuglto_") {
            name = section.name
        } else {
            continue
        }
        guard let data = elf.contents(of: section, in: bytes) else { continue }
        result.append(LTOSectionDigest(normalizedName: name, kind: parsed?.kind, digest: Digest.of(data), size: data.count))
    }
    return result
}

/// The normalized digest of a WPA partition file (`*.ltransN.o`). Two files get the
/// same one only when a reader that finds sections through the section header table,
/// as lto1 does, sees the same file in both apart from the random ID that GCC appends
/// to `.gnu.lto_*` section names: same ELF header fields, same sections in the same
/// order with the same names (ID removed), attributes and bytes, same padding. A plain
/// `Digest` so it can feed cache keys directly; keys must record that it is
/// normalized, not raw.
public typealias PartitionDigest = Digest

/// Computes the normalized digest of a WPA partition file; nil when the file is not a
/// plain ELF64 relocatable object laid out as GCC writes partitions, when its LTO
/// sections do not all carry one well-formed ID suffix, or when anything else is
/// unusual (overlapping sections, program headers, non-UTF-8 names). Callers then
/// fall back to a digest of the raw bytes.
///
/// What is hashed: the ELF header except `e_shoff`; for every section in index order
/// its name (ID suffix removed), type, flags, address, alignment, entry size, link,
/// info and contents (or size, for sections without contents), except that the section
/// name table is represented only by those names; and every byte not covered by the
/// ELF header, the section header table or a section (alignment padding), gap by gap
/// in file order. `sh_name` and `sh_offset` are not hashed: they only locate names and
/// contents, which are hashed themselves.
public func normalizedPartitionDigest(of bytes: UnsafeRawBufferPointer) -> PartitionDigest? {
    guard let elf = try? ELFFile(bytes: bytes, path: "<partition>") else { return nil }
    return PartitionNormalizer(elf: elf, reader: ByteReader(bytes))?.digest(rewrite: nil)
}

public func normalizedPartitionDigest(of bytes: [UInt8]) -> PartitionDigest? {
    bytes.withUnsafeBytes { normalizedPartitionDigest(of: $0) }
}

/// Checks a parsed partition for anything unusual and computes its normalized digest,
/// or with a `CanonicalRewrite` its canonical one.
struct PartitionNormalizer {
    let elf: ELFFile
    let reader: ByteReader
    let nameTableIndex: Int
    /// Per section: its name with the ID suffix (if any) removed.
    let normalizedNames: [UnsafeRawBufferPointer]

    static let version: StaticString = "ltod.partition-digest.v2"
    static let canonicalVersion: StaticString = "ltod.partition-digest.canonical.v1"
    static let optionsName = Array(LTOSectionName.optionsSectionName.utf8)
    static let outputListOption = Array("'-fltrans-output-list=".utf8)

    /// WPA records its own options in every partition's `.gnu.lto_.opts`, among them
    /// `-fltrans-output-list=` naming lto-wrapper's random temporary file. Only lto-wrapper
    /// reads that section, and only from compile-time objects, never lto1 in LTRANS;
    /// so that one value is dropped (the option itself is kept). Set when the section is
    /// well-formed: the value ends at a quote followed by a space or the final NUL.
    let optionsWithoutOutputList: [UInt8]

    init?(elf: ELFFile, reader: ByteReader) {
        guard elf.fileType == ELFFile.relocatableType, elf.programHeaderCount == 0,
              reader.u16(52) == 64, elf.sectionHeaderEntrySize == 64,
              let nameTableIndex = elf.sectionNameTableIndex
        else { return nil }
        self.elf = elf
        self.reader = reader
        self.nameTableIndex = nameTableIndex
        guard let names = Self.stripSuffixes(elf: elf, bytes: reader.bytes) else { return nil }
        self.normalizedNames = names
        let options = elf.sections.first { names[$0.index].elementsEqual(Self.optionsName) && $0.hasFileContents }
        let contents = options.flatMap { reader.slice($0.offset, $0.size) }.map(Array.init) ?? []
        guard let stripped = Self.droppingOutputList(contents) else { return nil }
        optionsWithoutOutputList = stripped
    }

    /// Strips the common ID suffix from every `.gnu.lto_*` name; nil unless there is at
    /// least one such section, all of them (except `.gnu.lto_.opts`) end in the same
    /// well-formed suffix, and every name is valid UTF-8 that parses as GCC writes it.
    static func stripSuffixes(elf: ELFFile, bytes: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer]? {
        let prefix = Array(LTOSectionName.prefix.utf8)
        let options = Array(LTOSectionName.optionsSectionName.utf8)
        var suffix: [UInt8]? = nil
        var names: [UnsafeRawBufferPointer] = []
        names.reserveCapacity(elf.sections.count)
        for section in elf.sections {
            guard let raw = rawSectionName(section, elf: elf, bytes: bytes),
                  String(validating: raw, as: UTF8.self) != nil
            else { return nil }
            guard raw.starts(with: prefix), !raw.elementsEqual(options) else {
                names.append(raw)
                continue
            }
            guard LTOSectionName(section.name) != nil, let split = splitLTOSuffix(raw) else { return nil }
            let thisSuffix = Array(raw[split.baseLength...])
            if let suffix, suffix != thisSuffix { return nil }
            suffix = thisSuffix
            names.append(UnsafeRawBufferPointer(rebasing: raw[..<split.baseLength]))
        }
        return suffix == nil ? nil : names
    }

    /// `contents` with the value of every `'-fltrans-output-list=VALUE'` removed; nil when
    /// a value does not end the way GCC writes it.
    static func droppingOutputList(_ contents: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(contents.count)
        var i = 0
        while i < contents.count {
            guard contents[i...].starts(with: outputListOption) else {
                out.append(contents[i])
                i += 1
                continue
            }
            out += outputListOption
            i += outputListOption.count
            guard let quote = contents[i...].firstIndex(of: UInt8(ascii: "'")),
                  quote + 1 < contents.count, contents[quote + 1] == UInt8(ascii: " ") || contents[quote + 1] == 0
            else { return nil }
            i = quote
        }
        return out
    }

    /// The file ranges not covered by the ELF header, the section header table or any
    /// section, in file order; nil when any two of those overlap.
    func gaps() -> [Range<Int>]? {
        var regions: [Range<Int>] = [0..<64]
        let tableSize = elf.sections.count * 64
        if tableSize > 0 { regions.append(elf.sectionHeaderOffset..<(elf.sectionHeaderOffset + tableSize)) }
        for section in elf.sections where section.hasFileContents {
            regions.append(section.offset..<(section.offset + section.size))
        }
        regions.sort { $0.lowerBound < $1.lowerBound }
        var gaps: [Range<Int>] = []
        var covered = 0
        for region in regions {
            guard region.lowerBound >= covered else { return nil }
            if region.lowerBound > covered { gaps.append(covered..<region.lowerBound) }
            covered = region.upperBound
        }
        if covered < reader.count { gaps.append(covered..<reader.count) }
        return gaps
    }

    /// The index and contents of the section whose normalized name is `name`, if any.
    func section(named name: [UInt8]) -> (index: Int, contents: UnsafeRawBufferPointer)? {
        guard let section = elf.sections.first(where: { normalizedNames[$0.index].elementsEqual(name) && $0.hasFileContents })
        else { return nil }
        return (section.index, contents(of: section.index))
    }

    func contents(of index: Int) -> UnsafeRawBufferPointer {
        let section = elf.sections[index]
        return reader.slice(section.offset, section.size)!
    }

    /// The digest; with a rewrite, its names and contents replace the file's, and padding
    /// that is all zeros counts as one fact whatever its length (renumbering changes the
    /// length of section names, and with it the alignment padding after the name table).
    func digest(rewrite: CanonicalRewrite?) -> PartitionDigest? {
        guard let gaps = gaps() else { return nil }
        let hasher = Hasher128()
        if let rewrite {
            hasher.label(Self.canonicalVersion)
            hasher.add(rewrite.version.major)
            hasher.add(rewrite.version.minor)
        } else {
            hasher.label(Self.version)
        }
        hasher.label("header")
        hasher.beginBytes(count: 56)
        hasher.continueBytes(reader.slice(0, 40)!)
        hasher.continueBytes(reader.slice(48, 16)!)
        hasher.add(elf.sections.count)
        for section in elf.sections {
            hashSection(section, rewrite: rewrite, into: hasher)
        }
        if rewrite != nil, gaps.allSatisfy({ reader.slice($0.lowerBound, $0.count)!.allSatisfy { $0 == 0 } }) {
            hasher.label("zero padding")
            return hasher.finish()
        }
        hasher.label("gaps")
        hasher.add(gaps.count)
        for gap in gaps {
            hasher.add(reader.slice(gap.lowerBound, gap.count)!)
        }
        return hasher.finish()
    }

    func hashSection(_ section: ELFSection, rewrite: CanonicalRewrite?, into hasher: borrowing Hasher128) {
        hasher.label("section")
        if let name = rewrite?.names[section.index] {
            name.withUnsafeBytes { hasher.add($0) }
        } else {
            hasher.add(normalizedNames[section.index])
        }
        hasher.add(UInt64(section.type.rawValue))
        hasher.add(section.flags)
        hasher.add(section.address)
        hasher.add(section.alignment)
        hasher.add(section.entrySize)
        hasher.add(UInt64(section.link))
        hasher.add(UInt64(section.info))
        if section.index == nameTableIndex {
            hasher.label("names")
        } else if let contents = rewrite?.contents[section.index] {
            hasher.label("canonical contents")
            contents.withUnsafeBytes { hasher.add($0) }
        } else if section.hasFileContents, normalizedNames[section.index].elementsEqual(Self.optionsName) {
            hasher.label("options")
            optionsWithoutOutputList.withUnsafeBytes { hasher.add($0) }
        } else if section.hasFileContents {
            hasher.label("contents")
            hasher.add(reader.slice(section.offset, section.size)!)
        } else {
            hasher.label("size")
            hasher.add(section.size)
        }
    }
}
