// LTODaemon: noticing that a client went away while its request is being served (Ctrl-C
// killed the shim waiting for a compile), so that the work it asked for can be cancelled.
import CPosix
import Foundation
import LTOSystem
import Synchronization

/// One thread polling the connections whose requests are in progress for a hang-up (the
/// peer closed its end). A watch fires its handler once, on that thread.
final class HangupWatcher: Sendable {
    private struct Watch {
        let fd: Int32
        let onHangup: @Sendable () -> Void
    }

    private let watches = Mutex<[Int: Watch]>([:])
    private let nextID = Atomic<Int>(0)
    /// Written to wake the polling thread when the set of watches changes.
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        if ltod_pipe_cloexec(&fds) != 0 { fatalError("pipe: \(errnoText())") }
        (wakeRead, wakeWrite) = (fds[0], fds[1])
        _ = fcntl(wakeRead, F_SETFL, fcntl(wakeRead, F_GETFL) | O_NONBLOCK)
        _ = fcntl(wakeWrite, F_SETFL, fcntl(wakeWrite, F_GETFL) | O_NONBLOCK)
        Thread.detachNewThread { [self] in poll() }
    }

    /// Runs `body` while `fd` is watched: if its peer hangs up meanwhile, `onHangup` runs.
    func whileWatching<T>(_ fd: Int32, onHangup: @escaping @Sendable () -> Void, _ body: () throws -> T) rethrows -> T {
        let id = nextID.add(1, ordering: .relaxed).newValue
        watches.withLock { $0[id] = Watch(fd: fd, onHangup: onHangup) }
        wake()
        defer {
            watches.withLock { _ = $0.removeValue(forKey: id) }
            wake()
        }
        return try body()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func poll() {
        while true {
            let current = watches.withLock { $0.map { ($0.key, $0.value) } }
            // POLLRDHUP (0x2000, Linux): the peer closed; incoming data is not asked for.
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
                + current.map { pollfd(fd: $0.1.fd, events: 0x2000, revents: 0) }
            guard Glibc.poll(&fds, nfds_t(fds.count), -1) > 0 else { continue }
            if fds[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &drain, drain.count) > 0 {}
            }
            for (i, (id, watch)) in current.enumerated() where fds[i + 1].revents != 0 {
                // Fired once: the watch leaves the set before its handler runs.
                if watches.withLock({ $0.removeValue(forKey: id) }) != nil { watch.onHangup() }
            }
        }
    }
}
