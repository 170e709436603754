#if canImport(Glibc)
import Glibc
#endif
import LTOProcess
import LTOWire

func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

func baseName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}

func dirName(_ path: String) -> String { Endpoint.directory(of: path) }

/// The real path of this executable (through the lto-wrapper symlink, too).
func selfPath() -> String {
    realPath("/proc/self/exe") ?? CommandLine.arguments[0]
}

func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

func currentDirectory() -> String {
    guard let p = getcwd(nil, 0) else { return "/" }
    defer { free(p) }
    return String(cString: p)
}

func printError(_ message: String) {
    writeAll(2, Array(("ltoc: " + message + "\n").utf8))
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        done += n
    }
}

func fail(_ message: String, status: Int32 = 1) -> Never {
    printError(message)
    exit(status)
}

/// `NAME=value` entries with `name` set to `value` (replacing any earlier entry).
func setting(_ env: [String], _ name: String, _ value: String) -> [String] {
    env.filter { !$0.hasPrefix(name + "=") } + [name + "=" + value]
}

/// Replaces this process with `path`, passing this process's own argv bytes (argv[0] set to
/// `argv0`) and environment untouched: the way to hand a job to GCC exactly as it came.
func execRaw(_ path: String, argv0: String) -> Never {
    var args = (0..<Int(CommandLine.argc)).map { CommandLine.unsafeArgv[$0] }
    args[0] = strdup(argv0)
    args.append(nil)
    execv(path, args)
    fail("cannot run \(path): \(errnoText())")
}

/// Whether argv, the environment and the working directory are all valid UTF-8. The
/// protocol carries text; a job with other bytes runs without the daemon, exactly as given.
func invocationIsText() -> Bool {
    for i in 0..<Int(CommandLine.argc) {
        guard let p = CommandLine.unsafeArgv[i], String(validatingCString: p) != nil else { return false }
    }
    var env = environ
    while let entry = env.pointee {
        if String(validatingCString: entry) == nil { return false }
        env += 1
    }
    guard let cwd = getcwd(nil, 0) else { return false }
    defer { free(cwd) }
    return String(validatingCString: cwd) != nil
}

/// LTOD_STRICT, else `strict` in config.toml: fail a link rather than run it without ltod.
var strict: Bool {
    if let v = environment("LTOD_STRICT"), !v.isEmpty { return ["1", "yes", "true", "on"].contains(v.lowercased()) }
    return configFileSaysStrict()
}

/// The one setting the shim itself needs from config.toml (when no daemon answers), found
/// with a line scan of the top-level keys: `strict = true`. The daemon parses and validates
/// the whole file with a TOML library; the shim stays Foundation-free.
func configFileSaysStrict() -> Bool {
    let home = environment("HOME") ?? "/"
    let path = environment("LTOD_CONFIG") ?? ((environment("XDG_CONFIG_HOME") ?? home + "/.config") + "/ltod/config.toml")
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while bytes.count < 1 << 20 {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" })
        if line.hasPrefix("[") { return false }
        if words.count >= 2, words[0] == "strict" { return words[1] == "true" }
    }
    return false
}

/// The directory to pass to `gcc -B`: `<prefix>/libexec/ltod` of an installed ltoc,
/// else (a build tree) `ltod-libexec/` beside the binary, created with its symlink on first use.
func libexecDirectory() -> String {
    let me = selfPath()
    let installed = dirName(dirName(me)) + "/libexec/ltod"
    if access(installed + "/lto-wrapper", X_OK) == 0 { return installed }
    let local = dirName(me) + "/ltod-libexec"
    if access(local + "/lto-wrapper", X_OK) != 0 {
        mkdir(local, 0o755)
        unlink(local + "/lto-wrapper")
        symlink(me, local + "/lto-wrapper")
    }
    return local
}

/// Connects and says hello; with `autostart`, starts `ltod` (beside this binary) when nothing answers.
func connectToDaemon(autostart: Bool) throws(WireError) -> FrameSocket {
    let path = Endpoint.socketPath()
    let socket: FrameSocket
    do {
        socket = try FrameSocket.connect(to: path)
    } catch {
        guard autostart, startDaemon() else { throw error }
        socket = try FrameSocket.connect(to: path)
    }
    switch try socket.request(.hello(version: Protocol.version)) {
    case .hello: return socket
    case .failure(let message): throw .io(message)
    default: throw .malformed("unexpected reply to hello")
    }
}

private func startDaemon() -> Bool {
    let ltod = dirName(selfPath()) + "/ltod"
    var cmd = Command(executable: ltod, argv: [ltod, "start"])
    cmd.stdout = .null
    cmd.stderr = .null
    cmd.stdin = .null
    return (try? run(cmd))?.succeeded ?? false
}
