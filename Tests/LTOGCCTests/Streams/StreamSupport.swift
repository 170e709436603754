// Test support for the stream reader: building programs with `gcc -flto
// -flto-partition=1to1 -save-temps` and reading every partition they leave, with
// zstd for the compressed body sections.
import Foundation
import LTOGCC
import LTOGCCBackend
import LTOHash
import LTOObject
import LTOTestSupport
import Testing

extension TemporaryDirectory {
    /// Compiles `sources` (paths relative to `directory`) with `gcc -flto -c` and `flags`, links
    /// them with `-flto-partition=1to1 -save-temps` in the directory `output` (WPA streams its
    /// working directory with relative file names, so builds compared must link in the same
    /// one), and returns the partitions. With `recompiling`, only those sources are compiled
    /// again; the others keep the objects of the previous call.
    func partitions(sources: [String], in directory: String, flags: [String], linkFlags: [String] = [],
                    compiler: String = "gcc", output: String, recompiling: Set<String>? = nil) throws -> [Partition] {
        var objects: [String] = []
        for (i, source) in sources.enumerated() {
            let object = file("\(output)-obj\(i).o")
            if recompiling?.contains(source) ?? true {
                try Shell.check([compiler] + flags + ["-flto", "-c", source, "-o", object], cwd: directory)
            }
            objects.append(object)
        }
        let linkDirectory = try sub(output)
        // WPA rewrites an existing app.ltransN.o in place without truncating it, which would
        // leave a stale tail (padding bytes) from an earlier link.
        for name in try FileManager.default.contentsOfDirectory(atPath: linkDirectory) where name.hasPrefix("app.") {
            try FileManager.default.removeItem(atPath: linkDirectory + "/" + name)
        }
        try Shell.check([compiler] + flags + ["-flto", "-flto-partition=1to1", "-save-temps", "-o", "app"] + objects + linkFlags, cwd: linkDirectory)
        var result: [Partition] = []
        while FileManager.default.fileExists(atPath: file("\(output)/app.ltrans\(result.count).o")) {
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
        let inflater = ZstdInflater()
        return bytes.withUnsafeBytes { raw in
            guard let elf = try? ELFFile(bytes: raw, path: "<partition>") else { return .failure(StreamReadError("not ELF")) }
            return canonicalStreams(elf: elf, bytes: raw, policy: policy, decompress: inflater.inflate)
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
