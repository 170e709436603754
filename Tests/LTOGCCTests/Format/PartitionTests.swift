// Tests of the normalized digest of real WPA partition files (gcc -flto-partition=1to1 -save-temps).
import Foundation
import LTOTestSupport
import LTOHash
import LTOGCC
import LTOObject
import Testing

/// One link's partition files, keyed by the sorted function bodies each holds.
struct Partitions {
    /// body symbols (joined) -> (raw bytes, LTRANS output bytes)
    var byContents: [String: (raw: [UInt8], ltransOutput: [UInt8])] = [:]

    init(linkIn dir: TemporaryDirectory, objects: [String]) throws {
        // WPA rewrites an existing app.ltransN.o in place without truncating it: a file from an
        // earlier link whose random ID printed one digit longer would keep a stale tail.
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasPrefix("app.") {
            try FileManager.default.removeItem(atPath: dir.file(name))
        }
        try dir.run("gcc", ["-O2", "-flto", "-flto-partition=1to1", "-save-temps", "-o", "app"] + objects)
        var index = 0
        while FileManager.default.fileExists(atPath: dir.file("app.ltrans\(index).o")) {
            let raw = try dir.bytes("app.ltrans\(index).o")
            let elf = try ELFFile(bytes: raw, path: "app.ltrans\(index).o")
            let bodies = elf.sections.compactMap { s -> String? in
                guard let n = LTOSectionName(s.name), case .functionBody(let symbol, _) = n.kind else { return nil }
                return symbol
            }.sorted().joined(separator: ",")
            byContents[bodies] = (raw, try dir.bytes("app.ltrans\(index).ltrans.o"))
            index += 1
        }
    }
}

