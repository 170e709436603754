// Tests that try to make the stream reader accept what it should not: flipped bits,
// truncated and extended streams, and real edits of constants, statements and types.
import Foundation
import LTOHash
@testable import LTOGCC
import LTOGCCBackend
import LTOObject
import LTOTestSupport
import Testing

/// The decompressed tree and GIMPLE sections of one partition, with what ties them together.
struct PartitionSections {
    let decls: [UInt8]
    /// Bodies and initializers: symbol, contents (decompressed), declaration stream length.
    let bodies: [(symbol: String, bytes: [UInt8], globals: Int)]

    init(_ partition: Partition) throws {
        var decls: [UInt8] = []
        var raw: [(String, [UInt8])] = []
        try partition.bytes.withUnsafeBytes { all in
            let elf = try ELFFile(bytes: all, path: "<partition>")
            for section in elf.sections {
                guard let name = LTOSectionName(section.name), let contents = elf.contents(of: section, in: all) else { continue }
                if name.kind == .named("decls") { decls = Array(contents) }
                if case .functionBody(let symbol, _) = name.kind { raw.append((symbol, Array(contents))) }
            }
        }
        let states = try decls.withUnsafeBytes { try DeclarationsSection($0, policy: .exact).states }
        self.decls = decls
        bodies = try raw.map { symbol, bytes in
            let state = try #require(states[symbol])
            return (symbol, state.compressed ? try #require(bytes.withUnsafeBytes { ZstdInflater().inflate($0) }) : bytes, state.streamLength)
        }
    }

    /// The canonical digest of the declarations (`index` nil) or of body `index`, with the byte
    /// ranges holding locations; nil when the reader refuses the bytes.
    func read(_ bytes: [UInt8], index: Int?, policy: LocationPolicy) -> (digest: Digest, locations: [Range<Int>])? {
        bytes.withUnsafeBytes { b in
            if let index {
                let body = bodies[index]
                guard let s = try? BodySection(b, symbol: body.symbol, declarationStream: body.globals, policy: policy, recordingLocations: true)
                else { return nil }
                return (s.canonical(name: "").digest, s.reader.locationBytes ?? [])
            }
            guard let s = try? DeclarationsSection(b, policy: policy, recordingLocations: true) else { return nil }
            return (s.canonical(name: "").digest, s.reader.locationBytes ?? [])
        }
    }

    func bytes(_ index: Int?) -> [UInt8] { index.map { bodies[$0].bytes } ?? decls }
}

/// A small program with a static table, a constructor, a loop, a switch and a struct.
private func mutationProgram(constant: String = "7", statement: String = "x + 1", field: String = "int") -> [String: String] {
    [
        "a.c": """
            struct pair { \(field) left; int right; };
            static int table[8] = {1, 2, 3, 5, 8, 13, 21, \(constant)};
            int __attribute__((noinline)) first(int x) {
                struct pair p = { x, table[x & 7] };
                int sum = 0;
                for (int i = 0; i < x; i++) sum += table[i & 7] * p.right;
                switch (x) { case 1: return sum; case 2: return \(statement); default: return sum + (int)p.left; }
            }
            """,
        "b.c": """
            int first(int);
            int main(int argc, char **argv) { (void)argv; return first(argc) & 1; }
            """,
    ]
}

@Suite struct StreamMutationTests {
    private func build(_ sources: [String: String], flags: [String] = ["-O2", "-g"], in dir: TemporaryDirectory, as name: String) throws -> [Partition] {
        for (file, text) in sources { try dir.write("\(name)/\(file)", text) }
        return try dir.partitions(sources: sources.keys.sorted(), in: dir.file(name), flags: flags, output: name + "-out")
    }

    /// The partition holding `first`.
    private func firstPartition(_ partitions: [Partition]) throws -> Partition {
        try #require(partitions.first { $0.key.split(separator: ",").contains("first") })
    }

    @Test func flippedBitsChangeTheDigestOrFallBack() throws {
        let dir = try TemporaryDirectory("streams")
        let sections = try PartitionSections(firstPartition(build(mutationProgram(), in: dir, as: "p")))
        var rng = SeededRandom(seed: 0x5eed)
        var tried = 0, refused = 0, insideLocations = 0
        for index in [nil] + sections.bodies.indices.map(Optional.some) {
            let original = sections.bytes(index)
            let exact = try #require(sections.read(original, index: index, policy: .exact), "section \(index ?? -1) is read")
            let abstract = try #require(sections.read(original, index: index, policy: .abstractAll))
            for _ in 0..<(index == nil ? 700 : 200) {
                let bit = Int(rng.next() % UInt64(original.count * 8))
                var mutated = original
                mutated[bit / 8] ^= 1 << UInt8(bit % 8)
                tried += 1
                guard let e = sections.read(mutated, index: index, policy: .exact) else {
                    refused += 1
                    continue
                }
                #expect(e.digest != exact.digest, "flipping bit \(bit) of section \(index ?? -1) keeps the exact digest")
                let inLocation = abstract.locations.contains { $0.contains(bit / 8) }
                if inLocation { insideLocations += 1 }
                if let a = sections.read(mutated, index: index, policy: .abstractAll), a.digest == abstract.digest {
                    #expect(inLocation, "flipping bit \(bit) of section \(index ?? -1), outside every location, keeps the abstract digest")
                }
            }
        }
        FileHandle.standardError.write(Data("streams: \(tried) flips, \(refused) refused, \(insideLocations) accepted inside location words\n".utf8))
        #expect(refused > 0 && refused < tried)
    }

    @Test func truncatedAndExtendedStreamsFallBack() throws {
        let dir = try TemporaryDirectory("streams")
        let sections = try PartitionSections(firstPartition(build(mutationProgram(), in: dir, as: "p")))
        for index in [nil] + sections.bodies.indices.map(Optional.some) {
            let original = sections.bytes(index)
            #expect(sections.read(Array(original.dropLast()), index: index, policy: .exact) == nil, "whole section cut")
            #expect(sections.read(original + [0], index: index, policy: .exact) == nil, "whole section extended")
            // The main stream one byte shorter or longer, its size in the header adjusted.
            let mainEnd = (index == nil ? 16 + get32(original, 8) : 12 + get32(original, 8)) + get32(original, 0)
            for delta in [-1, 1] {
                var changed = original
                if delta < 0 { changed.remove(at: mainEnd - 1) } else { changed.insert(0, at: mainEnd) }
                put32(&changed, 0, get32(original, 0) + delta)
                #expect(sections.read(changed, index: index, policy: .exact) == nil, "main stream of section \(index ?? -1) \(delta < 0 ? "cut" : "extended")")
            }
        }
    }

    @Test func changedConstantStatementOrTypeChangesTheDigest() throws {
        let dir = try TemporaryDirectory("streams")
        let base = try build(mutationProgram(), in: dir, as: "base")
        let reference = try firstPartition(base).streams(.abstractAll).get()
        for (name, sources) in [("constant", mutationProgram(constant: "34")), ("statement", mutationProgram(statement: "x - 1")),
                                ("type", mutationProgram(field: "long"))] {
            let edited = try firstPartition(build(sources, in: dir, as: name)).streams(.abstractAll).get()
            #expect(edited.digest != reference.digest, "a changed \(name) keeps the abstract digest")
        }
    }
}

func get32(_ b: [UInt8], _ at: Int) -> Int { Int(Int32(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * $1) })) }
func put32(_ b: inout [UInt8], _ at: Int, _ v: Int) { for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
