// LTOGCC: the grammar of GCC 12's `.gnu.lto_.symbol_nodes` and `.gnu.lto_.asm`
// streams as WPA writes them into a partition, far enough to find every symbol's
// `order` number. Learnt from gcc/lto-cgraph.cc (lto_output_node,
// lto_output_varpool_node, lto_output_edge, output_symtab, output_profile_summary),
// gcc/data-streamer*.{h,cc} (LEB128 numbers and bit-packs), gcc/profile-count.cc,
// gcc/symtab-thunks.cc and gcc/lto-streamer-out.cc (lto_output_toplevel_asms).
//
// Written by hand: no library reads GCC's LTO bytecode, and this reads only the one
// stream that carries symbol numbers. Any doubt is a parse failure; the caller then
// keys the partition by its bytes.
import LTOObject

/// A number as it appears in a stream, where and its value: a symbol's `order`, or a
/// reference to a symbol by encoder index.
struct StreamField: Sendable {
    let range: Range<Int>
    let value: Int
}

/// Why a symbol-table stream could not be read.
enum SymbolStreamError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    /// More than one reading of the stream is valid (static constructor priorities are
    /// streamed only for functions whose declaration says so, which this reader cannot see).
    case ambiguous

    var description: String {
        switch self {
        case .malformed(let what): return "malformed symbol table: \(what)"
        case .ambiguous: return "symbol table admits more than one reading"
        }
    }
}

/// Reads GCC's LEB128 numbers and NUL-terminated strings from a stream, failing (nil)
/// instead of reading past its end.
struct StreamCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    init(_ bytes: UnsafeRawBufferPointer, at position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var atEnd: Bool { position == bytes.count }

    /// streamer_read_uhwi: unsigned LEB128, at most 10 bytes.
    mutating func unsigned() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count, shift < 70 {
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    /// streamer_read_hwi: signed LEB128, at most 10 bytes.
    mutating func signed() -> Int64? {
        var result: Int64 = 0
        var shift: Int64 = 0
        while position < bytes.count, shift < 70 {
            let byte = bytes[position]
            position += 1
            result |= Int64(byte & 0x7f) << shift
            shift += 7
            if byte & 0x80 == 0 {
                if shift < 64, byte & 0x40 != 0 { result |= -1 << shift }
                return result
            }
        }
        return nil
    }

    /// A reference to another symbol, -1 (none) or a non-negative index, and where it lies.
    mutating func reference() -> StreamField? {
        let start = position
        guard let value = signed(), value >= -1, value < Int64(Int32.max) else { return nil }
        return StreamField(range: start..<position, value: Int(value))
    }

    /// A NUL-terminated string (streamer_write_data_stream of strlen + 1 bytes); returns its length.
    mutating func cString() -> Int? {
        var i = position
        while i < bytes.count {
            if bytes[i] == 0 {
                defer { position = i + 1 }
                return i - position
            }
            i += 1
        }
        return nil
    }

    /// profile_count::stream_out: the count, then its quality (enum profile_quality, 0...7).
    mutating func profileCount() -> Bool {
        guard signed() != nil, let quality = unsigned(), quality <= 7 else { return false }
        return true
    }
}

/// Unpacks a GCC bit-pack (bp_unpack_value): 64-bit words streamed as unsigned LEB128,
/// values taken from the low bits up, a value that does not fit starting a new word.
/// Also checks that every bit the writer left unused is zero.
struct BitpackCursor {
    private var word: UInt64
    private var used = 0

    init?(_ stream: inout StreamCursor) {
        guard let word = stream.unsigned() else { return nil }
        self.word = word
    }

    mutating func take(_ bits: Int, _ stream: inout StreamCursor) -> UInt64? {
        let mask: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        if used + bits > 64 {
            guard isExhausted, let next = stream.unsigned() else { return nil }
            word = next
            used = bits
            return next & mask
        }
        defer { used += bits }
        return (word >> UInt64(used)) & mask
    }

    /// bp_unpack_var_len_unsigned: 3 value bits per 4-bit group, the fourth saying "more".
    mutating func varLenUnsigned(_ stream: inout StreamCursor) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while shift < 64 {
            guard let group = take(4, &stream) else { return nil }
            result |= (group & 7) << shift
            if group & 8 == 0 { return result }
            shift += 3
        }
        return nil
    }

    /// True when no bit above those taken from the current word is set.
    var isExhausted: Bool { used >= 64 || word >> UInt64(used) == 0 }
}

