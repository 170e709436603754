// LTOSystem: running other programs: posix_spawn with an exact argv, environment and
// working directory, waiting for them, capturing their output, and exec.
// Written on posix_spawn directly (not Foundation.Process or swift-subprocess)
// because the shim must stay Foundation-free and the daemon waits for children
// from plain blocking threads; both need exactly these few calls.
#if canImport(Glibc)
import Glibc
#endif
import CPosix

/// Where a child's standard stream goes.
public enum Redirect: Sendable {
    case inherit
    case null
    /// A file created (or truncated) with mode 0600.
    case file(String)
    /// An open descriptor of the parent's.
    case descriptor(Int32)
}

/// A program to run: what, with which arguments, environment and directory.
public struct Command: Sendable {
    /// A path, or a bare name looked up in the `PATH` of `environment`.
    public var executable: String
    /// The full argument vector, argv[0] included.
    public var argv: [String]
    /// nil keeps the parent's environment.
    public var environment: [String]?
    public var directory: String?
    public var stdout: Redirect = .inherit
    public var stderr: Redirect = .inherit
    public var stdin: Redirect = .inherit
    /// Run the child in a new session (setsid), as daemons are.
    public var newSession = false
    /// Close every descriptor above stderr in the child. The daemon's children and the
    /// daemon itself must not hold a client's pipes open; the shim's children keep
    /// theirs (make's jobserver descriptors have to reach lto-wrapper).
    public var closeOtherDescriptors = false
    /// Run the child in a process group of its own, so that it and every process it starts
    /// (a compiler driver's lto1 and as) can be signalled together.
    public var newProcessGroup = false
    /// Start the child with every signal's default action. Off, the child inherits ignored
    /// signals as `exec` would (the shim runs GCC's lto-wrapper that way).
    public var resetSignals = true

    public init(executable: String, argv: [String], environment: [String]? = nil, directory: String? = nil) {
        self.executable = executable
        self.argv = argv
        self.environment = environment
        self.directory = directory
    }
}

/// How a child ended.
public enum ExitStatus: Equatable, Sendable {
    case exited(Int32)
    case signaled(Int32)

    /// The status a shell would report: the exit code, or 128 + signal.
    public var code: Int32 {
        switch self {
        case .exited(let c): return c
        case .signaled(let s): return 128 + s
        }
    }

    public var succeeded: Bool { self == .exited(0) }

    /// Decodes a status filled in by waitpid.
    public init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}

/// Why a program could not be started.
public enum SpawnError: Error, CustomStringConvertible {
    case notFound(String)
    case failed(String, Int32)

    public var description: String {
        switch self {
        case .notFound(let name): return "\(name): command not found in PATH"
        case .failed(let what, let code): return "cannot run \(what): \(String(cString: strerror(code)))"
        }
    }
}

/// Starts a child process and returns its pid.
public func spawn(_ command: Command) throws(SpawnError) -> pid_t {
    let env = command.environment
    let path = try resolveExecutable(command.executable, searchPath: lookup("PATH", in: env))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    redirect(command.stdin, to: 0, readOnly: true, &actions)
    redirect(command.stdout, to: 1, readOnly: false, &actions)
    redirect(command.stderr, to: 2, readOnly: false, &actions)
    if let dir = command.directory { ltod_spawn_addchdir(&actions, dir) }
    if command.closeOtherDescriptors { ltod_spawn_addclosefrom(&actions, 3) }

    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var defaults = sigset_t()
    sigfillset(&defaults)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setpgroup(&attr, 0)
    // POSIX_SPAWN_SETSID (0x80) is glibc's; Swift's Glibc module does not export the name.
    let setsid: Int32 = command.newSession ? 0x80 : 0
    let group: Int32 = command.newProcessGroup ? POSIX_SPAWN_SETPGROUP : 0
    let signals: Int32 = command.resetSignals ? POSIX_SPAWN_SETSIGDEF : 0
    posix_spawnattr_setflags(&attr, Int16(signals | POSIX_SPAWN_SETSIGMASK | setsid | group))

    var pid: pid_t = 0
    let rc = withCStrings(command.argv) { argv in
        withCStrings(env ?? currentEnvironment()) { envp in
            posix_spawn(&pid, path, &actions, &attr, argv, envp)
        }
    }
    guard rc == 0 else { throw .failed(path, rc) }
    return pid
}

/// Waits for a child to end.
public func wait(for pid: pid_t) -> ExitStatus {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return .exited(127) }
    }
    return ExitStatus(waitStatus: status)
}

/// Runs a program to completion.
public func run(_ command: Command) throws(SpawnError) -> ExitStatus {
    wait(for: try spawn(command))
}

/// Runs a program and returns what it wrote on stdout (and on stderr with `includingStderr`;
/// else stderr is discarded).
public func capture(_ command: Command, includingStderr: Bool = false) throws(SpawnError) -> (status: ExitStatus, stdout: [UInt8]) {
    var fds: [Int32] = [0, 0]
    guard ltod_pipe_cloexec(&fds) == 0 else { throw .failed("pipe", errno) }
    var cmd = command
    cmd.stdout = .descriptor(fds[1])
    cmd.stderr = includingStderr ? .descriptor(fds[1]) : .null
    let pid: pid_t
    do { pid = try spawn(cmd) } catch {
        close(fds[0]); close(fds[1])
        throw error
    }
    close(fds[1])
    let out = readToEnd(fds[0]) ?? []
    close(fds[0])
    return (wait(for: pid), out)
}

/// Replaces the current process image. Returns only by throwing.
public func exec(_ command: Command) throws(SpawnError) -> Never {
    let path = try resolveExecutable(command.executable, searchPath: lookup("PATH", in: command.environment))
    if let dir = command.directory, chdir(dir) != 0 { throw .failed("chdir \(dir)", errno) }
    _ = withCStrings(command.argv) { argv in
        withCStrings(command.environment ?? currentEnvironment()) { envp in execve(path, argv, envp) }
    }
    throw .failed(path, errno)
}

private func redirect(_ r: Redirect, to target: Int32, readOnly: Bool, _ actions: inout posix_spawn_file_actions_t) {
    switch r {
    case .inherit: break
    case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", readOnly ? O_RDONLY : O_WRONLY, 0)
    case .file(let path):
        posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600)
    case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
    }
}

private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}

/// Starts a child in a new session (detached from the terminal and process group).
public func spawnDetached(_ command: Command) throws(SpawnError) -> pid_t {
    var cmd = command
    cmd.newSession = true
    cmd.closeOtherDescriptors = true
    return try spawn(cmd)
}
