// Test support for the stream reader: building programs with `gcc -flto
// -flto-partition=1to1 -save-temps` and reading every partition they leave, with
// zstd for the compressed body sections. A private copy of the temporary-directory
// helper of LTOObjectTests.
import CZstd
import Foundation
import LTOGCC
import LTOHash
import LTOObject
import Testing

struct StreamToolFailure: Error, CustomStringConvertible {
    let description: String
}

/// A temporary directory removed when the value is released.
final class StreamScratch: @unchecked Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ltogcc-streams-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws {
        let target = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: target, atomically: true, encoding: .utf8)
    }

    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name)))) }

    /// Runs `program` from PATH in this directory; throws with its stderr when it fails.
    func run(_ program: String, _ arguments: [String], in subdirectory: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        process.currentDirectoryURL = subdirectory.map { $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : url.appendingPathComponent($0) } ?? url
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw StreamToolFailure(description: "\(program) \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
    }

    /// Compiles `sources` (paths relative to `directory`) with `gcc -flto -c` and `flags`, links
    /// them with `-flto-partition=1to1 -save-temps` in the directory `output` (WPA streams its
    /// working directory with relative file names, so builds compared must link in the same
    /// one), and returns the partitions. With `recompiling`, only those sources are compiled
    /// again; the others keep the objects of the previous call.
    func partitions(sources: [String], in directory: String, flags: [String], linkFlags: [String] = [],
                    compiler: String = "gcc", output: String, recompiling: Set<String>? = nil) throws -> [Partition] {
        var objects: [String] = []
        for (i, source) in sources.enumerated() {
            let object = path("\(output)-obj\(i).o")
            if recompiling?.contains(source) ?? true { try run(compiler, flags + ["-flto", "-c", source, "-o", object], in: directory) }
            objects.append(object)
        }
        try FileManager.default.createDirectory(atPath: path(output), withIntermediateDirectories: true)
        try run(compiler, flags + ["-flto", "-flto-partition=1to1", "-save-temps", "-o", "app"] + objects + linkFlags, in: output)
        var result: [Partition] = []
        while FileManager.default.fileExists(atPath: path("\(output)/app.ltrans\(result.count).o")) {
            result.append(Partition(bytes: try bytes("\(output)/app.ltrans\(result.count).o")))
        }
        return result
    }
}

/// One WPA partition file.
struct Partition {
    let bytes: [UInt8]

    /// The canonical streams under `policy`, or why not (one zstd context for all sections).
    func streams(_ policy: LocationPolicy) -> Result<CanonicalStreams, StreamReadError> {
        guard let context = ZSTD_createDCtx() else { return .failure(StreamReadError("no zstd context")) }
        defer { ZSTD_freeDCtx(context) }
        return bytes.withUnsafeBytes { raw in
            guard let elf = try? ELFFile(bytes: raw, path: "<partition>") else { return .failure(StreamReadError("not ELF")) }
            return canonicalStreams(elf: elf, bytes: raw, policy: policy) { inflateZstd($0, context: context) }
        }
    }

    /// The symbols whose bodies or initializers the partition holds, sorted: a name for it.
    var key: String {
        bytes.withUnsafeBytes { raw in
            guard let elf = try? ELFFile(bytes: raw, path: "") else { return "" }
            return elf.sections.compactMap { section -> String? in
                guard case .functionBody(let symbol, _)? = LTOSectionName(section.name)?.kind else { return nil }
                return symbol
            }.sorted().joined(separator: ",")
        }
    }
}

/// Inflates one zstd frame whose header records its size (as GCC's compressor writes it),
/// with `context` when given.
func inflateZstd(_ data: UnsafeRawBufferPointer, context: OpaquePointer? = nil) -> [UInt8]? {
    guard let base = data.baseAddress else { return nil }
    let size = ZSTD_getFrameContentSize(base, data.count)
    guard size != ZSTD_CONTENTSIZE_UNKNOWN, size != ZSTD_CONTENTSIZE_ERROR, size < 1 << 31 else { return nil }
    var failed = false
    let out = [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, count in
        let written = context.map { ZSTD_decompressDCtx($0, buffer.baseAddress, Int(size), base, data.count) }
            ?? ZSTD_decompress(buffer.baseAddress, Int(size), base, data.count)
        failed = ZSTD_isError(written) != 0 || written != Int(size)
        count = failed ? 0 : Int(size)
    }
    return failed ? nil : out
}

/// Lua 5.4's sources for the tests (Tests/Fixtures/fetch-lua.sh).
enum LuaFixture {
    static var directory: String { ProcessInfo.processInfo.environment["LTOD_LUA_DIR"] ?? "/tmp/ltod-fixtures/lua54" }

    static func files() throws -> [String] {
        try String(contentsOfFile: directory + "/files.txt", encoding: .utf8).split(separator: "\n").map { "src/" + $0 }
    }
}