/// One record of a symbol-table stream on the only valid reading of it.
struct SymbolRecord: Sendable {
    enum Kind: Sendable { case function, variable, edge }
    let kind: Kind
    let order: StreamField?
    /// References to other nodes by encoder index (-1 for none): a function's `inlined_to`,
    /// a symbol's next in its comdat group.
    let references: [StreamField]
    /// For edges and clones: references that must point to nodes already read (a clone's
    /// origin; an edge's caller and callee).
    let backReferences: [StreamField]
    /// Where the record lies in the stream, its tag included.
    fileprivate(set) var range: Range<Int> = 0..<0
}

/// Reads a partition's `.gnu.lto_.symbol_nodes` main stream as GCC 12 writes it in WPA.
///
/// Each function record may end in up to two constructor/destructor priorities, present
/// only when the function's declaration (in another stream) is a static constructor or
/// destructor. The reader therefore considers every reading, keeps those that reach the
/// stream's terminator exactly at its end with every record well-formed, and accepts the
/// stream only when exactly one such reading exists.
struct SymbolTableStream {
    let bytes: UnsafeRawBufferPointer

    /// LTO_symtab_tags in lto-cgraph.cc.
    enum Tag: UInt64 {
        case end = 0, unavailableNode, analyzedNode, edge, indirectEdge, variable
    }

    /// Bits in a function node's bit-pack (lto_output_node), and the two fields read from it.
    static let functionBits = 41
    static let hasThunkBit = 35
    static let resolutionBit = 36
    /// LDPR_NUM_KNOWN values of ld_plugin_symbol_resolution, packed in 4 bits.
    static let resolutionCount: UInt64 = 10
    /// Bits in a variable node's bit-pack (lto_output_varpool_node).
    static let variableBits = 22
    /// Constructor and destructor priorities a reading accepts: the user's range (GCC reserves
    /// 0...100 for itself, and 65535 is the default). A priority below it only makes the
    /// stream unreadable, so its partition is keyed by bytes; in return a priority always
    /// starts with a byte of 0x80 or more, which no record tag does, so readings rarely branch.
    static let priorities: ClosedRange<Int64> = 101...65535
    /// CIF_N_REASONS in GCC 12 (cif-code.def), packed in 5 bits.
    static let inlineFailedReasons: UInt64 = 30

    /// The records of the stream's only valid reading.
    func records() throws(SymbolStreamError) -> [SymbolRecord] {
        var cursor = StreamCursor(bytes)
        guard let runs = cursor.unsigned() else { throw .malformed("no profile summary") }
        if runs > 0, cursor.signed() == nil { throw .malformed("truncated profile summary") }
        let records = try uniqueReading(from: cursor.position)
        try validate(records)
        return records
    }

    /// What can follow a record start: the terminator, or a record and where the next may start.
    private enum Step {
        case terminator
        case record(SymbolRecord, next: [Int])
        case invalid
    }

