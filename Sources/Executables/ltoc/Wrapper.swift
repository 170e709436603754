#if canImport(Glibc)
import Glibc
#endif
import CPosix
import LTOConfig
import LTOGCC
import LTOSystem
import LTOWire

/// Wrapper mode: ltoc runs as GCC's lto-wrapper for one link. It opens a session with the
/// daemon (handing it make's jobserver when the link has one), which may answer the whole
/// link at once (every input unchanged): then ltoc prints what the daemon restored and exits,
/// and lto-wrapper never runs. Otherwise it runs GCC's real lto-wrapper with COLLECT_GCC
/// pointing back at ltoc, so that WPA reaches the daemon, reads the objects lto-wrapper prints
/// for the linker, expands ltod's lists of finished objects in them, passes on what the link
/// prints on stderr as it comes, and tells the daemon both (a whole-link answer prints them
/// again). If the daemon cannot be reached, the real lto-wrapper runs as if ltod were not there.
enum Wrapper {
    static func run(_ argv: [String]) -> Never {
        // First, before this process opens anything that could take the descriptor numbers
        // MAKEFLAGS names (make passes them only to `+` recipes).
        let jobserver = (lookup("MAKEFLAGS").flatMap(MakeJobserver.init(makeflags:))
            ?? lookup(ShimEnvironment.jobserver).flatMap(MakeJobserver.init(auth:)))?.descriptors()
        guard let collectGCC = lookup("COLLECT_GCC"), !collectGCC.isEmpty else {
            fail("COLLECT_GCC is not set: lto-wrapper is run by gcc during a -flto link, not by hand")
        }
        guard invocationIsText() else { runUnchanged(argv) }
        let settings = linkSettings()
        let invocation = Invocation(argv: argv, cwd: currentDirectory(), environment: currentEnvironment() + [terminalFacts()])
        let socket: FrameSocket
        let reply: Reply
        do {
            socket = try connectForLink()
            reply = try socket.request(.openSession(invocation), passing: jobserver.map { [$0.read, $0.write] } ?? [])
            if let jobserver, jobserver.opened { close(jobserver.read) }
        } catch {
            fallBack(driver: collectGCC, settings: settings, reason: "\(error)")
        }
        switch reply {
        case .output(let status, let out, let err):
            writeAll(2, err)
            writeAll(1, out)
            exit(status)
        case .passThrough:
            runUnchanged(argv)
        case .session(let id, let partitionOption):
            runThrough(argv, driver: collectGCC, session: id, partitionOption: partitionOption, socket: socket)
        default:
            fallBack(driver: collectGCC, settings: settings, reason: failureText(reply))
        }
    }

    /// Runs GCC's lto-wrapper within session `id`, its stdout read back (see the type's comment).
    static func runThrough(_ argv: [String], driver: String, session id: String, partitionOption: String, socket: FrameSocket) -> Never {
        let real = realLTOWrapper(driver: driver)
        var env = setting("COLLECT_GCC", to: executablePath(), in: currentEnvironment())
        env = setting(ShimEnvironment.driver, to: driver, in: env)
        env = setting(ShimEnvironment.session, to: id, in: env)
        if !partitionOption.isEmpty {
            env = setting("COLLECT_GCC_OPTIONS", to: CollectOptions.appending(partitionOption, to: lookup("COLLECT_GCC_OPTIONS") ?? ""), in: env)
        }
        let (makeFlags, remembered) = ShimEnvironment.silencingMake(lookup("GNUMAKEFLAGS"))
        env = setting("GNUMAKEFLAGS", to: makeFlags, in: env)
        env = setting(ShimEnvironment.makeFlags, to: remembered, in: env)
        let out = privatePipe(), err = messagesChannel()
        Interrupt.trap()
        var command = Command(executable: real, argv: [real] + argv.dropFirst(), environment: env)
        command.stdout = .descriptor(out.write)
        command.stderr = .descriptor(err.write)
        command.resetSignals = false
        let pid: pid_t
        do { pid = try spawn(command) } catch { fail("\(error)") }
        close(out.write)
        close(err.write)
        let progress = isatty(2) == 1 ? Progress(socket: socket, session: id) : nil
        let ended = collect(pid, stdout: out.read, stderr: err.read, every: progress.map { p in { p.update() } })
        progress?.clear()
        if let signal = Interrupt.signal { interrupted(by: signal, realWrapper: ended == nil ? pid : nil, socket: socket, session: id) }
        guard let (status, printed, messages) = ended else { fail("lost track of \(real)") }
        let output = status.succeeded ? expandFinishedObjects(printed) : printed
        switch try? socket.request(.closeSession(id: id, exitStatus: status.code, printed: output, messages: messages)) {
        case nil: printError("ltod went away during this link; it finished without the cache")
        case .output(_, _, let warning)? where !warning.isEmpty: printError(String(decoding: warning, as: UTF8.self))
        default: break
        }
        writeAll(1, output)
        exit(status.code)
    }

