// LTOGCC: the reader state shared by every stream of one section of a WPA partition:
// the cursor, the bit-pack being unpacked, the string table, the tree cache (the
// reader_cache of lto_input_block's data_in: every tree read gets the next index),
// the location state, and the canonical output. The output is a self-delimiting
// re-encoding of everything read, in reading order: numbers of the streams are
// copied as their bytes (GCC's shortest LEB128), bit-pack fields as the LEB128 of
// their value (their widths follow from the grammar), strings as their length and
// contents (not their table offsets), locations as the policy says. Since the
// grammar is deterministic and every encoding is checked to be the one GCC writes,
// two sections with equal output differ at most in locations the policy abstracted.

/// LTO_tags (lto-streamer.h) for GCC 12.2 as Debian builds it: MAX_TREE_CODES is 370 there
/// (239 base codes, the end marker, and 130 codes of the C family, Ada, C++, D, Modula-2 and
/// Objective-C front ends), gimple.def has 43 codes.
enum Tag {
    static let null = 0, pickleReference = 1, globalStreamReference = 2, ssaNameReference = 3
    static let treeSCC = 4, trees = 5, integerCst = 6, firstTree = 7
    static let maxTreeCodes = 370
    static let gimpleCodes = 43
    static let firstGimple = firstTree + maxTreeCodes
    static let bb0 = firstGimple + gimpleCodes, bb1 = bb0 + 1, ehRegion = bb0 + 2, function = bb0 + 3
    static let ehTable = bb0 + 4, ertCleanup = bb0 + 5, ertTry = bb0 + 6, ertAllowedExceptions = bb0 + 7
    static let ertMustNotThrow = bb0 + 8, ehLandingPad = bb0 + 9, ehCatch = bb0 + 10
    static let count = bb0 + 11
}

/// A section's string table (lto_output_stream string_stream): a NUL byte, then entries
/// of a LEB128 length and that many bytes. References are the entry's offset plus one.
struct StringTable {
    let bytes: UnsafeRawBufferPointer
    let start: Int
    let end: Int
    /// Per offset from `start`: the index of the entry starting there, or -1.
    private(set) var entryAt: [Int32]
    /// Per entry: its first content byte (absolute) and length.
    private(set) var entries: [(start: Int, length: Int)] = []

    init(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) throws(StreamReadError) {
        self.bytes = bytes
        self.start = start
        self.end = end
        entryAt = Array(repeating: -1, count: end - start)
        guard end > start, bytes[start] == 0 else { throw StreamReadError("string table does not start with its NUL entry") }
        var input = LTOInput(bytes, from: start + 1, to: end)
        while !input.atEnd {
            let at = input.position
            let length = try input.uhwi()
            guard length <= UInt64(end - input.position) else { throw StreamReadError("string at \(at - start) runs past the string table") }
            entryAt[at - start] = Int32(entries.count)
            entries.append((input.position, Int(length)))
            input.position += Int(length)
        }
    }

    /// The entry a reference (offset + 1) names.
    func entry(reference: UInt64) throws(StreamReadError) -> Int {
        guard reference > 0, reference <= UInt64(end - start), entryAt[Int(reference) - 1] >= 0
        else { throw StreamReadError("string reference \(reference) does not name a string") }
        return Int(entryAt[Int(reference) - 1])
    }

    func contents(_ entry: Int) -> UnsafeRawBufferPointer {
        let e = entries[entry]
        return UnsafeRawBufferPointer(rebasing: bytes[e.start..<(e.start + e.length)])
    }

    func string(_ entry: Int) -> String { String(decoding: contents(entry), as: UTF8.self) }

    /// A source file's name for messages: without the terminating NUL GCC streams with it.
    func fileName(_ entry: Int) -> String { String(string(entry).prefix { $0 != "\0" }) }

    /// The bytes of an entry in the section: its length and contents.
    func entryBytes(_ entry: Int) -> Range<Int> {
        let e = entries[entry]
        var lengthStart = e.start - 1
        while lengthStart > start, entryAt[lengthStart - start] < 0 { lengthStart -= 1 }
        return lengthStart..<(e.start + e.length)
    }
}

/// A reference to a tree as the reader resolved it.
enum TreeValue: Equatable {
    case null
    /// A tree of the reader cache (its index).
    case node(Int)
    /// An entry of the function's declaration stream, or an SSA name.
    case global, ssaName
}

