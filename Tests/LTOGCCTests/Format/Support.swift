// LTOGCCTests: reading objects as the GCC backend does, looking at their function bodies,
// and running LTRANS on a partition the way lto-wrapper does.
@testable import LTOGCC
import LTOHash
import LTOObject
import LTOTestSupport
import Testing

/// Reads and summarizes the object file at `path`.
func readObject(path: String) throws -> ObjectSummary {
    let (bytes, identity) = try readFile(path: path)
    return try ObjectSummary(bytes: bytes, path: path, identity: identity)
}

/// Names of the sections of an object that hold function bodies, mapped to their digests.
func functionBodyDigests(_ summary: ObjectSummary) -> [String: String] {
    var result: [String: String] = [:]
    for entry in summary.sectionDigests {
        if case .functionBody(let symbol, _) = entry.kind {
            result[symbol] = entry.digest.description
        }
    }
    return result
}


/// The symbols `object` defines (`nm --defined-only`): sorted by name with the default "-p",
/// by increasing address with "-n".
func definedSymbols(_ object: [UInt8], in dir: TemporaryDirectory, sortedBy order: String = "-p") throws -> [String] {
    try dir.write("symbols.o", bytes: object)
    let out = try Shell.check(["nm", "--defined-only", order, "symbols.o"], cwd: dir.path).stdout
    let names = out.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
    return order == "-p" ? names.sorted() : names
}

/// An object file compared by its bytes; a failed expectation shows its size and digest.
struct ObjectFile: Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    var description: String { "\(bytes.count) bytes, digest \(Digest.of(bytes))" }
}

/// LTRANS on `partition` as lto-wrapper runs it for an -O2 link (docs/LTRANS-FACTS.md,
/// section 5): the options the objects were compiled with that it passes on (such as -g) come
/// before the link's own. Returns the object LTRANS writes.
func runLTRANS(_ partition: [UInt8], compileOptions: [String] = [], linkOptions: [String] = [],
               in dir: TemporaryDirectory, name: String) throws -> ObjectFile {
    try dir.write(name + ".ltrans0.o", bytes: partition)
    try dir.run("gcc", ["-xlto", "-c", "-fno-openmp", "-fno-openacc", "-fPIC", "-fcf-protection=none"] + compileOptions
                + ["-mtune=generic", "-march=x86-64", "-O2", "-O2"] + linkOptions
                + ["-flto-partition=1to1", "-dumpdir", name + ".", "-dumpbase", "./\(name).ltrans0.ltrans", "-fltrans",
                   "-o", name + ".out", name + ".ltrans0.o"])
    return ObjectFile(bytes: try dir.bytes(name + ".out"))
}

/// The symbol table of `partition`: where its stream lies in the file, and its records.
func symbolTable(of partition: [UInt8]) throws -> (stream: Range<Int>, records: [SymbolRecord]) {
    let elf = try ELFFile(bytes: partition, path: "partition")
    let table = try #require(elf.sections.first { $0.name.hasPrefix(".gnu.lto_.symbol_nodes") })
    let stream = (table.offset + 4)..<(table.offset + table.size)
    let records = try Array(partition[stream]).withUnsafeBytes { try SymbolTableStream(bytes: $0).records() }
    return (stream, records)
}

/// The main stream of the section named `prefix`: after a simple header (one int32, the main
/// stream's size) for the symbol table, `.refs` and `.reference`, else a function header (three
/// int32, the main stream's size first; docs/LTO-STREAMS.md, "Encoder indices").
func mainStream(of prefix: String, in elf: ELFFile, _ partition: [UInt8]) throws -> [UInt8] {
    let simpleHeader = [".gnu.lto_.symbol_nodes", ".gnu.lto_.refs", ".gnu.lto_.reference"].contains(prefix)
    let s = try #require(elf.sections.first { $0.name.hasPrefix(prefix) }, "no \(prefix) section")
    let contents = partition[s.offset..<(s.offset + s.size)]
    let size = contents.prefix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
    return Array(contents.dropFirst(simpleHeader ? 4 : 12).prefix(size))
}

/// Requires that each of `sections` holds no record: its main stream starts with a count of 0.
func requireNoRecords(in sections: [String], _ elf: ELFFile, _ partition: [UInt8]) throws {
    for section in sections {
        try #require(try mainStream(of: section, in: elf, partition).first == 0, "\(section) holds records")
    }
}
