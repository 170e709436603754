// LTRANS facts about the order of a partition's inline clones (docs/LTRANS-FACTS.md,
// section 9). Two inline-clone records of a real partition are exchanged, every reference to
// them renumbered, and LTRANS runs on both partitions. Clones inlined into two different
// functions decide which of those functions the back end emits first; two clones inlined into
// the same function at two call sites do not reach the object.
import LTOTestSupport
@testable import LTOGCC
import LTOObject
import Testing

/// The callee whose inline clones the cases exchange; `hook` keeps its offline copy, so every
/// clone is a clone of that one node.
private let calleeFile = "int h(int v) { return v * 7 + 3; }"
/// `f` and `g` inline `h` once each, `s` twice; `run`, called from another partition, is the
/// only function the back end's first walk starts from, so `f`, `g` and `s` are reached from
/// their inline clones (docs/LTRANS-FACTS.md, section 9).
private let callerFile = """
    int h(int);
    static __attribute__((noinline)) int f(int v) { return h(v) + 1; }
    static __attribute__((noinline)) int g(int v) { return h(v ^ 5) + 2; }
    static __attribute__((noinline)) int s(int v) { return h(v) * h(v + 9); }
    __attribute__((noinline)) int run(int v) { return f(v) ^ g(v + 1) ^ s(v); }
    """
private let mainFile = """
    int run(int), h(int);
    int (*volatile hook)(int) = h;
    int main(int c, char **v) { (void)v; return run(c) + hook(c); }
    """

@Suite struct InlineCloneOrderTests {
    /// Exchanging the clone inlined into `f` with the one inlined into `g` exchanges `f` and
    /// `g` in `.text`: the clone met first in the symbol list leads the back end's second walk
    /// to its function first (`ipa_reverse_postorder`).
    @Test func clonesInlinedIntoDifferentFunctionsReachTheObject() throws {
        let run = try CloneSwapRun(options: [], pickingClonesOf: .twoFunctionsWithOneCloneEach)
        #expect(run.original == run.saved, "control: LTRANS run again gives the object of the link")
        #expect(run.swapped != run.original, "the order of clones of different functions reaches the object")
        let before = try run.definitionOrder(of: run.original.bytes), after = try run.definitionOrder(of: run.swapped.bytes)
        let exchanged = before.map { $0 == "f" ? "g" : $0 == "g" ? "f" : $0 }
        #expect(before.contains("f") && before.contains("g") && after == exchanged, "\(before) then \(after)")
    }

    /// Exchanging the two clones inlined into `s` gives the same object, with and without
    /// debug information.
    @Test(arguments: [[], ["-g"]])
    func clonesInlinedIntoOneFunctionDoNotReachTheObject(_ options: [String]) throws {
        let run = try CloneSwapRun(options: options, pickingClonesOf: .oneFunctionWithTwoClones)
        #expect(run.original == run.saved, "control: LTRANS run again gives the object of the link")
        #expect(run.exchangedPartition != run.originalPartition, "the partition changed")
        #expect(run.swapped == run.original)
    }
}

/// The program built and linked, two inline clones of its caller file's partition exchanged,
/// and LTRANS run on both partitions.
private struct CloneSwapRun {
    enum Pick { case twoFunctionsWithOneCloneEach, oneFunctionWithTwoClones }

    let dir: TemporaryDirectory
    let saved: ObjectFile
    let originalPartition: ObjectFile
    let exchangedPartition: ObjectFile
    let original: ObjectFile
    let swapped: ObjectFile

    init(options: [String], pickingClonesOf pick: Pick) throws {
        let dir = try TemporaryDirectory()
        let objects = try [("h", calleeFile), ("a", callerFile), ("m", mainFile)].map { try dir.compile($0.0, $0.1, flags: options) }
        let link = try SavedPartitions(linking: objects, in: dir.path, flags: ["-O2"] + options)
        let found = try link.partitions.filter { try definedSymbols($0.ltransOutput, in: dir) == ["f", "g", "run", "s"] }
        let partition = try #require(found.first, "no partition defines exactly f, g, run and s")
        let clones = try Self.pick(pick, from: inlineClones(of: partition.bytes))
        let rewritten = ObjectFile(bytes: try exchangingInlineClones(clones.0, clones.0, of: partition.bytes))
        try #require(rewritten == ObjectFile(bytes: partition.bytes), "rewriting with nothing exchanged reproduces the partition")
        self.dir = dir
        saved = ObjectFile(bytes: partition.ltransOutput)
        originalPartition = ObjectFile(bytes: partition.bytes)
        exchangedPartition = ObjectFile(bytes: try exchangingInlineClones(clones.0, clones.1, of: partition.bytes))
        original = try runLTRANS(partition.bytes, compileOptions: options, linkOptions: options, in: dir, name: "original")
        swapped = try runLTRANS(exchangedPartition.bytes, compileOptions: options, linkOptions: options, in: dir, name: "swapped")
    }