/// The reader of one section (see the file header).
struct StreamReader {
    let section: StreamSection
    let policy: LocationPolicy
    var input: LTOInput
    var bits = BitpackState()
    let strings: StringTable
    private(set) var stringUsed: [Bool]
    var out: [UInt8] = []

    /// The reader cache: tree code per entry; identifiers' string entries; assembler-name references.
    var nodeCode: [UInt16] = []
    var nodeString: [Int32] = []
    var nodeAssemblerName: [Int32] = []
    /// Entries of the declaration stream of the function (global references must be below it).
    var globalLimit = 0
    /// SSA names defined so far (nil before the SSA name table is read).
    var ssaDefined: [Bool]? = nil

    /// Trees being read inside one another (GCC streams few levels; a deep nest is not GCC's).
    var depth = 0
    static let maximumDepth = 200

    var location = LocationState()
    /// The BLOCK of the last location with block (nil: none yet, as GCC's void_node marker).
    var currentBlock: TreeValue? = nil
    var keptLocations = 0
    /// The lowest `optimize` level of the optimization nodes read (nil: none).
    var lowestOptimizeLevel: Int64? = nil
    /// Calls of the sanitizers' internal functions read (their expansion reads locations).
    var sanitizerCalls = 0
    /// When set (by tests), the byte ranges of every bit-pack word and string entry that holds
    /// part of a location.
    var locationBytes: [Range<Int>]? = nil
    /// Abstracted locations per string entry of their file.
    var abstracted: [AbstractedLocations]
    /// The positions of the abstracted locations, per string entry of their file.
    var positions: [Int: [UInt64]] = [:]
    /// The policy's decisions by `LocationRecord.slot`.
    var decisions: [LocationTreatment?] = Array(repeating: nil, count: LocationRecord.slotCount)

    init(section: StreamSection, policy: LocationPolicy, input: LTOInput, strings: StringTable) {
        self.section = section
        self.policy = policy
        self.input = input
        self.strings = strings
        let expected = Self.preloaded.count + (input.end - input.position) / 8
        nodeCode.reserveCapacity(expected)
        nodeCode.append(contentsOf: Self.preloaded)
        nodeString.reserveCapacity(expected)
        nodeString.append(contentsOf: repeatElement(-1, count: Self.preloaded.count))
        nodeAssemblerName = nodeString
        self.stringUsed = Array(repeating: false, count: strings.entries.count)
        self.abstracted = Array(repeating: AbstractedLocations(), count: strings.entries.count)
        out.reserveCapacity(input.end - input.position + 64)
    }

    /// The trees every cache starts with (tree-streamer.cc: preload_common_nodes), by code:
    /// 186 for GCC 12.2 on x86_64, listed by a compiler plugin that ran
    /// streamer_tree_cache_create in cc1 (every front end and lto1 preload as many).
    static let preloaded: [UInt16] = {
        let runs: [(Int, Int)] = [
            (TreeCode.integerType, 12), (TreeCode.errorMark, 6), (TreeCode.integerType, 4), (TreeCode.errorMark, 1),
            (TreeCode.integerType, 19), (TreeCode.voidCst, 1), (TreeCode.integerCst, 10), (TreeCode.identifierNode, 3),
            (TreeCode.realType, 9), (TreeCode.errorMark, 1), (TreeCode.complexType, 10), (TreeCode.errorMark, 1),
            (TreeCode.pointerType, 1), (TreeCode.realType, 1), (TreeCode.pointerType, 1), (TreeCode.realType, 1),
            (TreeCode.pointerType, 1), (TreeCode.realType, 1), (TreeCode.pointerType, 1), (TreeCode.integerType, 1),
            (TreeCode.voidType, 1), (TreeCode.pointerType, 1), (TreeCode.voidType, 1), (TreeCode.pointerType, 1),
            (TreeCode.voidType, 1), (TreeCode.integerType, 2), (TreeCode.arrayType, 1), (TreeCode.recordType, 1),
            (TreeCode.fieldDecl, 6), (TreeCode.pointerType, 1), (TreeCode.voidType, 1), (TreeCode.pointerType, 1),
            (TreeCode.voidType, 1), (TreeCode.pointerType, 1), (TreeCode.voidType, 1), (TreeCode.pointerType, 1),
            (TreeCode.voidType, 1), (TreeCode.pointerType, 1), (TreeCode.voidType, 1), (TreeCode.pointerType, 1),
            (TreeCode.voidType, 1), (TreeCode.integerType, 1), (TreeCode.realType, 3), (TreeCode.treeList, 1),
            (TreeCode.fixedPointType, 68), (TreeCode.errorMark, 1),
        ]
        return runs.flatMap { Array(repeating: UInt16($0.0), count: $0.1) }
    }()

