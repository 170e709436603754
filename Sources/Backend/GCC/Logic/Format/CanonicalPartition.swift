// LTOGCC: the canonical digest of a WPA partition, which forgives GCC's symbol
// renumbering. WPA numbers every symbol of the program (`order`) in input order, so
// adding one function to an early file renumbers every symbol of the files after it,
// and with them their partitions' function-body section names and symbol tables.
// LTRANS uses orders only to compare them, so a partition whose orders are all
// replaced by their rank among the partition's orders (in section names and in every
// stream field that holds one, everything else kept byte for byte) compiles the same.
// `ltod`'s audit mode checks that claim on real links.
import LTOObject

extension LTOVersion {
    /// The versions whose symbol-table streams ltod was checked against: GCC 12's.
    public static let verifiedForCanonicalKeys: Set<LTOVersion> = [LTOVersion(major: 12, minor: 0)]
}

/// Why a partition was keyed by its bytes rather than canonically.
public enum CanonicalizationFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a partition in the shape `normalizedPartitionDigest` accepts.
    case unusualFile
    case noVersionSection
    case unverifiedVersion(LTOVersion)
    case noSymbolTable
    case symbolTable(String)
    case toplevelAsm(String)
    /// A function-body section names an order that no symbol of the partition has.
    case bodyWithoutSymbol(String)
    /// A stream section the stream reader gave no digest for.
    case streamWithoutDigest(String)

    public var description: String {
        switch self {
        case .unusualFile: return "not a partition file as GCC writes them"
        case .noVersionSection: return "no .gnu.lto_.lto section"
        case .unverifiedVersion(let v): return "LTO bytecode version \(v) is not one ltod has verified"
        case .noSymbolTable: return "no .gnu.lto_.symbol_nodes section"
        case .symbolTable(let why): return why
        case .toplevelAsm(let why): return why
        case .bodyWithoutSymbol(let name): return "section \(name) names an order no symbol has"
        case .streamWithoutDigest(let name): return "section \(name) has no canonical stream digest"
        }
    }
}

/// A partition reduced to its canonical digest, with the numbering that was abstracted away.
public struct CanonicalPartition: Sendable {
    public let digest: PartitionDigest
    public let version: LTOVersion
    /// Every order number in the partition (symbols and top-level asm), ascending:
    /// canonically, `orders[i]` is written as `i`.
    public let orders: [Int]
    /// Function bodies and variable initializers carried, by assembler name, with their orders.
    public let bodies: [(symbol: String, order: Int)]
}

/// Computes the canonical digest of a WPA partition file (see the file header), or why not.
/// With `streams`, the tree and GIMPLE streams (`.gnu.lto_.decls` and every body section)
/// count by their canonical stream digests instead of their bytes, so that what the streams'
/// location policy abstracted leaves the digest too; every such section must have one.
public func canonicalPartition(of bytes: UnsafeRawBufferPointer, streams: CanonicalStreams? = nil)
    -> Result<CanonicalPartition, CanonicalizationFailure> {
    guard let elf = try? ELFFile(bytes: bytes, path: "<partition>"),
          let normalizer = PartitionNormalizer(elf: elf, reader: ByteReader(bytes))
    else { return .failure(.unusualFile) }
    do {
        var rewrite = try CanonicalRewrite(normalizer)
        if let streams { try rewrite.replaceStreams(streams, normalizer) }
        guard let digest = normalizer.digest(rewrite: rewrite) else { return .failure(.unusualFile) }
        return .success(CanonicalPartition(digest: digest, version: rewrite.version, orders: rewrite.orders, bodies: rewrite.bodies))
    } catch {
        return .failure(error)
    }
}

public func canonicalPartition(of bytes: [UInt8], streams: CanonicalStreams? = nil) -> Result<CanonicalPartition, CanonicalizationFailure> {
    bytes.withUnsafeBytes { canonicalPartition(of: $0, streams: streams) }
}

/// What the canonical digest hashes differently from the normalized one.
struct CanonicalRewrite {
    static let versionName = Array(".gnu.lto_.lto".utf8)
    static let symbolTableName = Array(".gnu.lto_.symbol_nodes".utf8)
    static let asmName = Array(".gnu.lto_.asm".utf8)

    let version: LTOVersion
    let orders: [Int]
    let bodies: [(symbol: String, order: Int)]
    /// Per section index: contents with every order replaced by its rank, or a stream's digest.
    private(set) var contents: [Int: [UInt8]]
    /// Per section index of a function body: its name with the order replaced by its rank.
    let names: [Int: [UInt8]]

