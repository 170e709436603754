// LTOGCCBackend: the compiler's identity, for the cache key: what the driver says about
// itself, content digests of its programs and specs (the same on every machine that has
// the same compiler, wherever it is installed), and what `-march=native` and its kin
// expand to on this machine.
import LTOBackend
import LTOGCC
import LTOHash
import LTOSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why the compiler behind a driver could not be identified.
enum CompilerProbeError: Error, CustomStringConvertible {
    case failed(driver: String, option: String)
    case changing(String)

    var description: String {
        switch self {
        case let .failed(driver, option): return "\(driver) \(option) failed; is this a working GCC driver?"
        case .changing(let path): return "\(path) changed while ltod read it (a compiler being installed?)"
        }
    }
}

/// Identifies the compiler behind a driver, for the cache keys: content digests of the real
/// driver, lto1, the assembler and a specs file, and the driver's version, target and specs;
/// for whole links also GCC's own lto-wrapper. Paths and modification times are not in the
/// key, so machines with the same compiler share entries.
///
/// The driver's answers (a few milliseconds of processes) are kept across links while
/// nothing they were drawn from can have changed: the driver's file and every directory the
/// driver or PATH searches for its programs and its specs (adding, removing or renaming a
/// file there, such as a new `as` earlier in PATH or a new specs file, changes the
/// directory's stamp). That is checked once per link; the tools' contents are checked for
/// every job (by digest, read again only when a file's stamp changed), so an in-place
/// upgrade misses.
final class CompilerIdentity: Sendable {
    private let scratch: ScratchArea
    /// Probes are per link (the session is in the key), so only the most recent are worth keeping.
    private let memo = Mutex(RecentlyUsed<String, Probe>(capacity: 256))
    private let nativeMemo = Mutex(RecentlyUsed<String, [String]>(capacity: 256))
    private let contents = ContentDigests()

    private struct Probe: Sendable {
        let facts: [String]
        /// Each tool's role (`lto1`, `as`, `specs`) and file.
        let tools: [(role: String, path: String)]
        /// GCC's own lto-wrapper, as the driver names it without `-B` prefixes.
        let wrapper: String
        /// The real driver and the searched directories, with their stamps when probed.
        let sources: [String: String]
        /// The link the sources were last checked in.
        var checkedIn: String
    }

    init(scratch: ScratchArea) { self.scratch = scratch }

