// LTOGCC: the canonical digests of a WPA partition's tree and GIMPLE streams: the
// `.gnu.lto_.decls` section (header, declaration states, the global tree stream,
// strings) and every `.gnu.lto_<symbol>.<order>` section (function bodies and
// variable initializers, which WPA copies from the compile-time objects as they
// were, compressed or not). Pure logic: the caller hands the bytes and a
// decompressor; any doubt is an error whose reason the caller counts and shows.
import LTOHash
import LTOObject

/// The canonical digest of one section, and what the policy abstracted in it.
public struct CanonicalStreamSection: Sendable {
    /// The section name without GCC's random suffix, as in the partition.
    public let name: String
    public let section: StreamSection
    public let digest: Digest
    public let keptLocations: Int
    /// Locations abstracted (fully or to their file), per source file as streamed.
    public let abstracted: [String: AbstractedLocations]
    /// A digest of the exact positions of the abstracted locations, per source file.
    public let positions: [String: Digest]
    /// The lowest `optimize` level of the section's optimization nodes (nil: it has none).
    public let lowestOptimizeLevel: Int64?
    /// Calls of the sanitizers' internal functions in the section.
    public let sanitizerCalls: Int
}

/// The canonical digests of every tree and GIMPLE stream of a partition.
public struct CanonicalStreams: Sendable {
    public let policyName: String
    /// In section order: `.gnu.lto_.decls` and each body or initializer section.
    public let sections: [CanonicalStreamSection]

    /// One digest over the policy and every section's symbol, kind and digest (not orders).
    public var digest: Digest {
        let h = Hasher128()
        h.label("ltod.streams.v1")
        h.add(policyName)
        h.add(sections.count)
        for s in sections {
            h.add(s.section.description)
            h.add(s.digest)
        }
        return h.finish()
    }

    /// One line per source file, for explanations: "ltable.c: 12 declarations, 30 statements".
    public var abstractionSummary: [String] {
        abstractedByFile.sorted { $0.key < $1.key }.map { file, n in
            var parts: [String] = []
            if n.declarations > 0 { parts.append("\(n.declarations) declaration\(n.declarations == 1 ? "" : "s")") }
            if n.statements > 0 { parts.append("\(n.statements) statement\(n.statements == 1 ? "" : "s")") }
            return "\(file): " + parts.joined(separator: ", ")
        }
    }

    /// Why the partition's code may depend on its locations even where its options do not
    /// let them reach the object (docs/LTRANS-FACTS.md, conditions on the partition), or nil:
    /// a function optimized at -O0 (code depends on which statements share a location), or a
    /// call of a sanitizer's internal function (LTRANS expands it with the statement's location).
    public var locationDependence: String? {
        if let level = sections.compactMap(\.lowestOptimizeLevel).min(), level < 1 {
            return "a function is optimized at -O\(level)"
        }
        let calls = sections.reduce(0) { $0 + $1.sanitizerCalls }
        return calls > 0 ? "\(calls) calls of sanitizer checks" : nil
    }

    /// A digest of the exact positions of the partition's abstracted locations per source
    /// file: where two readings differ, that file's locations moved.
    public var positionsByFile: [String: Digest] {
        var lists: [String: [Digest]] = [:]
        for s in sections {
            for (file, digest) in s.positions.sorted(by: { $0.key < $1.key }) { lists[file, default: []] += [Digest.of(s.name), digest] }
        }
        return lists.mapValues { list in
            let h = Hasher128()
            for d in list { h.add(d) }
            return h.finish()
        }
    }

    /// Abstracted locations of the whole partition per source file.
    public var abstractedByFile: [String: AbstractedLocations] {
        var total: [String: AbstractedLocations] = [:]
        for s in sections {
            for (file, n) in s.abstracted {
                total[file, default: AbstractedLocations()].declarations += n.declarations
                total[file, default: AbstractedLocations()].statements += n.statements
            }
        }
        return total
    }
}

/// Reads the tree and GIMPLE streams of a partition file (`bytes`, parsed as `elf`) and
/// digests them under `policy`. `decompress` inflates a section GCC stored compressed
/// (zstd, as the declaration state of the section's symbol says); nil means it could not.
public func canonicalStreams(
    elf: ELFFile, bytes: UnsafeRawBufferPointer, policy: LocationPolicy,
    decompress: (UnsafeRawBufferPointer) -> [UInt8]?
) -> Result<CanonicalStreams, StreamReadError> {
    do throws(StreamReadError) {
        return .success(try PartitionStreamReader(elf: elf, bytes: bytes, policy: policy).read(decompress: decompress))
    } catch {
        return .failure(error)
    }
}

/// The sections of one partition and the declaration states that tie bodies to decls.
private struct PartitionStreamReader {
    let elf: ELFFile
    let bytes: UnsafeRawBufferPointer
    let policy: LocationPolicy

