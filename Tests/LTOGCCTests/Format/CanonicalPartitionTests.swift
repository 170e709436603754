// Tests of the canonical partition digest on real WPA output (gcc -flto-partition=1to1 -save-temps):
// renumbering is forgiven, everything else is not, and malformed streams fall back.
import Foundation
import LTOTestSupport
import LTOHash
@testable import LTOGCC
import LTOObject
import Testing

/// Sources of a small program whose first file can gain or lose functions. They go at its
/// end, so that no declaration other files see moves to another line.
private func firstFile(extraFunctions: Int, constant: String = "7") -> String {
    var text = "static int twice(int x) { return 2 * x + \(constant); }\n"
    text += "int __attribute__((noinline)) first(int x) { return twice(x) ^ x; }\n"
    for i in 0..<extraFunctions { text += "int __attribute__((noinline)) extra\(i)(int x) { return x * \(i + 3); }\n" }
    return text
}

private let secondFile = """
    int first(int);
    static int table[16] = {1, 2, 3, 4};
    int __attribute__((noinline)) second(int x) { return first(x) + table[x & 15]; }
    __attribute__((constructor)) static void setup(void) { table[5] = 9; }
    """
private let thirdFile = """
    int second(int);
    __asm__(".section .comment\\n.string \\"third\\"\\n.previous");
    int __attribute__((noinline)) third(int x) { return second(x) - 1; }
    int main(int argc, char **argv) { (void)argv; return third(argc) & 1; }
    """

@Suite struct CanonicalPartitionTests {
    /// Links the three files and returns the partitions keyed by the bodies they hold.
    private func link(extraFunctions: Int, constant: String = "7", in dir: TemporaryDirectory) throws -> Partitions {
        let a = try dir.compile("a", firstFile(extraFunctions: extraFunctions, constant: constant))
        let b = try dir.compile("b", secondFile)
        let c = try dir.compile("c", thirdFile)
        return try Partitions(linkIn: dir, objects: [a, b, c])
    }

    private func canonical(_ bytes: [UInt8]) throws -> CanonicalPartition {
        try canonicalPartition(of: bytes).get()
    }

    @Test func renumberingIsForgivenAndOnlyRenumbering() throws {
        let dir = try TemporaryDirectory()
        let before = try link(extraFunctions: 0, in: dir)
        let after = try link(extraFunctions: 3, in: dir)
        let later = before.byContents.keys.filter { !$0.contains("first") }
        #expect(later.count >= 2, "expected partitions for the second and third files: \(before.byContents.keys.sorted())")
        for key in later {
            let old = try #require(before.byContents[key]), new = try #require(after.byContents[key])
            let c1 = try canonical(old.raw), c2 = try canonical(new.raw)
            #expect(normalizedPartitionDigest(of: old.raw) != normalizedPartitionDigest(of: new.raw), "\(key): renumbered, so its bytes differ")
            #expect(c1.orders != c2.orders, "\(key)")
            #expect(c1.digest == c2.digest, "\(key): only renumbered")
            #expect(old.ltransOutput == new.ltransOutput, "\(key): the premise, LTRANS output is the same")
        }
        // A changed constant in the first file changes its partition's canonical digest.
        let edited = try link(extraFunctions: 0, constant: "8", in: dir)
        let key = try #require(before.byContents.keys.first { $0.contains("first") })
        #expect(try canonical(try #require(before.byContents[key]).raw).digest
                != canonical(try #require(edited.byContents[key]).raw).digest)
    }

    @Test func everyPartitionOfLuaIsCanonicalized() throws {
        let lua = ProcessInfo.processInfo.environment["LTOD_LUA_DIR"] ?? "/tmp/ltod-fixtures/lua54"
        let files = try String(contentsOfFile: lua + "/files.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        let dir = try TemporaryDirectory()
        var objects: [String] = []
        for file in files {
            let object = dir.file(file.replacingOccurrences(of: ".c", with: ".o"))
            try dir.run("gcc", ["-O2", "-flto", "-std=c99", "-DLUA_USE_LINUX", "-c", lua + "/src/" + file, "-o", object])
            objects.append(object)
        }
        try dir.run("gcc", ["-O2", "-flto", "-flto-partition=1to1", "-save-temps", "-o", "app"] + objects + ["-lm", "-ldl"])
        var count = 0
        while FileManager.default.fileExists(atPath: dir.file("app.ltrans\(count).o")) {
            let bytes = try dir.bytes("app.ltrans\(count).o")
            #expect(throws: Never.self, "partition \(count)") { _ = try canonical(bytes) }
            count += 1
        }
        #expect(count >= 30)
    }

    /// Flipping any byte of the symbol table that is not an order number either changes the
    /// canonical digest or makes the partition fall back to its bytes; never the same digest.
    @Test func symbolTableMutationsNeverKeepTheDigest() throws {
        let dir = try TemporaryDirectory()
        let partitions = try link(extraFunctions: 2, in: dir)
        var tried = 0
        for (_, partition) in partitions.byContents {
            let base = try canonical(partition.raw)
            let elf = try ELFFile(bytes: partition.raw, path: "p.o")
            let table = try #require(elf.sections.first { $0.name.hasPrefix(".gnu.lto_.symbol_nodes.") })
            let orderBytes = try orderFieldOffsets(partition.raw, table: table)
            for offset in table.offset..<(table.offset + table.size) where !orderBytes.contains(offset) {
                for bit in [0, 3, 7] {
                    var mutated = partition.raw
                    mutated[offset] ^= UInt8(1 << bit)
                    if case .success(let c) = canonicalPartition(of: mutated) { #expect(c.digest != base.digest, "byte \(offset - table.offset)") }
                    tried += 1
                }
            }
            for cut in stride(from: 0, to: table.size, by: 3) where cut != table.size - 4 {
                var truncated = partition.raw
                put32(&truncated, table.offset, UInt32(cut))
                if case .success(let c) = canonicalPartition(of: truncated) { #expect(c.digest != base.digest) }
            }
        }
        #expect(tried > 300)
    }

    @Test func unknownVersionsFallBack() throws {
        let dir = try TemporaryDirectory()
        let partition = try #require(try link(extraFunctions: 0, in: dir).byContents.values.first).raw
        let elf = try ELFFile(bytes: partition, path: "p.o")
        let header = try #require(elf.sections.first { $0.name.hasPrefix(".gnu.lto_.lto.") })
        var newer = partition
        newer[header.offset] = 13
        #expect(throws: CanonicalizationFailure.unverifiedVersion(LTOVersion(major: 13, minor: 0))) { try canonicalPartition(of: newer).get() }
    }

    @Test func streamPrimitivesFollowGCC() {
        for value: Int64 in [0, 1, 63, 64, 127, 128, 8191, 8192, -1, -64, -65, Int64(Int32.max), Int64.min, Int64.max] {
            let encoded = signedLEB128(value)
            encoded.withUnsafeBytes { raw in
                var cursor = StreamCursor(raw)
                #expect(cursor.signed() == value, "\(value)")
                #expect(cursor.atEnd)
            }
        }
    }

    /// The byte offsets (in the file) of the order fields of a partition's symbol table.
    private func orderFieldOffsets(_ raw: [UInt8], table: ELFSection) throws -> Set<Int> {
        try raw.withUnsafeBytes { bytes in
            let stream = UnsafeRawBufferPointer(rebasing: bytes[(table.offset + 4)..<(table.offset + table.size)])
            let records = try SymbolTableStream(bytes: stream).records()
            return Set(records.compactMap(\.order).flatMap { $0.range.map { $0 + table.offset + 4 } })
        }
    }
}
