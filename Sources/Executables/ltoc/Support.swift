// ltoc: what every mode of the shim shares: messages, failing, exec with the raw argv,
// finding the libexec directory, the link-scope settings, and finding, connecting to,
// starting or retiring the daemon.
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

/// Why the daemon cannot take a request.
enum DaemonUnavailable: Error, CustomStringConvertible {
    /// Nothing answers on the socket (the connection's error).
    case notRunning(String)
    /// A daemon of another protocol version answers (an older ltod still running).
    case otherVersion(UInt16, pid: Int32?)
    /// The daemon refused, or could not be started; the reason says why.
    case refused(String)

    var description: String {
        switch self {
        case .notRunning(let why): return why
        case .otherVersion(let version, let pid):
            return "ltod\(pid.map { " (pid \($0))" } ?? "") speaks protocol \(version) and this ltoc \(Protocol.version); "
                + "stop it with `ltoc shutdown` and the next link starts the new one"
        case .refused(let why): return why
        }
    }
}

/// Whether a daemon serves the socket, found out without connecting: under systemd socket
/// activation, connecting would start one. A serving daemon holds the lock beside its
/// socket (an older ltod holds it with flock). A lock this user cannot read is another
/// user's: connecting says so.
func daemonServes(_ places: Places = .current) -> Bool {
    let lock = places.socketLock
    return OwnerLock.holder(of: lock) != nil || OwnerLock.isFlocked(lock) || access(lock, F_OK) == 0 && access(lock, R_OK) != 0
}

/// Connects and says hello.
func connectToDaemon(_ places: Places = .current) throws(DaemonUnavailable) -> FrameSocket {
    let socket: FrameSocket
    do { socket = try FrameSocket.connect(to: places.socket) } catch { throw .notRunning("\(error)") }
    let reply: Reply
    do { reply = try socket.request(.hello(version: Protocol.version)) } catch { throw .refused("\(error)") }
    switch HelloAnswer(reply) {
    case .accepted: return socket
    case .otherVersion(let version, let pid): throw .otherVersion(version, pid: pid)
    case .refused(let message): throw .refused(message)
    }
}

/// Connects for a link: starts a daemon (`ltod start`) when none answers, and when an older
/// daemon answers, asks it to stop once its links are done and starts the new one if it is
/// gone within a few seconds. Throws the reason a link has to run without the daemon.
func connectForLink() throws(DaemonUnavailable) -> FrameSocket {
    do {
        return try connectToDaemon()
    } catch .otherVersion(let version, let pid) {
        guard askToStop(version: version, arguments: ["--when-idle"]), waitUntilRetired() else {
            throw .refused("ltod\(pid.map { " (pid \($0))" } ?? "") speaks protocol \(version) and this ltoc \(Protocol.version); "
                + "it was asked to stop once its links are done, and the next link starts the new one")
        }
    } catch .notRunning {
        // Started below.
    }
    try startDaemon()
    return try connectToDaemon()
}

/// Asks a daemon of protocol `version` to stop (`shutdown` with `arguments`), in its own
/// version's hello; true if it said yes.
func askToStop(version: UInt16, arguments: [String]) -> Bool {
    guard let socket = try? FrameSocket.connect(to: Places.current.socket),
          case .hello? = try? socket.request(.hello(version: version)),
          case .output(0, _, _)? = try? socket.request(.command(name: "shutdown", arguments: arguments))
    else { return false }
    return true
}

/// Waits up to 3 s for the daemon asked to stop to be gone: nothing answers on the socket,
/// or (under socket activation) a daemon of this version does.
private func waitUntilRetired() -> Bool {
    for _ in 0..<150 {
        switch Result(catching: { () throws(DaemonUnavailable) in try connectToDaemon() }) {
        case .success, .failure(.notRunning): return true
        case .failure: usleep(20_000)
        }
    }
    return false
}

/// Starts `ltod` (beside this binary) in the background; throws its reason when it cannot start.
private func startDaemon() throws(DaemonUnavailable) {
    let ltod = directoryName(executablePath()) + "/ltod"
    var cmd = Command(executable: ltod, argv: [ltod, "start"])
    cmd.stdin = .null
    guard let (status, output) = try? capture(cmd, includingStderr: true) else { throw .refused("cannot run \(ltod)") }
    guard !status.succeeded else { return }
    let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map { line in
        line.hasPrefix("Error: ") ? line.dropFirst("Error: ".count) : line
    }
    throw .refused("ltod could not start: " + lines.joined(separator: "; "))
}

/// The link-scope settings of this link (its environment, else config.toml, else defaults),
/// exported for the rest of the link, so that GCC's lto-wrapper, the driver jobs, the daemon
/// and a fallback all use the same. A value that cannot be used fails the link with its error.
func linkSettings() -> Configuration {
    let settings: Configuration
    do { settings = try Configuration.forLink(environment: environmentDictionary()) } catch { fail("\(error)") }
    for (name, value) in settings.linkVariables { setenv(name, value, 1) }
    return settings
}

/// This process's environment as a dictionary (the last entry of a name wins).
func environmentDictionary(_ entries: [String] = currentEnvironment()) -> [String: String] {
    var out: [String: String] = [:]
    for entry in entries {
        guard let eq = entry.firstIndex(of: "=") else { continue }
        out[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
    }
    return out
}

func failureText(_ reply: Reply) -> String {
    if case .failure(let message) = reply { return message }
    return "unexpected reply from ltod"
}
