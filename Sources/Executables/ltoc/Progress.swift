#if canImport(Glibc)
import Glibc
#endif
import LTOSystem
import LTOWire

/// The progress line a link through ltod shows on a terminal: after about a second,
/// one line updated in place (partitions done of total, reused, running), cleared at the end.
enum Progress {
    static let delay = 1.0
    static let interval: UInt32 = 200_000

    /// Waits for the real lto-wrapper, asking the daemon for the session's progress meanwhile;
    /// nil when a termination signal is caught first.
    static func waitShowing(_ pid: pid_t, socket: FrameSocket, session: String) -> ExitStatus? {
        let start = now()
        var shown = false
        defer { if shown { writeAll(2, Array("\r\u{1B}[K".utf8)) } }
        while Interrupt.signal == nil {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return ExitStatus(waitStatus: status) }
            if r < 0 && errno != EINTR { return Interrupt.wait(for: pid) }
            if now() - start >= delay, let line = line(socket, session) {
                writeAll(2, Array(("\r\u{1B}[K" + line).utf8))
                shown = true
            }
            usleep(interval)
        }
        return nil
    }

    private static func line(_ socket: FrameSocket, _ session: String) -> String? {
        guard case .output(_, let out, _)? = try? socket.request(.command(name: "progress", arguments: [session])) else { return nil }
        let f = String(decoding: out, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        guard f.count == 4, f[1] > 0 else { return "ltod: whole-program analysis..." }
        return "ltod: partitions \(f[0])/\(f[1]) done, \(f[2]) reused, \(f[3]) running"
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