    init(elf: ELFFile, bytes: UnsafeRawBufferPointer, policy: LocationPolicy) {
        self.elf = elf
        self.bytes = bytes
        self.policy = policy
    }

    func read(decompress: (UnsafeRawBufferPointer) -> [UInt8]?) throws(StreamReadError) -> CanonicalStreams {
        let declSections = elf.sections.filter { LTOSectionName($0.name)?.kind == .named("decls") }
        guard declSections.count == 1, let decls = elf.contents(of: declSections[0], in: bytes)
        else { throw StreamReadError("partition has \(declSections.count) .gnu.lto_.decls sections") }
        let declared = try DeclarationsSection(decls, policy: policy)
        var sections: [CanonicalStreamSection] = []
        for section in elf.sections {
            guard let name = LTOSectionName(section.name) else { continue }
            if name.kind == .named("decls") {
                sections.append(declared.canonical(name: name.normalized))
                continue
            }
            guard case .functionBody(let symbol, _) = name.kind else { continue }
            guard let state = declared.states[symbol] else { throw StreamReadError("no declaration state for the body of \(symbol)") }
            guard let raw = elf.contents(of: section, in: bytes) else { throw StreamReadError("section \(name.normalized) lies outside the file") }
            let contents: [UInt8]
            if state.compressed {
                guard let inflated = decompress(raw) else { throw StreamReadError("cannot decompress \(name.normalized)") }
                contents = inflated
            } else {
                contents = Array(raw)
            }
            let body = contents.withUnsafeBytes { b in
                Result { () throws(StreamReadError) in
                    try BodySection(b, symbol: symbol, declarationStream: state.streamLength, policy: policy).canonical(name: name.normalized)
                }
            }
            sections.append(try body.get())
        }
        return CanonicalStreams(policyName: policy.name, sections: sections)
    }
}

/// What a declaration state says of one body section.
struct DeclarationState {
    let streamLength: Int
    let compressed: Bool
}

/// Finishes a reader into the public per-section result.
extension StreamReader {
    func canonical(name: String) -> CanonicalStreamSection {
        var byFile: [String: AbstractedLocations] = [:]
        for (entry, n) in abstracted.enumerated() where n.declarations + n.statements > 0 { byFile[strings.fileName(entry)] = n }
        let digest = out.withUnsafeBytes { Digest.of($0) }
        var positionsByFile: [String: Digest] = [:]
        for (entry, list) in positions {
            positionsByFile[strings.fileName(entry)] = list.withUnsafeBytes { Digest.of($0) }
        }
        return CanonicalStreamSection(name: name, section: section, digest: digest, keptLocations: keptLocations, abstracted: byFile,
                                      positions: positionsByFile, lowestOptimizeLevel: lowestOptimizeLevel, sanitizerCalls: sanitizerCalls)
    }
}

/// `.gnu.lto_.decls` (lto_decl_header: main_size, string_size, decl_state_size, num_nodes;
/// then the declaration states, the main stream, the strings).
struct DeclarationsSection {
    let reader: StreamReader
    /// Per symbol (assembler name) of a body or initializer: its declaration state.
    let states: [String: DeclarationState]

    init(_ bytes: UnsafeRawBufferPointer, policy: LocationPolicy, recordingLocations: Bool = false) throws(StreamReadError) {
        let header = try sectionHeader(bytes, fields: 4, what: "declarations")
        let (main, strings, stateSize, nodes) = (header[0], header[1], header[2], header[3])
        guard nodes == -1, stateSize >= 4, main >= 0, strings >= 0, 16 + stateSize + main + strings == bytes.count
        else { throw StreamReadError("declarations header does not match the section size") }
        let mainStart = 16 + stateSize
        let table = try StringTable(bytes, from: mainStart + main, to: bytes.count)
        var reader = StreamReader(section: .declarations, policy: policy, input: LTOInput(bytes, from: mainStart, to: mainStart + main), strings: table)
        if recordingLocations { reader.locationBytes = [] }
        reader.out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[16..<mainStart]))
        do throws(StreamReadError) {
            try reader.globalTrees()
            try reader.checkStringsUsed()
        } catch {
            throw StreamReadError(".gnu.lto_.decls at \(reader.input.position - mainStart): \(error.reason)")
        }
        states = try reader.declarationStates(UnsafeRawBufferPointer(rebasing: bytes[16..<mainStart]))
        self.reader = reader
    }

    func canonical(name: String) -> CanonicalStreamSection { reader.canonical(name: name) }
}

/// A body or initializer section (lto_function_header: main_size, string_size, cfg_size;
/// then the CFG stream, the main stream, the strings).
struct BodySection {
    let reader: StreamReader