@Suite struct PartitionTests {
    @Test func normalizedDigestIgnoresOnlyTheRandomID() throws {
        let objects = try TemporaryDirectory()
        let main = try objects.compile("main", ThreeFileProgram.main)
        let helper = try objects.compile("helper", ThreeFileProgram.helper)
        let third = try objects.compile("third", ThreeFileProgram.third("0x55"))
        // Same directory each time: WPA output records its working directory.
        let linkDir = try TemporaryDirectory()
        let first = try Partitions(linkIn: linkDir, objects: [main, helper, third])
        let second = try Partitions(linkIn: linkDir, objects: [main, helper, third])
        #expect(Set(first.byContents.keys) == ["afun,main", "helper", "third"])
        #expect(Set(second.byContents.keys) == Set(first.byContents.keys))

        var digests: [String: Digest] = [:]
        for (key, one) in first.byContents {
            let two = try #require(second.byContents[key])
            #expect(one.raw != two.raw, "WPA should have picked a new random ID for \(key)")
            let d1 = try #require(normalizedPartitionDigest(of: one.raw), "\(key)")
            let d2 = try #require(normalizedPartitionDigest(of: two.raw), "\(key)")
            #expect(d1 == d2, "\(key)")
            // The premise of the cache: LTRANS output does not depend on the ID.
            #expect(one.ltransOutput == two.ltransOutput, "\(key)")
            digests[key] = d1
        }

        // An ID of another length (printed without leading zeros) gives the same digest.
        for (key, one) in first.byContents {
            let shorter = try rewriteID(one.raw, to: "abc")
            #expect(shorter.count < one.raw.count)
            #expect(normalizedPartitionDigest(of: shorter) == digests[key], "\(key)")
        }

        // WPA streams its working directory into the partitions: another directory, other digests.
        let elsewhere = try Partitions(linkIn: TemporaryDirectory(), objects: [main, helper, third])
        #expect(normalizedPartitionDigest(of: try #require(elsewhere.byContents["helper"]).raw) != digests["helper"])

        // Change one function body without changing its size: its partition's digest changes, and
        // every other partition's digest changes exactly when its bytes (ID aside) do. (Whether
        // GCC rewrites the others identically is GCC's business; the digest must follow the bytes.)
        let edited = try objects.compile("third", ThreeFileProgram.third("0x56"))
        let third2 = try Partitions(linkIn: linkDir, objects: [main, helper, edited])
        for (key, digest) in digests {
            let now = try #require(third2.byContents[key]).raw
            let before = try #require(first.byContents[key]).raw
            let sameApartFromID = try rewriteID(now, to: "abc") == rewriteID(before, to: "abc")
            if key == "third" { #expect(!sameApartFromID) }
            #expect((normalizedPartitionDigest(of: now) == digest) == sameApartFromID, "\(key)")
        }
    }

    @Test func anyOtherChangeChangesTheDigest() throws {
        let objects = try TemporaryDirectory()
        let partitions = try Partitions(linkIn: TemporaryDirectory(), objects: [
            try objects.compile("main", ThreeFileProgram.main), try objects.compile("helper", ThreeFileProgram.helper),
            try objects.compile("third", ThreeFileProgram.third("0x55")),
        ])
        let raw = try #require(partitions.byContents["afun,main"]).raw
        let base = try #require(normalizedPartitionDigest(of: raw))
        let elf = try ELFFile(bytes: raw, path: "p.o")
        let names = elf.sections[try #require(elf.sectionNameTableIndex)]
        let id = String(try #require(LTOSectionName(elf.sections[1].name)?.id), radix: 16)
        let body = try #require(elf.sections.first { $0.name.hasPrefix(".gnu.lto_main.") })

        // Rewriting the ID consistently (same length) is the one accepted difference.
        var renamed = raw
        var replacement = Array(id.utf8)
        replacement[0] = replacement[0] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        replaceAll(in: &renamed, range: names.offset..<(names.offset + names.size), Array(id.utf8), replacement)
        #expect(renamed != raw)
        #expect(normalizedPartitionDigest(of: renamed) == base)

        // One byte of a function body.
        var content = raw
        content[body.offset + body.size / 2] ^= 1
        #expect(normalizedPartitionDigest(of: content) != base)

        // One character of a name outside the suffix (".gnu.lto_main" -> ".gnu.lto_maim").
        var name = raw
        name[names.offset + Int(body.nameOffset) + ".gnu.lto_mai".utf8.count] = UInt8(ascii: "m")
        #expect(normalizedPartitionDigest(of: name) != base)

        // Section flags, alignment and the ELF header's flags.
        var flags = raw
        flags[sectionHeaderOffset(raw, body.index) + 8] ^= 2
        #expect(normalizedPartitionDigest(of: flags) != base)
        var align = raw
        align[sectionHeaderOffset(raw, body.index) + 48] = 16
        #expect(normalizedPartitionDigest(of: align) != base)
        var header = raw
        header[48] ^= 1
        #expect(normalizedPartitionDigest(of: header) != base)

        // Only one section's suffix changed: two IDs in one file is unusual, so no digest.
        var mixed = raw
        let at = names.offset + Int(body.nameOffset) + body.name.utf8.count - 1
        mixed[at] = mixed[at] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        #expect(normalizedPartitionDigest(of: mixed) == nil)

        // Padding between sections is hashed too.
        let gaps = paddingOffsets(elf)
        if let gap = gaps.first {
            var padded = raw
            padded[gap] = 0xff
            #expect(normalizedPartitionDigest(of: padded) != base)
        }

        // Overlapping sections.
        var overlap = raw
        put64(&overlap, sectionHeaderOffset(raw, body.index) + 24, UInt64(elf.sections[1].offset))
        #expect(normalizedPartitionDigest(of: overlap) == nil)

        // Truncated: not even parsed.
        #expect(normalizedPartitionDigest(of: Array(raw.dropLast())) == nil)
    }
}

/// Rewrites a GCC-written partition (section name table last in the file) so that every
/// `.gnu.lto_*` section carries the ID suffix `newID` instead of its own.
func rewriteID(_ raw: [UInt8], to newID: String) throws -> [UInt8] {
    let elf = try ELFFile(bytes: raw, path: "p.o")
    let tableIndex = try #require(elf.sectionNameTableIndex)
    let table = elf.sections[tableIndex]
    try #require(table.offset + table.size == raw.count, "name table must be last")
    var bytes = Array(raw[..<table.offset])
    var names: [UInt8] = [0]
    for section in elf.sections {
        var name = section.name
        if let parsed = LTOSectionName(name), parsed.id != nil { name = parsed.normalized + "." + newID }
        put32(&bytes, sectionHeaderOffset(raw, section.index), UInt32(section.index == 0 ? 0 : names.count))
        if section.index != 0 { names += Array(name.utf8) + [0] }
    }
    put64(&bytes, sectionHeaderOffset(raw, tableIndex) + 32, UInt64(names.count))
    return bytes + names
}

/// Replaces every occurrence of `pattern` inside `range` with `replacement` (same length).
func replaceAll(in bytes: inout [UInt8], range: Range<Int>, _ pattern: [UInt8], _ replacement: [UInt8]) {
    var i = range.lowerBound
    while i + pattern.count <= range.upperBound {
        if Array(bytes[i..<(i + pattern.count)]) == pattern {
            bytes.replaceSubrange(i..<(i + pattern.count), with: replacement)
            i += pattern.count
        } else {
            i += 1
        }
    }
}

/// File offsets not covered by the header, section header table or any section.
func paddingOffsets(_ elf: ELFFile) -> [Int] {
    var covered = [Bool](repeating: false, count: elf.fileSize)
    for i in 0..<64 { covered[i] = true }
    for i in elf.sectionHeaderOffset..<(elf.sectionHeaderOffset + elf.sections.count * 64) { covered[i] = true }
    for s in elf.sections where s.hasFileContents {
        for i in s.offset..<(s.offset + s.size) { covered[i] = true }
    }
    return covered.indices.filter { !covered[$0] }
}

/// WPA writes `-fltrans-output-list=<lto-wrapper's random temp file>` into every partition's
/// `.gnu.lto_.opts`; that value (and nothing else there) must not reach the digest.
@Suite struct PartitionOptionsTests {
    func replacing(_ from: String, with to: String, in bytes: [UInt8]) throws -> [UInt8] {
        let needle = Array(from.utf8), replacement = Array(to.utf8)
        try #require(needle.count == replacement.count)
        var out = bytes
        let start = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        out.replaceSubrange(start..<(start + needle.count), with: replacement)
        return out
    }

    @Test func outputListPathIsIgnoredButOtherOptionsCount() throws {
        let objects = try TemporaryDirectory()
        let partitions = try Partitions(linkIn: TemporaryDirectory(), objects: [
            try objects.compile("main", ThreeFileProgram.main), try objects.compile("helper", ThreeFileProgram.helper),
            try objects.compile("third", ThreeFileProgram.third("0x55")),
        ])
        let raw = try #require(partitions.byContents["helper"]).raw
        let digest = try #require(normalizedPartitionDigest(of: raw))
        // With -save-temps the list is ./app.ltrans.out; a real link names /tmp/ccXXXXXX.ltrans.out.
        let otherList = try replacing("-fltrans-output-list=./app.ltrans.out", with: "-fltrans-output-list=./zzz.ltrans.out", in: raw)
        #expect(normalizedPartitionDigest(of: otherList) == digest)
        let otherOption = try replacing("'-O2'", with: "'-O3'", in: raw)
        #expect(normalizedPartitionDigest(of: otherOption) != digest)
        let unterminated = try replacing("app.ltrans.out'", with: "app.ltrans.outx", in: raw)
        #expect(normalizedPartitionDigest(of: unterminated) == nil)
    }
}