    init(_ n: PartitionNormalizer) throws(CanonicalizationFailure) {
        version = try Self.version(n)
        guard let table = n.section(named: Self.symbolTableName) else { throw .noSymbolTable }
        let symbols = try Self.symbolTable(table.contents)
        var fields = [table.index: symbols]
        if let asm = n.section(named: Self.asmName) {
            do throws(SymbolStreamError) {
                let found = try ToplevelAsmStream(section: asm.contents).orders()
                fields[asm.index] = found.fields.map { StreamField(range: ($0.range.lowerBound + 8)..<($0.range.upperBound + 8), value: $0.value) }
            } catch { throw .toplevelAsm(error.description) }
        }
        let all = fields.values.flatMap { $0.map(\.value) }
        guard Set(all).count == all.count else { throw .symbolTable("an order appears twice") }
        orders = all.sorted()
        let rank = Dictionary(uniqueKeysWithValues: orders.enumerated().map { ($1, $0) })
        (names, bodies) = try Self.renameBodies(n, rank: rank)
        var contents: [Int: [UInt8]] = [:]
        for (index, list) in fields {
            contents[index] = Self.replacing(list, in: n.contents(of: index), rank: rank)
        }
        self.contents = contents
    }

    private static func version(_ n: PartitionNormalizer) throws(CanonicalizationFailure) -> LTOVersion {
        guard let section = n.section(named: versionName),
              let header = try? LTOSectionHeader(section.contents, path: "<partition>")
        else { throw .noVersionSection }
        guard LTOVersion.verifiedForCanonicalKeys.contains(header.version) else { throw .unverifiedVersion(header.version) }
        return header.version
    }

    /// The order fields of `.gnu.lto_.symbol_nodes`, offsets counted from the section start.
    private static func symbolTable(_ section: UnsafeRawBufferPointer) throws(CanonicalizationFailure) -> [StreamField] {
        let reader = ByteReader(section)
        guard let size = reader.u32(0).map({ Int(Int32(bitPattern: $0)) }), size >= 0, 4 + size == section.count,
              let stream = reader.slice(4, size)
        else { throw .symbolTable("symbol table header does not match its size") }
        do throws(SymbolStreamError) {
            return try SymbolTableStream(bytes: stream).records().compactMap(\.order).map {
                StreamField(range: ($0.range.lowerBound + 4)..<($0.range.upperBound + 4), value: $0.value)
            }
        } catch { throw .symbolTable(error.description) }
    }

    /// Puts each stream section's canonical digest (tagged with the policy) in place of its
    /// contents; a stream section without one is a failure.
    mutating func replaceStreams(_ streams: CanonicalStreams, _ n: PartitionNormalizer) throws(CanonicalizationFailure) {
        let digests = Dictionary(streams.sections.map { ($0.name, $0.digest) }, uniquingKeysWith: { a, _ in a })
        for section in n.elf.sections {
            guard let name = LTOSectionName(section.name) else { continue }
            switch name.kind {
            case .named("decls"), .functionBody:
                guard let digest = digests[name.normalized] else { throw .streamWithoutDigest(name.normalized) }
                contents[section.index] = Array("\(streams.policyName) \(digest)".utf8)
            default: continue
            }
        }
    }

    /// Function-body section names with the order replaced by its rank.
    private static func renameBodies(_ n: PartitionNormalizer, rank: [Int: Int]) throws(CanonicalizationFailure)
        -> ([Int: [UInt8]], [(symbol: String, order: Int)]) {
        var names: [Int: [UInt8]] = [:]
        var bodies: [(symbol: String, order: Int)] = []
        for section in n.elf.sections {
            guard case .functionBody(let symbol, let order)? = LTOSectionName(section.name)?.kind else { continue }
            guard let r = rank[order] else { throw .bodyWithoutSymbol(section.name) }
            names[section.index] = Array((LTOSectionName.prefix + symbol + "." + String(r)).utf8)
            bodies.append((symbol, order))
        }
        return (names, bodies)
    }

    /// `contents` with each field re-encoded as the signed LEB128 of its rank, and the main
    /// stream's size (the first field of both sections' headers) updated to match.
    private static func replacing(_ fields: [StreamField], in contents: UnsafeRawBufferPointer, rank: [Int: Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(contents.count)
        var copied = 0
        for field in fields.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            out += contents[copied..<field.range.lowerBound]
            out += signedLEB128(Int64(rank[field.value]!))
            copied = field.range.upperBound
        }
        out += contents[copied...]
        let mainSize = Int32(ByteReader(contents).u32(0).map { Int32(bitPattern: $0) } ?? 0) + Int32(out.count - contents.count)
        withUnsafeBytes(of: mainSize.littleEndian) { out.replaceSubrange(0..<4, with: $0) }
        return out
    }
}

/// streamer_write_hwi_stream's encoding.
func signedLEB128(_ value: Int64) -> [UInt8] {
    var out: [UInt8] = []
    var v = value
    while true {
        let byte = UInt8(truncatingIfNeeded: v & 0x7f)
        v >>= 6
        if v == 0 || v == -1 {
            out.append(byte)
            return out
        }
        v >>= 1
        out.append(byte | 0x80)
    }
}
