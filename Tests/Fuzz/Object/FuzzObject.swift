// fuzz-object: the ELF, archive and `.gnu.lto_*` readers under arbitrary bytes.
//
// Built with `swift build -sanitize=fuzzer -Xswiftc -DFUZZING --product fuzz-object`, libFuzzer
// calls `LLVMFuzzerTestOneInput` (see Tests/fuzz). Built normally, the same target is a
// replay tool: `fuzz-object FILE...` runs each file through the same code.
#if canImport(Glibc)
import Glibc
#endif
import LTOGCC
import LTOObject

/// Parses one input every way the daemon parses link inputs and LTRANS partitions.
func exercise(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        _ = try? ObjectSummary(bytes: raw, path: "fuzz.o")
        _ = normalizedPartitionDigest(of: raw)
        if let archive = try? Archive(bytes: raw, path: "fuzz.a") {
            for member in archive.members.prefix(64) { _ = archive.member(atDataOffset: member.dataOffset) }
        }
        guard let elf = try? ELFFile(bytes: raw, path: "fuzz.o") else { return }
        _ = ltoSectionDigests(of: elf, in: raw)
        for section in elf.sections.prefix(256) {
            guard let contents = elf.contents(of: section, in: raw) else { continue }
            _ = LTOSectionName(section.name)
            _ = try? LTOSectionHeader(contents, path: "fuzz.o")
            _ = try? LTOSymbol.decodeTable(contents, path: "fuzz.o")
            _ = try? LTOSymbol.decodeExtensionTable(contents, path: "fuzz.o")
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    exercise(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
@main
struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let (bytes, _) = try? readFile(path: path) else {
                print("fuzz-object: cannot read \(path)")
                exit(1)
            }
            exercise(bytes)
        }
        print("fuzz-object: \(CommandLine.arguments.count - 1) inputs replayed")
    }
}
#endif