    /// Two clones: of two functions that have one each, or the two of the function that has two.
    private static func pick(_ pick: Pick, from clones: [Int: [Int]]) throws -> (Int, Int) {
        let wanted = pick == .twoFunctionsWithOneCloneEach ? 1 : 2
        let groups = clones.values.filter { $0.count == wanted }.sorted { $0[0] < $1[0] }
        try #require(clones.count == 3 && groups.count == (wanted == 1 ? 2 : 1), "inline clones by function: \(clones)")
        return wanted == 1 ? (groups[0][0], groups[1][0]) : (groups[0][0], groups[0][1])
    }

    /// The defined symbols of `object` by increasing address (`nm -n`).
    func definitionOrder(of object: [UInt8]) throws -> [String] {
        try definedSymbols(object, in: dir, sortedBy: "-n")
    }
}

/// The partition's inline clones by the node they are inlined into (`inlined_to`), as encoder
/// indices. Only analyzed function records (tag 2) carry `inlined_to`, as their first reference.
private func inlineClones(of partition: [UInt8]) throws -> [Int: [Int]] {
    let (range, records) = try symbolTable(of: partition)
    let nodes = records.filter { $0.kind != .edge }
    var clones: [Int: [Int]] = [:]
    for (index, node) in nodes.enumerated() where partition[range.lowerBound + node.range.lowerBound] == 2 {
        if let inlinedTo = node.references.first?.value, inlinedTo >= 0 { clones[inlinedTo, default: []].append(index) }
    }
    return clones
}

/// `partition` with node records `a` and `b` exchanged and every reference to either renumbered,
/// once `requireEmptySummaries` has checked that no other stream tells them apart: the result is
/// what WPA writes when it encodes the two clones the other way round.
private func exchangingInlineClones(_ a: Int, _ b: Int, of partition: [UInt8]) throws -> [UInt8] {
    try requireEmptySummaries(partition, for: [a, b])
    let (range, records) = try symbolTable(of: partition)
    let stream = Array(partition[range])
    let nodes = records.prefix { $0.kind != .edge }.count
    try #require(records.dropFirst(nodes).allSatisfy { $0.backReferences[0].value != a && $0.backReferences[0].value != b },
                 "an exchanged clone has edges of its own")
    let renumber = { (index: Int) in index == a ? b : index == b ? a : index }
    var order = Array(records.indices)
    order.swapAt(a, b)
    var exchanged = Array(stream[..<records[0].range.lowerBound])
    for index in order { exchanged += rewriting(records[index], in: stream, renumber) }
    exchanged += stream[records[records.count - 1].range.upperBound...]
    try #require(exchanged.count == stream.count, "renumbering changed the stream's length")
    var result = partition
    result.replaceSubrange(range, with: exchanged)
    return result
}

/// The bytes of `record` with every reference to a node renumbered.
private func rewriting(_ record: SymbolRecord, in stream: [UInt8], _ renumber: (Int) -> Int) -> [UInt8] {
    var out: [UInt8] = []
    var position = record.range.lowerBound
    for field in (record.references + record.backReferences).sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
        out += stream[position..<field.range.lowerBound]
        out += signedLEB128(Int64(field.value < 0 ? field.value : renumber(field.value)))
        position = field.range.upperBound
    }
    return out + stream[position..<record.range.upperBound]
}

/// Requires that no stream but the symbol table can tell the nodes `clones` apart: `.refs`,
/// `.reference` and `.ipa_modref` hold no record, and every record of `.cgraphopt` and
/// `.ipcp_trans` is empty (an index, then zero counts), `clones` having one in each
/// (docs/LTO-STREAMS.md, "Encoder indices").
private func requireEmptySummaries(_ partition: [UInt8], for clones: [Int]) throws {
    let elf = try ELFFile(bytes: partition, path: "partition")
    try requireNoRecords(in: [".gnu.lto_.refs", ".gnu.lto_.reference", ".gnu.lto_.ipa_modref"], elf, partition)
    for (section, zeros, terminator) in [(".gnu.lto_.cgraphopt", 2, false), (".gnu.lto_.ipcp_trans", 3, true)] {
        let main = try mainStream(of: section, in: elf, partition)
        let count = Int(main.first ?? 0)
        let records = main.dropFirst().prefix(count * (1 + zeros))
        let indices = stride(from: records.startIndex, to: records.endIndex, by: 1 + zeros).map { Int(records[$0]) }
        let empty: [UInt8] = Array(repeating: 0, count: zeros)
        let expected: [UInt8] = [UInt8(count)] + indices.flatMap { [UInt8($0)] + empty } + (terminator ? [0] : [])
        try #require(count < 128 && main == expected && Set(clones).isSubset(of: indices), "\(section): \(main)")
    }
}