    init(_ bytes: UnsafeRawBufferPointer, symbol: String, declarationStream: Int, policy: LocationPolicy,
         recordingLocations: Bool = false) throws(StreamReadError) {
        let header = try sectionHeader(bytes, fields: 3, what: "body of \(symbol)")
        let (main, strings, cfg) = (header[0], header[1], header[2])
        guard main >= 0, strings >= 0, cfg >= 0, 12 + cfg + main + strings == bytes.count else { throw StreamReadError("body header of \(symbol) does not match the section size") }
        let mainStart = 12 + cfg
        let table = try StringTable(bytes, from: mainStart + main, to: bytes.count)
        let mainInput = LTOInput(bytes, from: mainStart, to: mainStart + main)
        var peek = mainInput
        let isFunction = try peek.uhwi() == UInt64(Tag.function)
        let section: StreamSection = isFunction ? .functionBody(symbol: symbol) : .variableInitializer(symbol: symbol)
        var reader = StreamReader(section: section, policy: policy, input: mainInput, strings: table)
        reader.globalLimit = declarationStream
        if recordingLocations { reader.locationBytes = [] }
        do throws(StreamReadError) {
            if isFunction {
                try reader.functionBody(cfg: LTOInput(bytes, from: 12, to: mainStart))
            } else {
                guard cfg == 0 else { throw StreamReadError("initializer with a CFG stream") }
                try reader.variableInitializer()
            }
            try reader.checkStringsUsed()
        } catch {
            throw StreamReadError("\(section) at \(reader.input.position): \(error.reason)")
        }
        self.reader = reader
    }

    func canonical(name: String) -> CanonicalStreamSection { reader.canonical(name: name) }
}

/// The leading int32 fields of a section header.
private func sectionHeader(_ bytes: UnsafeRawBufferPointer, fields: Int, what: String) throws(StreamReadError) -> [Int] {
    guard bytes.count >= 4 * fields else { throw StreamReadError("\(what) section shorter than its header") }
    return (0..<fields).map { i in
        Int(Int32(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
    }
}

extension StreamReader {
    /// The main stream of `.gnu.lto_.decls` (lto_read_decls): tree bundles and single trees.
    mutating func globalTrees() throws(StreamReadError) {
        while !input.atEnd {
            let t = try tag()
            if t == Tag.treeSCC || t == Tag.trees {
                try scc(shared: t == Tag.treeSCC)
                continue
            }
            guard t >= Tag.firstTree || t == Tag.integerCst else { throw StreamReadError("record tag \(t) at the top of the declarations") }
            let before = nodeCode.count
            _ = try tree(tag: t)
            guard nodeCode.count == before + 1 else { throw StreamReadError("a top-level tree brought others with it") }
        }
    }

    /// The declaration states (lto_output_decl_state_refs): a count, then per state the
    /// cache entry of its function or variable (times two, plus one when its body is
    /// compressed) and its declaration stream (a length and cache entries).
    func declarationStates(_ region: UnsafeRawBufferPointer) throws(StreamReadError) -> [String: DeclarationState] {
        let words = region.count / 4
        guard region.count % 4 == 0, words >= 1 else { throw StreamReadError("declaration states are not 32-bit words") }
        func word(_ i: Int) -> UInt32 { UInt32(littleEndian: region.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        let count = Int(word(0))
        var states: [String: DeclarationState] = [:]
        var i = 1
        for n in 0..<count {
            guard i + 1 < words else { throw StreamReadError("declaration states end early") }
            let reference = Int(word(i) / 2), compressed = word(i) & 1 == 1
            let length = Int(word(i + 1))
            guard reference < nodeCode.count, length <= words - i - 2 else { throw StreamReadError("declaration state \(n) out of range") }
            for k in 0..<length where Int(word(i + 2 + k)) >= nodeCode.count { throw StreamReadError("declaration state \(n) names tree \(word(i + 2 + k))") }
            let code = Int(nodeCode[reference])
            if n == 0 {
                guard code == TreeCode.voidType else { throw StreamReadError("first declaration state is not the global one") }
            } else {
                guard code == TreeCode.functionDecl || code == TreeCode.varDecl else { throw StreamReadError("declaration state \(n) belongs to a \(TreeCode.names[code])") }
                guard let symbol = assemblerName(reference) else { throw StreamReadError("declaration state \(n) has no assembler name") }
                guard states.updateValue(DeclarationState(streamLength: length, compressed: compressed), forKey: symbol) == nil
                else { throw StreamReadError("two declaration states for \(symbol)") }
            }
            i += 2 + length
        }
        guard i == words else { throw StreamReadError("declaration states do not fill their region") }
        return states
    }

    private func assemblerName(_ node: Int) -> String? {
        let name = Int(nodeAssemblerName[node])
        guard name >= 0, nodeCode[name] == TreeCode.identifierNode, nodeString[name] >= 0 else { return nil }
        return strings.string(Int(nodeString[name]))
    }
}
