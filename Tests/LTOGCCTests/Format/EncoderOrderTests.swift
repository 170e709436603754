// LTRANS facts about the order in which WPA encodes a partition's symbols (docs/LTRANS-FACTS.md,
// section 8). Two symbol records of a real partition are exchanged so that the result is exactly
// what WPA writes when it encodes those two symbols the other way round (nothing refers to them
// by encoder index, and every per-symbol summary is the same for both), LTRANS runs on both
// partitions, and the objects are compared. The symbol order reaches the object: a cache key
// must keep it, except under the one condition tested last.
import Foundation
import LTOTestSupport
@testable import LTOGCC
import LTOObject
import Testing

/// Two functions that nothing in their file calls or refers to, with equal summaries.
private let functionsFile = """
    __attribute__((noinline)) int f1(int v) { return v * 3 + 1; }
    __attribute__((noinline)) int f2(int v) { return v * 5 + 2; }
    """
/// Two variables that nothing in their file refers to.
private let variablesFile = """
    int ga[4] = {1, 2, 3, 4};
    int gb[4] = {5, 6, 7, 8};
    """
private let mainFile = """
    int f1(int), f2(int);
    extern int ga[4], gb[4];
    int main(int c, char **v) { (void)v; return f1(c) + f2(c) + ga[c & 3] + gb[c & 2]; }
    """

/// Which pair of records a case exchanges: those of the partition that defines `symbols`.
struct EncoderSwapCase: Sendable, CustomTestStringConvertible {
    let symbols: [String]
    let kind: SymbolRecord.Kind
    var testDescription: String { symbols.joined(separator: "/") }

    static let all = [
        EncoderSwapCase(symbols: ["f1", "f2"], kind: .function),
        EncoderSwapCase(symbols: ["ga", "gb"], kind: .variable),
    ]
}

@Suite struct EncoderOrderTests {
    @Test(arguments: EncoderSwapCase.all)
    func exchangedRecordsExchangeTheSymbolsInTheObject(_ swap: EncoderSwapCase) throws {
        let run = try SwapRun(swap, options: [])
        #expect(run.original == run.saved, "control: LTRANS run again gives the object of the link")
        #expect(run.swapped != run.original, "the symbol order reaches the object")
        let before = try run.definitionOrder(of: run.original.bytes), after = try run.definitionOrder(of: run.swapped.bytes)
        #expect(before.count == 2 && after == Array(before.reversed()), "\(before) then \(after)")
    }

    /// With -fno-toplevel-reorder every symbol is output by increasing `order`
    /// (`output_in_order`), whatever the encoder order.
    @Test(arguments: EncoderSwapCase.all)
    func underNoToplevelReorderTheObjectStays(_ swap: EncoderSwapCase) throws {
        let run = try SwapRun(swap, options: ["-fno-toplevel-reorder"])
        #expect(run.original == run.saved, "control: LTRANS run again gives the object of the link")
        #expect(run.swapped == run.original)
    }
}

/// One case built, its partition's two records exchanged, and LTRANS run on both partitions.
private struct SwapRun {
    let dir: TemporaryDirectory
    let saved: ObjectFile
    let original: ObjectFile
    let swapped: ObjectFile

    init(_ swap: EncoderSwapCase, options: [String]) throws {
        let dir = try TemporaryDirectory()
        let objects = try [("f", functionsFile), ("v", variablesFile), ("m", mainFile)].map { try dir.compile($0.0, $0.1, flags: options) }
        let link = try SavedPartitions(linking: objects, in: dir.path, flags: ["-O2"] + options)
        let found = try link.partitions.filter { try definedSymbols($0.ltransOutput, in: dir) == swap.symbols }
        let partition = try #require(found.first, "no partition defines exactly \(swap.symbols)")
        let exchanged = try exchangingTheTwoRecords(of: partition.bytes, kind: swap.kind)
        self.dir = dir
        saved = ObjectFile(bytes: partition.ltransOutput)
        original = try runLTRANS(partition.bytes, linkOptions: options, in: dir, name: "original")
        swapped = try runLTRANS(exchanged, linkOptions: options, in: dir, name: "swapped")
    }

    /// The defined symbols of `object` by increasing address (`nm -n`).
    func definitionOrder(of object: [UInt8]) throws -> [String] {
        try definedSymbols(object, in: dir, sortedBy: "-n")
    }
}

/// `partition` with the two records of its symbol table exchanged, once `requireNoIndexReferences`
/// has checked that the result is what WPA writes for the other encoder order.
private func exchangingTheTwoRecords(of partition: [UInt8], kind: SymbolRecord.Kind) throws -> [UInt8] {
    let elf = try ELFFile(bytes: partition, path: "partition")
    try requireNoIndexReferences(elf, partition, kind: kind)
    let (range, records) = try symbolTable(of: partition)
    let stream = Array(partition[range])
    try #require(records.count == 2 && records.allSatisfy { $0.kind == kind && $0.references.allSatisfy { $0.value == -1 } && $0.backReferences.isEmpty },
                 "expected two records of \(kind) that refer to no symbol, and no edge")
    // The two records follow each other; the stream ends with a 0 tag.
    let first = records[0].range, second = records[1].range, end = stream.count - 1
    try #require(stream[end] == 0 && first.upperBound == second.lowerBound && second.upperBound == end)
    let exchanged = stream[..<first.lowerBound] + stream[second] + stream[first] + stream[end...]
    var result = partition
    result.replaceSubrange(range, with: exchanged)
    return result
}

/// Requires that no stream refers to the partition's symbols by encoder index except through
/// records that the other order writes identically: `.refs`, `.cgraphopt`, `.ipa_modref` and
/// `.reference` hold no record, and `.ipcp_trans` holds one empty record per function
/// (docs/LTO-STREAMS.md, "Encoder indices").
private func requireNoIndexReferences(_ elf: ELFFile, _ partition: [UInt8], kind: SymbolRecord.Kind) throws {
    try requireNoRecords(in: [".gnu.lto_.refs", ".gnu.lto_.reference", ".gnu.lto_.cgraphopt", ".gnu.lto_.ipa_modref"], elf, partition)
    let ipcp = try mainStream(of: ".gnu.lto_.ipcp_trans", in: elf, partition)
    try #require(ipcp == (kind == .function ? [2, 0, 0, 0, 0, 1, 0, 0, 0, 0] : [0, 0]), "ipcp_trans: \(ipcp)")
}