    /// Facts for the driver at the absolute path `driver`, run in `directory` with `environment`
    /// and the `-B` options in `args`, within link session `session`.
    func facts(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> [String] {
        let real = realPath(driver) ?? driver
        let probe = try self.probe(driver: driver, environment: environment, args: args, directory: directory, session: session)
        // Tools are checked again every time: an in-place upgrade must miss.
        var out = ["driver", try contents.digest(of: real)] + probe.facts
        for tool in probe.tools { out += [tool.role, try contents.digest(of: tool.path)] }
        return out
    }

    /// `facts`, the digest of GCC's own lto-wrapper and what the link's native options
    /// expand to here: what a whole link depends on.
    func linkFacts(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> [String] {
        let probe = try self.probe(driver: driver, environment: environment, args: args, directory: directory, session: session)
        return try facts(driver: driver, environment: environment, args: args, directory: directory, session: session)
            + ["lto-wrapper", try contents.digest(of: probe.wrapper)]
            + ["native"] + nativeExpansion(driver: driver, environment: environment, args: args, directory: directory, session: session)
    }
    /// What the native options of `args` (`MachineDependence.nativeOptions`) expand to when
    /// this driver runs them here; empty when there are none.
    func nativeExpansion(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> [String] {
        guard MachineDependence.usesNative(args) else { return [] }
        let real = realPath(driver) ?? driver
        let probeArguments = MachineDependence.nativeProbeArguments(args)
        let key = memoKey(real, environment: environment, args: args, directory: directory, session: session)
            + "\u{1}" + probeArguments.joined(separator: "\u{1}")
        return try remembered(in: nativeMemo, key: key) {
            let output = scratch.newPath("native")
            defer { unlink(output) }
            var cmd = Command(executable: driver, argv: [driver] + DriverOptions.prefixes(args) + probeArguments, environment: environment,
                              directory: directory)
            cmd.stdin = .null
            cmd.stdout = .null
            cmd.stderr = .file(output)
            cmd.closeOtherDescriptors = true
            guard try run(cmd).succeeded, let text = readFileText(output),
                  let expansion = MachineDependence.nativeExpansion(fromDriverOutput: text)
            else { throw CompilerProbeError.failed(driver: driver, option: "-### " + args.filter(MachineDependence.nativeOptions.contains).joined(separator: " ")) }
            return expansion
        }
    }

    /// What the driver's answers depend on, within one link session: PATH decides which
    /// assembler it runs (`-print-prog-name=as` answers a bare name).
    private func memoKey(_ real: String, environment: [String], args: [String], directory: String, session: String) -> String {
        ([session, real, FileIdentity(path: real)?.stamp ?? "missing", directory] + DriverOptions.prefixes(args)
            + ["COMPILER_PATH", "GCC_EXEC_PREFIX", "PATH"].map { lookup($0, in: environment) ?? "-" }).joined(separator: "\u{1}")
    }

    private func remembered<T: Sendable>(in memo: borrowing Mutex<RecentlyUsed<String, T>>, key: String, _ make: () throws -> T) throws -> T {
        if let known = memo.withLock({ $0.use(key) }) { return known }
        let made = try make()
        memo.withLock { _ = $0.insert(made, for: key) }
        return made
    }

    /// The stamp (identity) of a file or directory, `missing` when there is none.
    static func stamp(_ path: String) -> String { FileIdentity(path: path)?.stamp ?? "missing" }

    /// The driver's answers for `driver` with the prefixes of `args`, probed again when
    /// anything they were drawn from changed since (see the type's comment).
    private func probe(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> Probe {
        let prefixes = DriverOptions.prefixes(args)
        let key = ([driver, directory] + prefixes
            + ["COMPILER_PATH", "GCC_EXEC_PREFIX", "LIBRARY_PATH", "PATH"].map { lookup($0, in: environment) ?? "-" }).joined(separator: "\u{1}")
        if var known = memo.withLock({ $0.use(key) }) {
            if known.checkedIn == session { return known }
            if known.sources[realPath(driver) ?? driver] != nil, known.sources.allSatisfy({ Self.stamp($0.key) == $0.value }) {
                known.checkedIn = session
                memo.withLock { [known] in _ = $0.insert(known, for: key) }
                return known
            }
        }
        let fresh = try Self.probe(driver: driver, environment: environment, prefixes: prefixes, directory: directory, session: session)
        memo.withLock { _ = $0.insert(fresh, for: key) }
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
        var tools: [(role: String, path: String)] = []
        for role in ["lto1", "as"] {
            tools.append((role, resolve(try ask(prefixes + ["-print-prog-name=" + role]), environment: environment, directory: directory)))
        }
        // A specs file in GCC's directory, if there is one (the driver answers a bare name if not).
        let specsFile = try ask(prefixes + ["-print-file-name=specs"])
        if specsFile.hasPrefix("/") { tools.append(("specs", specsFile)) }
        // As the shim finds it: without -B prefixes and COMPILER_PATH (which name ltod's own).
        let wrapper = resolve(try ask(["-print-prog-name=lto-wrapper"], environment: environment.filter { !$0.hasPrefix("COMPILER_PATH=") }),
                              environment: environment, directory: directory)
        return Probe(facts: ["version", version, "machine", machine, "specs", specs], tools: tools, wrapper: wrapper,
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
}

/// Content digests of files, remembered by file identity (device, inode, size, mtime), so
/// that a compiler is read once per daemon and again only when it changes.
final class ContentDigests: Sendable {
    private let known = Mutex<[String: (stamp: String, digest: String)]>([:])

    /// The XXH3-128 of the file at `path`, or `missing` when there is none.
    func digest(of path: String) throws -> String {
        guard let before = FileIdentity(path: path) else { return "missing" }
        if let entry = known.withLock({ $0[path] }), entry.stamp == before.stamp { return entry.digest }
        guard let digest = Self.hash(path, size: before.size), FileIdentity(path: path) == before else {
            throw CompilerProbeError.changing(path)
        }
        known.withLock { $0[path] = (before.stamp, digest) }
        return digest
    }

    /// Reads the file in pieces into one framed value of `size` bytes; nil when it is not that size.
    private static func hash(_ path: String, size: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let hasher = Hasher128()
        hasher.beginBytes(count: size)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.continueBytes(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            total += n
        }
        return total == size ? hasher.finish().description : nil
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        let isSpace = { (c: Character) in c == " " || c == "\n" || c == "\t" || c == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
