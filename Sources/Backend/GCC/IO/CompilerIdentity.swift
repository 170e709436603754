// LTOGCCBackend: the compiler's identity, for the cache keys.
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

/// Identifies the compiler behind a driver, for the cache keys: the real driver, lto1, the
/// assembler and a specs file (path, size, mtime), and the driver's version, target and
/// specs; for whole links also GCC's own lto-wrapper.
///
/// The driver's answers (a few milliseconds of processes) are kept across links while
/// nothing they were drawn from can have changed: the driver's file and every directory the
/// driver or PATH searches for its programs and its specs (adding, removing or renaming a
/// file there changes the directory's stamp). That is checked once per link; the tools
/// themselves are stat'ed again for every job, so an in-place upgrade misses.
final class CompilerIdentity: Sendable {
    private let memo = Mutex<[String: Probe]>([:])

    private struct Probe: Sendable {
        /// The driver's real path (symlinks resolved), as of the last check.
        var driver: String
        let facts: [String]
        let tools: [String]
        /// GCC's own lto-wrapper, as the driver names it without `-B` prefixes.
        let wrapper: String
        /// The driver and the searched directories, with their stamps when probed.
        let sources: [String: String]
        /// The link the sources were last checked in.
        var checkedIn: String
    }

    /// Facts for the driver at the absolute path `driver`, run in `directory` with `environment`
    /// and the `-B` options in `args`, within link session `session`.
    func facts(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> [String] {
        let probe = try self.probe(driver: driver, environment: environment, args: args, directory: directory, session: session)
        return ["driver", probe.driver, Self.stamp(probe.driver)] + probe.facts + probe.tools.flatMap { [$0, Self.stamp($0)] }
    }

    /// `facts`, and GCC's own lto-wrapper with its stamp: what a whole link depends on.
    func linkFacts(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> [String] {
        let probe = try self.probe(driver: driver, environment: environment, args: args, directory: directory, session: session)
        return try facts(driver: driver, environment: environment, args: args, directory: directory, session: session)
            + ["lto-wrapper", probe.wrapper, Self.stamp(probe.wrapper)]
    }

    private func probe(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> Probe {
        let prefixes = DriverOptions.prefixes(args)
        let memoKey = ([driver, directory] + prefixes
            + ["COMPILER_PATH", "GCC_EXEC_PREFIX", "LIBRARY_PATH", "PATH"].map { lookup($0, in: environment) ?? "-" }).joined(separator: "\u{1}")
        if var known = memo.withLock({ $0[memoKey] }) {
            if known.checkedIn == session { return known }
            known.driver = realPath(driver) ?? driver
            if known.sources[known.driver] != nil, known.sources.allSatisfy({ Self.stamp($0.key) == $0.value }) {
                known.checkedIn = session
                memo.withLock { [known] in $0[memoKey] = known }
                return known
            }
        }
        let fresh = try Self.probe(driver: driver, environment: environment, prefixes: prefixes, directory: directory, session: session)
        memo.withLock { memo in
            if memo.count > 256 { memo.removeAll() }
            memo[memoKey] = fresh
        }
        return fresh
    }

    private static func probe(driver: String, environment: [String], prefixes: [String], directory: String, session: String) throws -> Probe {
        func ask(_ options: [String], environment: [String] = environment) throws -> String {
            var cmd = Command(executable: driver, argv: [driver] + options, environment: environment, directory: directory)
            cmd.stdin = .null
            cmd.closeOtherDescriptors = true
            let (status, out) = try capture(cmd)
            guard status.succeeded else { throw CompilerProbeError.failed(driver: driver, option: options.last ?? "") }
            return String(decoding: out, as: UTF8.self).trimmingWhitespace
        }
        // Read first: anything that changes after this is seen by the next link's check.
        let searched = searchedDirectories(try ask(prefixes + ["-print-search-dirs"]), path: lookup("PATH", in: environment), directory: directory)
        let real = realPath(driver) ?? driver
        var sources = [real: stamp(real)]
        for dir in searched { sources[dir] = stamp(dir) }
        let version = try ask(prefixes + ["-dumpfullversion"])
        let machine = try ask(prefixes + ["-dumpmachine"])
        // The specs (built in, or a specs file in GCC's directory) shape lto1's and as's options.
        let specs = Digest.of(try ask(prefixes + ["-dumpspecs"])).description
        var tools: [String] = []
        for option in ["-print-prog-name=lto1", "-print-prog-name=as"] {
            tools.append(resolve(try ask(prefixes + [option]), environment: environment, directory: directory))
        }
        // A specs file in GCC's directory, if there is one (the driver answers a bare name if not).
        let specsFile = try ask(prefixes + ["-print-file-name=specs"])
        if specsFile.hasPrefix("/") { tools.append(specsFile) }
        // As the shim finds it: without -B prefixes and COMPILER_PATH (which name ltod's own).
        let wrapper = resolve(try ask(["-print-prog-name=lto-wrapper"], environment: environment.filter { !$0.hasPrefix("COMPILER_PATH=") }),
                              environment: environment, directory: directory)
        return Probe(driver: real, facts: ["version", version, "machine", machine, "specs", specs], tools: tools, wrapper: wrapper,
                     sources: sources, checkedIn: session)
    }

    /// A program the driver named: a path (made absolute and real), or a bare name found in PATH.
    private static func resolve(_ named: String, environment: [String], directory: String) -> String {
        let found = named.contains("/") ? absolutePath(named, relativeTo: directory)
            : (try? resolveExecutable(named, searchPath: lookup("PATH", in: environment), directory: directory)) ?? named
        return realPath(found) ?? found
    }

    /// The directories of `-print-search-dirs`' `programs:` and `libraries:` lines, and PATH's.
    static func searchedDirectories(_ answer: String, path: String?, directory: String) -> [String] {
        var dirs: [String] = []
        for line in answer.split(separator: "\n") where line.hasPrefix("programs: ") || line.hasPrefix("libraries: ") {
            let list = line.drop { $0 != " " }.dropFirst().drop { $0 == "=" }
            dirs += list.split(separator: ":").map(String.init)
        }
        dirs += (path ?? "").split(separator: ":").map(String.init)
        var seen = Set<String>()
        return dirs.map { absolutePath($0, relativeTo: directory) }.filter { seen.insert($0).inserted }
    }

    static func stamp(_ path: String) -> String { FileIdentity(path: path)?.stamp ?? "missing" }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        let isSpace = { (c: Character) in c == " " || c == "\n" || c == "\t" || c == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
