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

/// Identifies the compiler behind a driver, for the cache key: content digests of the real
/// driver, lto1, the assembler and a specs file, and the driver's version, target and specs.
/// The driver is asked once per link (a few milliseconds), never trusted across links: a
/// new `as` earlier in PATH or a new specs file must change the next link's keys. Paths and
/// modification times are not in the key, so machines with the same compiler share entries.
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
    }

    init(scratch: ScratchArea) { self.scratch = scratch }

    /// Facts for the driver at the absolute path `driver`, run in `directory` with `environment`
    /// and the `-B` options in `args`, within link session `session`.
    func facts(driver: String, environment: [String], args: [String], directory: String, session: String) throws -> [String] {
        let real = realPath(driver) ?? driver
        let probe = try remembered(in: memo, key: memoKey(real, environment: environment, args: args, directory: directory, session: session)) {
            try Self.probe(driver: driver, environment: environment, prefixes: DriverOptions.prefixes(args), directory: directory)
        }
        // Tools are checked again every time: an in-place upgrade must miss.
        var out = ["driver", try contents.digest(of: real)] + probe.facts
        for tool in probe.tools { out += [tool.role, try contents.digest(of: tool.path)] }
        return out
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
        var tools: [(role: String, path: String)] = []
        for role in ["lto1", "as"] {
            let named = try ask("-print-prog-name=" + role)
            let found = named.contains("/") ? absolutePath(named, relativeTo: directory)
                : (try? resolveExecutable(named, searchPath: lookup("PATH", in: environment), directory: directory)) ?? named
            tools.append((role, realPath(found) ?? found))
        }
        // A specs file in GCC's directory, if there is one (the driver answers a bare name if not).
        let specsFile = try ask("-print-file-name=specs")
        if specsFile.hasPrefix("/") { tools.append(("specs", specsFile)) }
        return Probe(facts: ["version", version, "machine", machine, "specs", specs], tools: tools)
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
