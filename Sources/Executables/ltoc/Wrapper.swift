#if canImport(Glibc)
import Glibc
#endif
import LTOConfig
import LTOGCC
import LTOSystem
import LTOWire

/// Wrapper mode: ltoc runs as GCC's lto-wrapper for one link. It opens a session with the
/// daemon, which may answer the whole link at once (every input unchanged): then ltoc prints
/// what the daemon restored and exits, and lto-wrapper never runs. Otherwise it runs GCC's
/// real lto-wrapper with COLLECT_GCC pointing back at ltoc, so that WPA reaches the daemon,
/// reads the objects lto-wrapper prints for the linker, expands ltod's lists of finished
/// objects in them, and tells the daemon what was printed. If the daemon cannot be reached,
/// the real lto-wrapper runs as if ltod were not there.
enum Wrapper {
    static func run(_ argv: [String]) -> Never {
        guard let collectGCC = lookup("COLLECT_GCC"), !collectGCC.isEmpty else {
            fail("COLLECT_GCC is not set: lto-wrapper is run by gcc during a -flto link, not by hand")
        }
        guard invocationIsText() else { runUnchanged(argv) }
        let invocation = Invocation(argv: argv, cwd: currentDirectory(), environment: currentEnvironment() + [terminalFacts()])
        let socket: FrameSocket
        let reply: Reply
        do {
            socket = try connectToDaemon(autostart: true)
            reply = try socket.request(.openSession(invocation))
        } catch {
            fallBack(driver: collectGCC, reason: "\(error)")
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
            fallBack(driver: collectGCC, reason: failureText(reply))
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
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0, fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0 else {
            fail("cannot create a pipe: \(errnoText())")
        }
        var command = Command(executable: real, argv: [real] + argv.dropFirst(), environment: env)
        command.stdout = .descriptor(fds[1])
        let (status, printed): (ExitStatus, [UInt8])
        do {
            let pid = try spawn(command)
            close(fds[1])
            let progress = isatty(2) == 1 ? Progress(socket: socket, session: id) : nil
            (status, printed) = collect(pid, stdout: fds[0], every: progress.map { p in { p.update() } })
            progress?.clear()
        } catch {
            fail("\(error)")
        }
        let output = status.succeeded ? expandFinishedObjects(printed) : printed
        switch try? socket.request(.closeSession(id: id, exitStatus: status.code, printed: output)) {
        case nil: printError("ltod went away during this link; it finished without the cache")
        case .output(_, _, let warning)? where !warning.isEmpty: printError(String(decoding: warning, as: UTF8.self))
        default: break
        }
        writeAll(1, output)
        exit(status.code)
    }

    /// Waits for `pid`, reading everything it writes to `stdout` meanwhile (a pipe is never
    /// left full), and calls `tick` about five times a second.
    static func collect(_ pid: pid_t, stdout fd: Int32, every tick: (() -> Void)?) -> (ExitStatus, [UInt8]) {
        var printed: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var open = true
        while true {
            var status: Int32 = 0
            let exited = waitpid(pid, &status, WNOHANG)
            if exited == pid || (exited < 0 && errno != EINTR) {
                // Its output is all in the pipe; whatever else holds the pipe is not waited for.
                while open, readable(fd, timeout: 0) { open = readChunk(fd, into: &printed, chunk: &chunk) }
                close(fd)
                return (exited == pid ? ExitStatus(waitStatus: status) : wait(for: pid), printed)
            }
            if open, readable(fd, timeout: 200) { open = readChunk(fd, into: &printed, chunk: &chunk) } else if !open { usleep(20_000) }
            tick?()
        }
    }

    private static func readable(_ fd: Int32, timeout milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, milliseconds) > 0
    }

    /// Appends one read's bytes; false at the end of the stream or on an error.
    private static func readChunk(_ fd: Int32, into printed: inout [UInt8], chunk: inout [UInt8]) -> Bool {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { return true }
        guard n > 0 else { return false }
        printed += chunk[0..<n]
        return true
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

    /// Runs GCC's own lto-wrapper unchanged (or refuses, with LTOD_STRICT=1).
    static func fallBack(driver: String, reason: String) -> Never {
        if ConfigScan.strict { fail("ltod is not available (\(reason)) and strict mode is on (LTOD_STRICT or strict in config.toml)") }
        let real = realLTOWrapper(driver: driver)
        printError("ltod is not available (\(reason)); linking without the cache")
        recordFallback(reason)
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
