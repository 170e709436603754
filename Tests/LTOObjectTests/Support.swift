// Test support: temporary directories, running gcc/ar, and a tiny ELF writer for
// hand-made malformed inputs.
import Foundation
import LTOObject
import Testing

struct ToolFailure: Error, CustomStringConvertible {
    let description: String
}

/// A temporary directory removed when the value is released.
final class TempDir: @unchecked Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ltoobject-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }

    func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    /// Runs a program found on PATH with `arguments` in this directory; throws with its
    /// stderr when it fails.
    @discardableResult
    func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        process.currentDirectoryURL = url
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: errors, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ToolFailure(description: "\(program) \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    /// Writes `source` to `name`.c and compiles it with `gcc -O2 -flto -c` plus `flags`.
    func compile(_ name: String, _ source: String, flags: [String] = [], output: String? = nil) throws -> String {
        try write("\(name).c", source)
        let object = output ?? "\(name).o"
        try run("gcc", ["-O2", "-flto", "-c"] + flags + ["\(name).c", "-o", object])
        return path(object)
    }
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

/// Builds minimal ELF64 little-endian relocatable files for malformed-input tests.
struct ELFWriter {
    struct Section {
        var name: String
        var type: UInt32 = 1
        var contents: [UInt8] = []
        var flags: UInt64 = 0
        var link: UInt32 = 0
        var offsetOverride: UInt64? = nil
        var sizeOverride: UInt64? = nil
    }

    var sections: [Section]
    var useExtendedCount = false
    var useExtendedNameIndex = false

    /// Layout: header, contents of each section, .shstrtab, then the section header table.
    func build() -> [UInt8] {
        var names: [UInt8] = [0]
        var nameOffsets: [UInt32] = []
        for s in sections + [Section(name: ".shstrtab", type: 3)] {
            nameOffsets.append(UInt32(names.count))
            names += Array(s.name.utf8) + [0]
        }
        var all = sections
        all.append(Section(name: ".shstrtab", type: 3, contents: names))
        var file = [UInt8](repeating: 0, count: 64)
        var offsets: [Int] = []
        for s in all {
            offsets.append(file.count)
            file += s.contents
        }
        while file.count % 8 != 0 { file.append(0) }
        let shoff = file.count
        let count = all.count + 1
        // Section 0.
        var null = [UInt8](repeating: 0, count: 64)
        if useExtendedCount { put64(&null, 32, UInt64(count)) }
        if useExtendedNameIndex { put32(&null, 40, UInt32(count - 1)) }
        file += null
        for (i, s) in all.enumerated() {
            var h = [UInt8](repeating: 0, count: 64)
            put32(&h, 0, nameOffsets[i])
            put32(&h, 4, s.type)
            put64(&h, 8, s.flags)
            put64(&h, 24, s.offsetOverride ?? UInt64(offsets[i]))
            put64(&h, 32, s.sizeOverride ?? UInt64(s.contents.count))
            put32(&h, 40, s.link)
            put64(&h, 48, 1)
            file += h
        }
        file.replaceSubrange(0..<4, with: [0x7f, 0x45, 0x4c, 0x46])
        file[4] = 2; file[5] = 1; file[6] = 1
        put16(&file, 16, 1)
        put16(&file, 18, 62)
        put32(&file, 20, 1)
        put64(&file, 40, UInt64(shoff))
        put16(&file, 52, 64)
        put16(&file, 58, 64)
        put16(&file, 60, useExtendedCount ? 0 : UInt16(count))
        put16(&file, 62, useExtendedNameIndex ? 0xffff : UInt16(count - 1))
        return file
    }
}

func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) { for i in 0..<2 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) { for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) { for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
func get16(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }
func get64(_ b: [UInt8], _ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }

/// Offset of section `index`'s header in an ELF64 file.
func sectionHeaderOffset(_ bytes: [UInt8], _ index: Int) -> Int { get64(bytes, 40) + index * 64 }

/// A small deterministic random generator (SplitMix64) for the mutation tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Expects `body` to throw an `ObjectError` of `kind` whose description contains `fragment`.
func expectError<T>(_ kind: ObjectError.Kind, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected an error containing \"\(fragment)\"", sourceLocation: sourceLocation)
    } catch let error as ObjectError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