    /// A termination signal during the link (see Interrupt): passed on to GCC's lto-wrapper
    /// (`pid`, unless it has ended already), the session closed at once (the daemon stops its
    /// work and gives make's tokens back), then, once lto-wrapper has ended, this process ends
    /// by the same signal.
    static func interrupted(by signal: Int32, realWrapper pid: pid_t?, socket: FrameSocket, session id: String) -> Never {
        if let pid { kill(pid, signal) }
        _ = try? socket.request(.closeSession(id: id, exitStatus: 128 + signal, printed: [], messages: nil))
        if let pid { _ = wait(for: pid) }
        Interrupt.die(by: signal)
    }

    /// A pipe whose ends are closed in other children (the spawned one gets its end dup'ed).
    private static func privatePipe() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0, fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0 else {
            fail("cannot create a pipe: \(errnoText())")
        }
        return (fds[0], fds[1])
    }

    /// Where lto-wrapper and its jobs write their messages: a pipe, or when this process's
    /// stderr is a terminal, a pseudo-terminal of its size in raw mode, so that GCC still
    /// sees a terminal (colours, line width) and prints exactly what it would print there.
    private static func messagesChannel() -> (read: Int32, write: Int32) {
        guard isatty(2) == 1 else { return privatePipe() }
        var size = winsize()
        let known = ioctl(2, UInt(TIOCGWINSZ), &size) == 0
        var master: Int32 = -1, slave: Int32 = -1
        guard ltod_open_raw_pty(&master, &slave, known ? size.ws_col : 0, known ? size.ws_row : 0) == 0 else { return privatePipe() }
        return (master, slave)
    }

    /// The most of the link's stderr kept for the daemon; a link that prints more is passed
    /// on whole but not recorded for whole-link answers.
    static let messagesLimit = 1 << 20

    /// Waits for `pid`, reading everything it writes to `stdout` meanwhile (a pipe is never
    /// left full) and passing on what it writes to `stderr` as it comes, and calls `tick`
    /// about five times a second. Returns the status, stdout, and stderr (nil beyond
    /// `messagesLimit`); nil when a termination signal is caught first (see Interrupt).
    static func collect(_ pid: pid_t, stdout: Int32, stderr: Int32, every tick: (() -> Void)?) -> (ExitStatus, [UInt8], [UInt8]?)? {
        var out = PipeReader(fd: stdout), err = PipeReader(fd: stderr, forwardTo: 2)
        defer {
            close(stdout)
            close(stderr)
        }
        while Interrupt.signal == nil {
            var status: Int32 = 0
            let exited = waitpid(pid, &status, WNOHANG)
            if exited == pid || (exited < 0 && errno != EINTR) {
                // Its output is all in the pipes; whatever else holds them is not waited for.
                while out.readReady(timeout: 0) || err.readReady(timeout: 0) {}
                let messages = err.bytes.count <= messagesLimit ? err.bytes : nil
                guard exited == pid else { return Interrupt.wait(for: pid).map { ($0, out.bytes, messages) } }
                return (ExitStatus(waitStatus: status), out.bytes, messages)
            }
            PipeReader.wait([out, err], timeout: 200)
            while out.readReady(timeout: 0) || err.readReady(timeout: 0) {}
            if !out.open && !err.open { usleep(20_000) }
            tick?()
        }
        return nil
    }

    /// lto-wrapper's output with ltod's finished-object lists replaced by the objects they
    /// name; the lists are deleted. A list that cannot be read fails the link (the linker
    /// would otherwise be handed a text file as an object).
    static func expandFinishedObjects(_ printed: [UInt8]) -> [UInt8] {
        guard let text = String(validating: printed, as: UTF8.self), text.contains(FinishedObjectList.suffix) else { return printed }
        switch FinishedObjectList.expand(text, read: { readFileText($0) }) {
        case .success(let (output, lists)):
            lists.forEach { unlink($0) }
            return Array(output.utf8)
        case .failure(let error):
            fail("\(error)")
        }
    }

    /// What the shim sees of the terminal, for the diagnostics context of the link's jobs.
    static func terminalFacts() -> String {
        var size = winsize()
        let columns = ioctl(0, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : nil
        return ShimEnvironment.terminal + "=" + ShimTerminal(stderrIsTerminal: isatty(2) == 1, columns: columns).encoded
    }

    /// Runs GCC's own lto-wrapper with ltod out of the way.
    static func runUnchanged(_ argv: [String]) -> Never {
        guard let collectGCC = lookup(ShimEnvironment.driver) ?? lookup("COLLECT_GCC") else {
            fail("COLLECT_GCC is not set: lto-wrapper is run by gcc during a -flto link, not by hand")
        }
        let real = realLTOWrapper(driver: collectGCC)
        restoreLinkEnvironment()
        setenv("COLLECT_GCC", collectGCC, 1)
        execRaw(real, argv0: real)
    }

    /// Runs GCC's own lto-wrapper without the daemon, with the partitioning ltod would have
    /// asked for, so that the binary is the one a link through ltod gives (or refuses, in
    /// strict mode).
    static func fallBack(driver: String, settings: Configuration, reason: String) -> Never {
        if settings.strict { fail("ltod is not available (\(reason)) and strict mode is on (LTOD_STRICT or strict in config.toml)") }
        let real = realLTOWrapper(driver: driver)
        printError("ltod is not available (\(reason)); linking without the cache")
        recordFallback(reason)
        let options = lookup("COLLECT_GCC_OPTIONS") ?? ""
        if let partition = CollectOptions.partitionOption(for: settings.partition, in: options) {
            setenv("COLLECT_GCC_OPTIONS", CollectOptions.appending(partition, to: options), 1)
        }
        execRaw(real, argv0: real)
    }

    /// Appends one line to the fallback log beside the socket, if its directory exists;
    /// the daemon counts the lines into `sessions.fallbacks` when it next runs.
    static func recordFallback(_ reason: String) {
        let fd = open(Places.current.fallbackLog, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        writeAll(fd, Array("\(time(nil)) \(reason)\n".utf8))
        close(fd)
    }

    /// GCC's real lto-wrapper for this driver (`$COLLECT_GCC -print-prog-name=lto-wrapper`),
    /// asked without COMPILER_PATH, which holds ltod's own directory during this link.
    static func realLTOWrapper(driver: String) -> String {
        let env = currentEnvironment().filter { !$0.hasPrefix("COMPILER_PATH=") }
        var cmd = Command(executable: driver, argv: [driver, "-print-prog-name=lto-wrapper"], environment: env)
        cmd.stdin = .null
        let answer: String
        do {
            let (status, out) = try capture(cmd)
            guard status.succeeded else { fail("\(driver) -print-prog-name=lto-wrapper failed") }
            answer = String(decoding: out, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        } catch {
            fail("cannot ask \(driver) for its lto-wrapper: \(error)")
        }
        guard answer.hasPrefix("/"), access(answer, X_OK) == 0 else {
            fail("\(driver) has no lto-wrapper (it answered '\(answer)'); is it a GCC with LTO support?")
        }
        guard realPath(answer) != executablePath() else {
            fail("\(driver) names ltod's own lto-wrapper as its lto-wrapper; remove ltod's directory from GCC_EXEC_PREFIX")
        }
        return answer
    }
}

/// One output of the real lto-wrapper being read: what it holds so far, passed on to
/// `forwardTo` as it comes when set. A pseudo-terminal's master reads EIO once every writer
/// has closed; that, like end of file, closes it.
private struct PipeReader {
    let fd: Int32
    var forwardTo: Int32?
    var bytes: [UInt8] = []
    var open = true

    init(fd: Int32, forwardTo: Int32? = nil) {
        self.fd = fd
        self.forwardTo = forwardTo
    }

    /// Reads one chunk if one is ready within `timeout` ms; false when nothing was read.
    mutating func readReady(timeout: Int32) -> Bool {
        guard open else { return false }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, timeout) > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { return true }
        guard n > 0 else {
            open = false
            return false
        }
        if let forwardTo { writeAll(forwardTo, Array(chunk[0..<n])) }
        if bytes.count <= Wrapper.messagesLimit || forwardTo == nil { bytes += chunk[0..<n] }
        return true
    }

    /// Waits up to `timeout` ms until one of `readers` has something to read.
    static func wait(_ readers: [PipeReader], timeout: Int32) {
        var entries = readers.filter(\.open).map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        guard !entries.isEmpty else { return }
        _ = poll(&entries, nfds_t(entries.count), timeout)
    }
}
