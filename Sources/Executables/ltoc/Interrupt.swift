// ltoc: termination signals during a link (Ctrl-C sends SIGINT to the whole process group).
// The wrapper passes the signal on to GCC's lto-wrapper (which removes its temporary files),
// tells the daemon at once, so that it stops the link's work and gives make's tokens back,
// waits for lto-wrapper, then ends by the same signal, as lto-wrapper itself would.
#if canImport(Glibc)
import Glibc
#endif
import CPosix
import LTOSystem

enum Interrupt {
    /// Catches SIGINT, SIGTERM, SIGHUP and SIGQUIT from now on (unless they are ignored, as in
    /// a background job: then they stay ignored, for lto-wrapper too).
    static func trap() { ltod_trap_termination_signals() }

    /// The termination signal caught, if any.
    static var signal: Int32? {
        let caught = ltod_trapped_signal()
        return caught == 0 ? nil : caught
    }

    /// Waits for `pid` until it ends, or until a termination signal is caught (nil then).
    static func wait(for pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        while signal == nil {
            if waitpid(pid, &status, 0) == pid { return ExitStatus(waitStatus: status) }
            if errno != EINTR { return .exited(127) }
        }
        return nil
    }

    /// Ends this process by `signal`, as a process killed by it.
    static func die(by signal: Int32) -> Never {
        ltod_die_by_signal(signal)
        exit(128 + signal)
    }
}
