#if canImport(Glibc)
import Glibc
#endif
import LTOSystem
import LTOWire

/// The progress line a link through ltod shows on a terminal: after about a second,
/// one line updated in place (partitions done of total, reused, running), cleared at the end.
final class Progress {
    static let delay = 1.0
    private let socket: FrameSocket
    private let session: String
    private let start = Progress.now()
    private var shown = false

    init(socket: FrameSocket, session: String) {
        self.socket = socket
        self.session = session
    }

    /// Asks the daemon for the session's progress and shows it, once the delay has passed.
    func update() {
        guard Self.now() - start >= Self.delay, let line = line() else { return }
        writeAll(2, Array(("\r\u{1B}[K" + line).utf8))
        shown = true
    }

    /// Removes the line, if it was shown.
    func clear() {
        if shown { writeAll(2, Array("\r\u{1B}[K".utf8)) }
    }

    private func line() -> String? {
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