    /// Explores every reading from `start` and returns the records of the only complete one.
    private func uniqueReading(from start: Int) throws(SymbolStreamError) -> [SymbolRecord] {
        var steps: [Int: Step] = [:]
        var pending = [start]
        while let p = pending.popLast() {
            guard steps[p] == nil else { continue }
            let step = self.step(at: p)
            steps[p] = step
            if case .record(_, let next) = step { pending += next.filter { steps[$0] == nil } }
        }
        // Readings from each position that end at the terminator (capped at 2): records only move forward.
        var readings: [Int: Int] = [:]
        for p in steps.keys.sorted(by: >) {
            switch steps[p]! {
            case .terminator: readings[p] = 1
            case .invalid: readings[p] = 0
            case .record(_, let next): readings[p] = min(2, next.reduce(0) { $0 + (readings[$1] ?? 0) })
            }
        }
        switch readings[start] ?? 0 {
        case 0: throw .malformed("no reading reaches the terminator at the end")
        case 1: break
        default: throw .ambiguous
        }
        var records: [SymbolRecord] = []
        var p = start
        while case .record(var record, let next)? = steps[p] {
            guard let following = next.first(where: { readings[$0] == 1 }) else { break }
            record.range = p..<following
            records.append(record)
            p = following
        }
        return records
    }

    private func step(at position: Int) -> Step {
        // GCC writes a tag as one byte; anything else (an overlong encoding) is not a record start.
        guard position < bytes.count, bytes[position] < 0x80, let tag = Tag(rawValue: UInt64(bytes[position])) else { return .invalid }
        var cursor = StreamCursor(bytes, at: position + 1)
        switch tag {
        case .end: return cursor.atEnd ? .terminator : .invalid
        case .unavailableNode, .analyzedNode: return function(&cursor, analyzed: tag == .analyzedNode)
        case .variable: return variable(&cursor)
        case .edge, .indirectEdge: return edge(&cursor, indirect: tag == .indirectEdge)
        }
    }

    private func order(_ cursor: inout StreamCursor) -> StreamField? {
        let start = cursor.position
        guard let value = cursor.signed(), value >= 0, value < Int64(Int32.max) else { return nil }
        return StreamField(range: start..<cursor.position, value: Int(value))
    }

    /// lto_output_node.
    private func function(_ c: inout StreamCursor, analyzed: Bool) -> Step {
        guard let order = order(&c), let cloneOf = c.reference(), c.unsigned() != nil, c.profileCount(),
              c.signed() != nil, let transforms = c.signed(), transforms >= 0, transforms <= c.bytes.count - c.position
        else { return .invalid }
        for _ in 0..<transforms where c.signed() == nil { return .invalid }
        var references: [StreamField] = []
        if analyzed {
            guard let inlinedTo = c.reference() else { return .invalid }
            references.append(inlinedTo)
        }
        guard let comdat = c.cString() else { return .invalid }
        if comdat > 0 {
            guard let sameGroup = c.reference() else { return .invalid }
            references.append(sameGroup)
        }
        guard c.signed() != nil, var bits = BitpackCursor(&c), let flags = bits.take(Self.functionBits, &c), bits.isExhausted,
              (flags >> UInt64(Self.resolutionBit)) & 0xf < Self.resolutionCount,
              c.cString() != nil, c.signed() != nil, c.signed() != nil
        else { return .invalid }
        let hasThunk = (flags >> UInt64(Self.hasThunkBit)) & 1 == 1
        let record = SymbolRecord(kind: .function, order: order, references: references, backReferences: cloneOf.value >= 0 ? [cloneOf] : [])
        var ends: [Int] = []
        var tail = c
        for priorities in 0...2 {
            if priorities > 0 { guard let p = tail.signed(), Self.priorities.contains(p) else { break } }
            var afterThunk = tail
            if hasThunk, !Self.thunk(&afterThunk) { continue }
            ends.append(afterThunk.position)
        }
        return ends.isEmpty ? .invalid : .record(record, next: ends)
    }

    /// thunk_info::stream_out: a kind (1 + 2·this_adjusting + 4·virtual_offset_p), three offsets.
    private static func thunk(_ c: inout StreamCursor) -> Bool {
        guard let kind = c.unsigned(), kind & 1 == 1, kind <= 7 else { return false }
        return c.unsigned() != nil && c.unsigned() != nil && c.unsigned() != nil
    }