    // MARK: Stream values

    mutating func emitRaw(from start: Int) {
        if input.position - start == 1 {
            out.append(input.bytes[start])
        } else {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.bytes[start..<input.position]))
        }
    }

    mutating func emit(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    mutating func u() throws(StreamReadError) -> UInt64 {
        let start = input.position
        let v = try input.uhwi()
        emitRaw(from: start)
        return v
    }

    mutating func s() throws(StreamReadError) -> Int64 {
        let start = input.position
        let v = try input.shwi()
        emitRaw(from: start)
        return v
    }

    mutating func byte() throws(StreamReadError) -> UInt8 {
        let b = try input.byte()
        out.append(b)
        return b
    }

    /// A value in 0..<limit written with streamer_write_enum / streamer_write_hwi_in_range.
    mutating func enumValue(_ limit: Int, _ what: String) throws(StreamReadError) -> Int {
        let v = try u()
        guard v < UInt64(limit) else { throw StreamReadError("\(what) \(v) out of range") }
        return Int(v)
    }

    /// streamer_read_record_start.
    mutating func tag() throws(StreamReadError) -> Int { try enumValue(Tag.count, "record tag") }

    /// A count of items each taking at least one byte of the stream.
    mutating func count(_ what: String) throws(StreamReadError) -> Int {
        let v = try u()
        guard v <= UInt64(input.end - input.position) else { throw StreamReadError("\(what) \(v) exceeds the stream") }
        return Int(v)
    }

    /// A signed count (streamer_write_hwi of a length), non-negative and within the stream.
    mutating func signedCount(_ what: String) throws(StreamReadError) -> Int {
        let v = try s()
        guard v >= 0, v <= Int64(input.end - input.position) else { throw StreamReadError("\(what) \(v) out of range") }
        return Int(v)
    }

    // MARK: Strings

    /// Emits a string token for `reference` (0: no string) and marks the entry used.
    @discardableResult
    mutating func string(reference: UInt64, nulTerminated: Bool, emitting: Bool = true) throws(StreamReadError) -> Int? {
        guard reference != 0 else {
            if emitting { emit(0) }
            return nil
        }
        let entry = try strings.entry(reference: reference)
        let contents = strings.contents(entry)
        if nulTerminated {
            guard let last = contents.last, last == 0 else { throw StreamReadError("string \(reference) is not NUL-terminated") }
        }
        stringUsed[entry] = true
        if emitting {
            emit(UInt64(contents.count) + 1)
            out.append(contentsOf: contents)
        }
        return entry
    }

    /// streamer_read_string / streamer_read_indexed_string: a string reference in the stream.
    @discardableResult
    mutating func streamString(nulTerminated: Bool) throws(StreamReadError) -> Int? {
        try string(reference: input.uhwi(), nulTerminated: nulTerminated)
    }

    /// Entries never referenced mean the table holds something this reader did not see.
    func checkStringsUsed() throws(StreamReadError) {
        if let unused = stringUsed.firstIndex(of: false) {
            throw StreamReadError("string table entry \"\(strings.string(unused).prefix(40))\" is never referenced")
        }
    }

    // MARK: Bit-packs

    /// streamer_read_bitpack.
    mutating func bitpackStart() throws(StreamReadError) {
        let start = input.position
        bits = BitpackState(word: try input.uhwi(), used: 0, wordStart: start)
    }

    /// bp_unpack_value without output.
    mutating func take(_ n: Int) throws(StreamReadError) -> UInt64 {
        let mask: UInt64 = n == 64 ? .max : (1 << UInt64(n)) - 1
        if bits.used + n > 64 {
            try checkWordRest()
            bits.wordStart = input.position
            bits.word = try input.uhwi()
            bits.used = n
            return bits.word & mask
        }
        let v = (bits.word >> UInt64(bits.used)) & mask
        bits.used += n
        return v
    }

    private func checkWordRest() throws(StreamReadError) {
        guard bits.used >= 64 || bits.word >> UInt64(bits.used) == 0 else {
            throw StreamReadError("bit-pack has nonzero unused bits before offset \(input.position)")
        }
    }

    /// A bit-pack field, emitted.
    @discardableResult
    mutating func field(_ n: Int) throws(StreamReadError) -> UInt64 {
        let v = try take(n)
        emit(v)
        return v
    }

    /// `n` one-bit fields, packed one by one (so they may straddle a word boundary), emitted
    /// together as one value.
    mutating func flags(_ n: Int) throws(StreamReadError) {
        var v: UInt64
        if bits.used + n <= 64 {
            v = (bits.word >> UInt64(bits.used)) & ((1 << UInt64(n)) - 1)
            bits.used += n
        } else {
            v = 0
            for i in 0..<n { v |= try take(1) << UInt64(i) }
        }
        emit(v)
    }

    /// A bit-pack field GCC always writes as zero.
    mutating func zero(_ n: Int, _ what: String) throws(StreamReadError) {
        guard try take(n) == 0 else { throw StreamReadError("\(what) is set") }
    }

    /// bp_unpack_int_in_range over 0..<limit (also bp_unpack_enum).
    @discardableResult
    mutating func enumField(_ limit: Int, _ what: String) throws(StreamReadError) -> Int {
        var width = 0
        while (limit - 1) >> width != 0 { width += 1 }
        let v = try field(max(width, 1))
        guard v < UInt64(limit) else { throw StreamReadError("\(what) \(v) out of range") }
        return Int(v)
    }

    func bitpackEnd() throws(StreamReadError) {
        try checkWordRest()
    }

    /// The 4-bit groups of a var-len value (3 value bits, the fourth saying "more").
    private mutating func groups() throws(StreamReadError) -> (value: UInt64, count: Int, high: UInt64) {
        var value: UInt64 = 0
        var count = 0
        while true {
            let g = try take(4)
            if count < 22 { value |= (g & 7) << UInt64(3 * count) }
            count += 1
            guard count <= 22 else { throw StreamReadError("var-len value too long") }
            if g & 8 == 0 { return (value, count, g & 7) }
        }
    }

    /// bp_unpack_var_len_unsigned, emitted; shortest form required.
    @discardableResult
    mutating func varLenUnsigned() throws(StreamReadError) -> UInt64 {
        let v = try varLenUnsignedSilent()
        emit(v)
        return v
    }

    mutating func varLenUnsignedSilent() throws(StreamReadError) -> UInt64 {
        let g = try groups()
        guard g.count == 1 || g.high != 0, g.count < 22 || g.high <= 1 else { throw StreamReadError("overlong var-len value") }
        return g.value
    }

    /// bp_unpack_var_len_int, emitted; shortest form required.
    @discardableResult
    mutating func varLenInt() throws(StreamReadError) -> Int64 {
        let g = try groups()
        let shift = 3 * g.count
        let v = shift >= 64 ? Int64(bitPattern: g.value) : (Int64(bitPattern: g.value) << (64 - shift)) >> (64 - shift)
        guard varLenIntGroups(v) == g.count else { throw StreamReadError("overlong var-len value") }
        emit(UInt64(bitPattern: v))
        return v
    }

    /// The raw groups of a var-len value whose signedness does not matter to the grammar, emitted.
    mutating func varLenRaw() throws(StreamReadError) {
        while true {
            let g = try take(4)
            out.append(UInt8(g))
            if g & 8 == 0 { return }
        }
    }

    /// bp_unpack_string: a var-len string reference inside the bit-pack.
    @discardableResult
    mutating func bitpackString(nulTerminated: Bool = true, emitting: Bool = true) throws(StreamReadError) -> Int? {
        try string(reference: varLenUnsignedSilent(), nulTerminated: nulTerminated, emitting: emitting)
    }
}

/// The number of groups bp_pack_var_len_int writes for `value`.
func varLenIntGroups(_ value: Int64) -> Int {
    var work = value
    var n = 0
    while true {
        let half = work & 7
        work >>= 3
        n += 1
        if (work == 0 && half & 4 == 0) || (work == -1 && half & 4 != 0) { return n }
    }
}
