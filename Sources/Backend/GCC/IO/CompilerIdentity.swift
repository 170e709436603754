// LTOGCCBackend: the compiler's identity, for the cache key.
import LTOBackend
import LTOGCC
import LTOHash
import LTOSystem
import Synchronization

/// Why the compiler behind a driver could not be identified.
enum CompilerProbeError: Error, CustomStringConvertible {
    case failed(driver: String, option: String)

    var description: String {
        switch self {
        case let .failed(driver, option): return "\(driver) \(option) failed; is this a working GCC driver?"
        }
    }
}

/// Identifies the compiler behind a driver, for the cache key: the real driver, lto1, the
/// assembler and a specs file (path, size, mtime), and the driver's version, target and specs.
/// The driver is asked once per link (a few milliseconds), never trusted across links: a
/// new `as` earlier in PATH or a new specs file must change the next link's keys.
final class CompilerIdentity: Sendable {
    /// Probes are per link (the session is in the key), so only the most recent are worth keeping.
    private let memo = Mutex(RecentlyUsed<String, Probe>(capacity: 256))

    private struct Probe: Sendable {
        let facts: [String]
        let tools: [String]
    }

    /// Facts for the driver at the absolute path `driver`, run in `directory` with `environment`
    /// and the `-B` options in `args`, within link session `session`.
    func facts(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> [String] {
        let real = realPath(driver) ?? driver
        let prefixes = DriverOptions.prefixes(args)
        // PATH decides which assembler the driver runs (`-print-prog-name=as` answers a bare name).
        let memoKey = ([session, real, Self.stamp(real), directory] + prefixes
            + ["COMPILER_PATH", "GCC_EXEC_PREFIX", "PATH"].map { lookup($0, in: environment) ?? "-" }).joined(separator: "\u{1}")
        let probe = try memo.withLock { $0.use(memoKey) } ?? {
            let p = try Self.probe(driver: driver, environment: environment, prefixes: prefixes, directory: directory)
            memo.withLock { _ = $0.insert(p, for: memoKey) }
            return p
        }()
        // Tools are re-stat'ed every time: an in-place upgrade must miss.
        return ["driver", real, Self.stamp(real)] + probe.facts + probe.tools.flatMap { [$0, Self.stamp($0)] }
    }

    private static func probe(driver: String, environment: [String], prefixes: [String], directory: String) throws -> Probe {
        func ask(_ option: String) throws -> String {
            var cmd = Command(executable: driver, argv: [driver] + prefixes + [option], environment: environment, directory: directory)
            cmd.stdin = .null
            cmd.closeOtherDescriptors = true
            let (status, out) = try capture(cmd)
            guard status.succeeded else { throw CompilerProbeError.failed(driver: driver, option: option) }
            return String(decoding: out, as: UTF8.self).trimmingWhitespace
        }
        let version = try ask("-dumpfullversion")
        let machine = try ask("-dumpmachine")
        // The specs (built in, or a specs file in GCC's directory) shape lto1's and as's options.
        let specs = Digest.of(try ask("-dumpspecs")).description
        var tools: [String] = []
        for option in ["-print-prog-name=lto1", "-print-prog-name=as"] {
            let named = try ask(option)
            let found = named.contains("/") ? absolutePath(named, relativeTo: directory)
                : (try? resolveExecutable(named, searchPath: lookup("PATH", in: environment), directory: directory)) ?? named
            tools.append(realPath(found) ?? found)
        }
        // A specs file in GCC's directory, if there is one (the driver answers a bare name if not).
        let specsFile = try ask("-print-file-name=specs")
        if specsFile.hasPrefix("/") { tools.append(specsFile) }
        return Probe(facts: ["version", version, "machine", machine, "specs", specs], tools: tools)
    }

    static func stamp(_ path: String) -> String { FileIdentity(path: path)?.stamp ?? "missing" }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        let isSpace = { (c: Character) in c == " " || c == "\n" || c == "\t" || c == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