    /// lto_output_varpool_node.
    private func variable(_ c: inout StreamCursor) -> Step {
        guard let order = order(&c), c.unsigned() != nil, var bits = BitpackCursor(&c),
              bits.take(Self.variableBits, &c) != nil, bits.isExhausted, let comdat = c.cString()
        else { return .invalid }
        var references: [StreamField] = []
        if comdat > 0 {
            guard let sameGroup = c.reference() else { return .invalid }
            references.append(sameGroup)
        }
        guard c.cString() != nil, let resolution = c.unsigned(), resolution < Self.resolutionCount else { return .invalid }
        return .record(SymbolRecord(kind: .variable, order: order, references: references, backReferences: []), next: [c.position])
    }

    /// lto_output_edge.
    private func edge(_ c: inout StreamCursor, indirect: Bool) -> Step {
        guard let caller = c.reference(), caller.value >= 0 else { return .invalid }
        var nodes = [caller]
        if !indirect {
            guard let callee = c.reference(), callee.value >= 0 else { return .invalid }
            nodes.append(callee)
        }
        guard c.profileCount(), var bits = BitpackCursor(&c),
              let reason = bits.take(5, &c), reason < Self.inlineFailedReasons,
              bits.varLenUnsigned(&c) != nil, bits.take(16, &c) != nil, bits.take(5, &c) != nil
        else { return .invalid }
        if indirect { guard bits.take(6, &c) != nil, bits.take(16, &c) != nil else { return .invalid } }
        guard bits.isExhausted else { return .invalid }
        return .record(SymbolRecord(kind: .edge, order: nil, references: [], backReferences: nodes), next: [c.position])
    }

    /// Checks what only the whole reading can tell: nodes come before edges (as output_symtab
    /// writes them), references point at nodes, and no two symbols share an order.
    private func validate(_ records: [SymbolRecord]) throws(SymbolStreamError) {
        let nodes = records.prefix { $0.kind != .edge }.count
        guard records.dropFirst(nodes).allSatisfy({ $0.kind == .edge }) else { throw .malformed("a symbol after the edges") }
        var seen = Set<Int>()
        for (index, record) in records.enumerated() {
            let limit = min(index, nodes)
            guard record.backReferences.allSatisfy({ $0.value < limit }), record.references.allSatisfy({ $0.value < nodes })
            else { throw .malformed("record \(index) refers to a symbol that does not exist") }
            if let order = record.order, !seen.insert(order.value).inserted { throw .malformed("order \(order.value) appears twice") }
        }
    }
}

/// Reads a partition's `.gnu.lto_.asm` section (lto_output_toplevel_asms): a header of
/// main and string sizes, then pairs of a string reference and an order, ended by a null reference.
struct ToplevelAsmStream {
    let section: UnsafeRawBufferPointer

    /// The offset of the main stream in the section and the orders in it.
    func orders() throws(SymbolStreamError) -> (mainOffset: Int, mainSize: Int, fields: [StreamField]) {
        let reader = ByteReader(section)
        guard let main = reader.u32(0).map({ Int(Int32(bitPattern: $0)) }), let strings = reader.u32(4).map({ Int(Int32(bitPattern: $0)) }),
              main >= 0, strings >= 0, 8 + main + strings == section.count, let stream = reader.slice(8, main)
        else { throw .malformed("toplevel asm header") }
        var cursor = StreamCursor(stream)
        var fields: [StreamField] = []
        while true {
            guard let reference = cursor.unsigned() else { throw .malformed("toplevel asm stream") }
            if reference == 0 { break }
            let start = cursor.position
            guard let value = cursor.signed(), value >= 0, value < Int64(Int32.max) else { throw .malformed("toplevel asm order") }
            fields.append(StreamField(range: start..<cursor.position, value: Int(value)))
        }
        guard cursor.atEnd else { throw .malformed("toplevel asm stream continues after its end") }
        return (8, main, fields)
    }
}
