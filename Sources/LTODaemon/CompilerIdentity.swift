import Foundation
import LTOHash
import LTOObject
import LTOProcess
import Synchronization

/// Identifies the compiler behind a driver, for the cache key: the real driver, lto1, the
/// assembler and a specs file (path, size, mtime), and the driver's version, target and specs.
/// The driver is asked once per link (a few milliseconds), never trusted across links: a
/// new `as` earlier in PATH or a new specs file must change the next link's keys.
final class CompilerIdentity: Sendable {
    private let memo = Mutex<[String: Probe]>([:])

    private struct Probe: Sendable {
        let facts: [String]
        let tools: [String]
    }

    /// Facts for the driver at the absolute path `driver`, run in `directory` with `environment`
    /// and the `-B` options in `args`, within link session `session`.
    func facts(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> [String] {
        let real = URL(fileURLWithPath: driver).resolvingSymlinksInPath().path
        let prefixes = Self.prefixOptions(args)
        // PATH decides which assembler the driver runs (`-print-prog-name=as` answers a bare name).
        let memoKey = ([session, real, Self.stampText(real), directory] + prefixes
            + ["COMPILER_PATH", "GCC_EXEC_PREFIX", "PATH"].map { lookup($0, in: environment) ?? "-" }).joined(separator: "\u{1}")
        let probe = try memo.withLock { $0[memoKey] } ?? {
            let p = try Self.probe(driver: driver, environment: environment, prefixes: prefixes, directory: directory)
            memo.withLock { memo in
                // Sessions are short; keep the table small rather than tracking their ends here.
                if memo.count > 256 { memo.removeAll() }
                memo[memoKey] = p
            }
            return p
        }()
        // Tools are re-stat'ed every time: an in-place upgrade must miss.
        return ["driver", real, Self.stampText(real)] + probe.facts + probe.tools.flatMap { [$0, Self.stampText($0)] }
    }

    private static func probe(driver: String, environment: [String], prefixes: [String], directory: String) throws -> Probe {
        func ask(_ option: String) throws -> String {
            var cmd = Command(executable: driver, argv: [driver] + prefixes + [option], environment: environment, directory: directory)
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
        for option in ["-print-prog-name=lto1", "-print-prog-name=as"] {
            let named = try ask(option)
            let found = named.contains("/") ? (named.hasPrefix("/") ? named : directory + "/" + named)
                : DriverJob.locate(named, cwd: directory, path: lookup("PATH", in: environment))
            tools.append(URL(fileURLWithPath: found).resolvingSymlinksInPath().path)
        }
        // A specs file in GCC's directory, if there is one (the driver answers a bare name if not).
        let specsFile = try ask("-print-file-name=specs")
        if specsFile.hasPrefix("/") { tools.append(specsFile) }
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
