import Foundation
import LTOHash
import LTOObject
import LTOProcess
import Synchronization

/// Identifies the compiler behind a driver name, for the cache key: the real driver,
/// lto1 and the assembler (path, size, mtime) and the driver's version and target.
/// The expensive part (asking the driver) is memoized per driver file and search options.
final class CompilerIdentity: Sendable {
    private let memo = Mutex<[String: Probe]>([:])

    private struct Probe: Sendable {
        let facts: [String]
        let tools: [String]
    }

    /// Facts for `driver` as run with `environment` and the driver's `-B` options in `args`.
    func facts(driver: String, environment: [String], args: [String]) throws -> [String] {
        let path = try resolveExecutable(driver, path: lookup("PATH", in: environment))
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let prefixes = Self.prefixOptions(args)
        // PATH decides which assembler the driver runs (`-print-prog-name=as` answers a bare name).
        let memoKey = ([real, Self.stampText(real)] + prefixes
            + ["COMPILER_PATH", "GCC_EXEC_PREFIX", "PATH"].map { lookup($0, in: environment) ?? "-" }).joined(separator: "\u{1}")
        let probe = try memo.withLock { $0[memoKey] } ?? {
            let p = try Self.probe(driver: path, environment: environment, prefixes: prefixes)
            memo.withLock { $0[memoKey] = p }
            return p
        }()
        // Tools are re-stat'ed every time: an in-place upgrade must miss.
        return ["driver", real, Self.stampText(real)] + probe.facts + probe.tools.flatMap { [$0, Self.stampText($0)] }
    }

    private static func probe(driver: String, environment: [String], prefixes: [String]) throws -> Probe {
        func ask(_ option: String) throws -> String {
            var cmd = Command(executable: driver, argv: [driver] + prefixes + [option], environment: environment)
            cmd.stdin = .null
            cmd.closeOtherDescriptors = true
            let (status, out) = try capture(cmd)
            guard status.succeeded else { throw BackendError.compilerProbe(driver, option) }
            return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let version = try ask("-dumpfullversion")
        let machine = try ask("-dumpmachine")
        // The specs (built in, or a specs file in GCC's directory) shape lto1's and as's options.
        let specs = Digest.of(try ask("-dumpspecs")).description
        var tools: [String] = []
        for tool in ["lto1", "as"] {
            let named = try ask("-print-prog-name=\(tool)")
            let found = (try? resolveExecutable(named, path: lookup("PATH", in: environment))) ?? named
            tools.append(URL(fileURLWithPath: found).resolvingSymlinksInPath().path)
        }
        return Probe(facts: ["version", version, "machine", machine, "specs", specs], tools: tools)
    }

    /// `-B` prefixes change which lto1 and as the driver runs.
    static func prefixOptions(_ args: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < args.count {
            if args[i] == "-B", i + 1 < args.count {
                out += ["-B", args[i + 1]]
                i += 2
                continue
            }
            if args[i].hasPrefix("-B") { out.append(args[i]) }
            i += 1
        }
        return out
    }

    static func stampText(_ path: String) -> String {
        guard let s = FileIdentity(path: path) else { return "missing" }
        return "\(s.size):\(s.modificationSeconds).\(s.modificationNanoseconds):\(s.inode)"
    }
}
