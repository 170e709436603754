// Tests of malformed input: clear errors for each kind of damage, and no crash on
// truncations and random mutations of real objects and archives.
import Foundation
import LTOTestSupport
import LTOGCC
import LTOObject
import Testing

/// Parses `bytes` every way the module can; returns whether any parse succeeded.
@discardableResult
func parseEverything(_ bytes: [UInt8]) -> Bool {
    let summary = try? ObjectSummary(bytes: bytes, path: "fuzz.o")
    _ = normalizedPartitionDigest(of: bytes)
    _ = try? Archive(bytes: bytes, path: "fuzz.a")
    return summary != nil
}

@Suite struct RobustnessTests {
    static let object: [UInt8] = {
        let dir = try! TemporaryDirectory()
        return try! dir.bytes(URL(fileURLWithPath: dir.compile("sym", symbolSource)).lastPathComponent)
    }()

    @Test func clearErrorsForDamagedHeaders() throws {
        let good = Self.object
        let path = "a.o"
        expectError(.wrongFormat, "a.o: not an ELF file") {
            try ELFFile(bytes: Array("garbage bytes, not an object".utf8), path: path)
        }
        expectError(.wrongFormat, "not an ELF file") { try ELFFile(bytes: [], path: path) }
        expectError(.truncated, "ELF identification is truncated") {
            try ELFFile(bytes: Array(good[..<10]), path: path)
        }
        expectError(.truncated, "ELF header is truncated (file is 40 bytes") {
            try ELFFile(bytes: Array(good[..<40]), path: path)
        }
        expectError(.truncated, "section header table") {
            try ELFFile(bytes: Array(good[..<(good.count - 100)]), path: path)
        }
        var elf32 = good
        elf32[4] = 1
        expectError(.unsupported, "32-bit ELF") { try ELFFile(bytes: elf32, path: path) }
        var bigEndian = good
        bigEndian[5] = 2
        expectError(.unsupported, "big-endian") { try ELFFile(bytes: bigEndian, path: path) }
    }

    @Test func clearErrorsForDamagedSections() throws {
        let good = Self.object
        let path = "a.o"
        var pastEnd = good
        put64(&pastEnd, sectionHeaderOffset(good, 5) + 24, 0xffff_ffff)
        expectError(.truncated, "a.o: section 5 extends past end of file (offset 0xffffffff size") {
            try ELFFile(bytes: pastEnd, path: path)
        }
        var hugeSize = good
        put64(&hugeSize, sectionHeaderOffset(good, 5) + 32, UInt64.max)
        expectError(.malformed, "section 5 has an out-of-range") {
            try ELFFile(bytes: hugeSize, path: path)
        }
        var hugeCount = good
        put16(&hugeCount, 60, 0xfffe)
        expectError(.truncated, "claims 65534 entries") { try ELFFile(bytes: hugeCount, path: path) }
        var hugeExtended = good
        put16(&hugeExtended, 60, 0)
        put64(&hugeExtended, sectionHeaderOffset(good, 0) + 32, 1 << 40)
        expectError(.truncated, "claims 1099511627776 entries") {
            try ELFFile(bytes: hugeExtended, path: path)
        }
        var badNameIndex = good
        put16(&badNameIndex, 62, 0xfff0)
        expectError(.malformed, "section name table index 65520 is out of range") {
            try ELFFile(bytes: badNameIndex, path: path)
        }
        var badName = good
        put32(&badName, sectionHeaderOffset(good, 3), 0x00ff_ffff)
        expectError(.malformed, "name offset 16777215 of section 3") {
            try ELFFile(bytes: badName, path: path)
        }
        var smallEntry = good
        put16(&smallEntry, 58, 40)
        expectError(.malformed, "e_shentsize=40") { try ELFFile(bytes: smallEntry, path: path) }
    }

    @Test func clearErrorsForDamagedLTOSections() throws {
        let elf = try ELFFile(bytes: Self.object, path: "a.o")
        let symtab = try #require(elf.sections.first { $0.name.hasPrefix(".gnu.lto_.symtab.") })
        var bytes = Self.object
        // Kind byte of the first entry: after "weak_def\0" (or whichever name) and an empty comdat.
        let nameEnd = try #require(bytes[symtab.offset...].firstIndex(of: 0))
        bytes[nameEnd + 2] = 9
        expectError(.malformed, "LTO symbol table entry 0 at offset 0 has invalid kind 9") {
            try ObjectSummary(bytes: bytes, path: "a.o")
        }
        expectError(.malformed, "is truncated") {
            try Array(Self.object[symtab.offset..<(symtab.offset + symtab.size - 1)]).withUnsafeBytes {
                _ = try LTOSymbol.decodeTable($0, path: "a.o")
            }
        }
        expectError(.malformed, "expected at least 8") {
            try [UInt8](repeating: 0, count: 5).withUnsafeBytes { _ = try LTOSectionHeader($0, path: "a.o") }
        }
    }

    @Test func fileErrors() throws {
        let dir = try TemporaryDirectory()
        expectError(.io, "missing.o: cannot open: No such file or directory") {
            try readObject(path: dir.file("missing.o"))
        }
        expectError(.io, "not a regular file") { try readObject(path: dir.path) }
        try Data(Self.object).write(to: URL(fileURLWithPath: dir.file("a.o")))
        expectError(.tooLarge, "more than the limit of 100") {
            try readFile(path: dir.file("a.o"), maxBytes: 100)
        }
        #expect(try readObject(path: dir.file("a.o")).symbols.count > 0)
    }

    @Test func everyTruncationIsHandled() {
        let good = Self.object
        var parsed = 0
        for length in 0..<good.count where parseEverything(Array(good[..<length])) {
            parsed += 1
        }
        // Section headers are at the end of `as` output, so no proper prefix parses.
        #expect(parsed == 0)
        #expect(parseEverything(good))
    }

    @Test func randomMutationsNeverCrash() throws {
        let good = Self.object
        let dir = try TemporaryDirectory()
        try ThreeFileProgram.makeArchive(in: dir)
        let archive = try dir.bytes("libx.a")
        var rng = SeededRandom(seed: 0x1234_5678)
        let shoff = get64(good, 40)
        for iteration in 0..<3000 {
            var bytes = iteration % 3 == 0 ? archive : good
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let where_: Int
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: where_ = Int.random(in: 0..<min(64, bytes.count), using: &rng)
                case 1 where iteration % 3 != 0: where_ = Int.random(in: shoff..<bytes.count, using: &rng)
                default: where_ = Int.random(in: 0..<bytes.count, using: &rng)
                }
                bytes[where_] = [0, 0xff, 0x7f, 0x80, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
            }
            if iteration % 7 == 0 { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
            parseEverything(bytes)
        }
    }
}
