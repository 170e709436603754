// ltoc: what every mode of the shim shares: messages, failing, exec with the raw argv,
// finding the libexec directory, and connecting to (or starting) the daemon.
#if canImport(Glibc)
import Glibc
#endif
import LTOConfig
import LTOSystem
import LTOWire

func printError(_ message: String) {
    writeAll(2, Array(("ltoc: " + message + "\n").utf8))
}

func fail(_ message: String, status: Int32 = 1) -> Never {
    printError(message)
    exit(status)
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

/// Removes ltod's variables from this process's environment and gives GNUMAKEFLAGS back
/// the value the link had (`ShimEnvironment.restoring`, on the process's own environment).
func restoreLinkEnvironment() {
    switch lookup(ShimEnvironment.makeFlags) {
    case let value? where value.hasPrefix("="): setenv("GNUMAKEFLAGS", String(value.dropFirst()), 1)
    case _?: unsetenv("GNUMAKEFLAGS")
    case nil: break
    }
    for name in ShimEnvironment.all { unsetenv(name) }
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

/// The directory to pass to `gcc -B`: `<prefix>/libexec/ltod` of an installed ltoc,
/// else (a build tree) `ltod-libexec/` beside the binary, created with its symlink on first use.
func libexecDirectory() -> String {
    let me = executablePath()
    let installed = directoryName(directoryName(me)) + "/libexec/ltod"
    if access(installed + "/lto-wrapper", X_OK) == 0 { return installed }
    let local = directoryName(me) + "/ltod-libexec"
    if access(local + "/lto-wrapper", X_OK) != 0 {
        mkdir(local, 0o755)
        unlink(local + "/lto-wrapper")
        symlink(me, local + "/lto-wrapper")
    }
    return local
}

/// Connects and says hello; with `autostart`, starts `ltod` (beside this binary) when nothing answers.
func connectToDaemon(autostart: Bool) throws(WireError) -> FrameSocket {
    let path = Places.current.socket
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
    let ltod = directoryName(executablePath()) + "/ltod"
    var cmd = Command(executable: ltod, argv: [ltod, "start"])
    cmd.stdout = .null
    cmd.stderr = .null
    cmd.stdin = .null
    return (try? run(cmd))?.succeeded ?? false
}

func failureText(_ reply: Reply) -> String {
    if case .failure(let message) = reply { return message }
    return "unexpected reply from ltod"
}
