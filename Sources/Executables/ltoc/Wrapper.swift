#if canImport(Glibc)
import Glibc
#endif
import LTOConfig
import LTOGCC
import LTOSystem
import LTOWire

/// Wrapper mode: ltoc runs as GCC's lto-wrapper for one link. It opens a session with
/// the daemon (handing it make's jobserver when the link has one), then runs GCC's real
/// lto-wrapper with COLLECT_GCC pointing back at ltoc, so that every WPA and LTRANS command
/// reaches the daemon. If the daemon cannot be reached, the real lto-wrapper runs as if ltod
/// were not there.
enum Wrapper {
    static func run(_ argv: [String]) -> Never {
        // First, before this process opens anything that could take the descriptor numbers
        // MAKEFLAGS names (make passes them only to `+` recipes).
        let jobserver = (lookup("MAKEFLAGS").flatMap(MakeJobserver.init(makeflags:))
            ?? lookup(ShimEnvironment.jobserver).flatMap(MakeJobserver.init(auth:)))?.descriptors()
        guard let collectGCC = lookup("COLLECT_GCC"), !collectGCC.isEmpty else {
            fail("COLLECT_GCC is not set: lto-wrapper is run by gcc during a -flto link, not by hand")
        }
        let real = realLTOWrapper(driver: collectGCC)
        guard invocationIsText() else { execRaw(real, argv0: real) }
        let settings = linkSettings()
        let env = currentEnvironment()
        let invocation = Invocation(argv: argv, cwd: currentDirectory(), environment: env)
        let socket: FrameSocket
        let reply: Reply
        do {
            socket = try connectForLink()
            reply = try socket.request(.openSession(invocation), passing: jobserver.map { [$0.read, $0.write] } ?? [])
            if let jobserver, jobserver.opened { close(jobserver.read) }
        } catch {
            fallBack(real: real, settings: settings, reason: "\(error)")
        }
        if case .passThrough = reply { runUnchanged(argv) }
        guard case .session(let id, let partitionOption) = reply else {
            fallBack(real: real, settings: settings, reason: failureText(reply))
        }
        var childEnv = setting("COLLECT_GCC", to: executablePath(), in: env)
        childEnv = setting(ShimEnvironment.driver, to: collectGCC, in: childEnv)
        childEnv = setting(ShimEnvironment.session, to: id, in: childEnv)
        if !partitionOption.isEmpty {
            let options = CollectOptions.appending(partitionOption, to: lookup("COLLECT_GCC_OPTIONS") ?? "")
            childEnv = setting("COLLECT_GCC_OPTIONS", to: options, in: childEnv)
        }
        Interrupt.trap()
        var command = Command(executable: real, argv: [real] + argv.dropFirst(), environment: childEnv)
        command.resetSignals = false
        let pid: pid_t
        do { pid = try spawn(command) } catch { fail("\(error)") }
        let ended = isatty(2) == 1 ? Progress.waitShowing(pid, socket: socket, session: id) : Interrupt.wait(for: pid)
        if let signal = Interrupt.signal { interrupted(by: signal, realWrapper: ended == nil ? pid : nil, socket: socket, session: id) }
        guard let status = ended else { fail("lost track of \(real)") }
        switch try? socket.request(.closeSession(id: id, exitStatus: status.code)) {
        case nil: printError("ltod went away during this link; it finished without the cache")
        case .output(_, _, let warning)? where !warning.isEmpty: printError(String(decoding: warning, as: UTF8.self))
        default: break
        }
        exit(status.code)
    }

    /// A termination signal during the link (see Interrupt): passed on to GCC's lto-wrapper
    /// (`pid`, unless it has ended already), the session closed at once (the daemon stops its
    /// work and gives make's tokens back), then, once lto-wrapper has ended, this process ends
    /// by the same signal.
    static func interrupted(by signal: Int32, realWrapper pid: pid_t?, socket: FrameSocket, session id: String) -> Never {
        if let pid { kill(pid, signal) }
        _ = try? socket.request(.closeSession(id: id, exitStatus: 128 + signal))
        if let pid { _ = wait(for: pid) }
        Interrupt.die(by: signal)
    }

    /// Runs GCC's own lto-wrapper with ltod out of the way.
    static func runUnchanged(_ argv: [String]) -> Never {
        guard let collectGCC = lookup(ShimEnvironment.driver) ?? lookup("COLLECT_GCC") else {
            fail("COLLECT_GCC is not set: lto-wrapper is run by gcc during a -flto link, not by hand")
        }
        let real = realLTOWrapper(driver: collectGCC)
        for name in ShimEnvironment.all { unsetenv(name) }
        setenv("COLLECT_GCC", collectGCC, 1)
        execRaw(real, argv0: real)
    }

    /// Runs GCC's own lto-wrapper without the daemon, with the partitioning ltod would have
    /// asked for, so that the binary is the one a link through ltod gives (or refuses, in
    /// strict mode).
    static func fallBack(real: String, settings: Configuration, reason: String) -> Never {
        if settings.strict { fail("ltod is not available (\(reason)) and strict mode is on (LTOD_STRICT or strict in config.toml)") }
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
