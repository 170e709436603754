// LTOBackend: the bound on compiler processes running at once across all links.
import LTOSystem

/// Bounds the WPA and LTRANS processes running at once across all link sessions,
/// so several links under `make -j` do not oversubscribe the machine.
public final class Scheduler: Sendable {
    public let limit: Int
    private let state = Monitor(State())

    private struct State {
        var running = 0
        var peak = 0
    }

    public init(limit: Int) { self.limit = max(1, limit) }

    /// The most processes that ever ran at once.
    public var peakRunning: Int { state.withLock { $0.peak } }

    /// Processes running now.
    public var running: Int { state.withLock { $0.running } }

    /// Runs `body` once a slot is free.
    public func withSlot<T>(_ body: () throws -> T) rethrows -> T {
        let limit = self.limit
        state.wait(until: { $0.running < limit }) { s in
            s.running += 1
            s.peak = max(s.peak, s.running)
        }
        defer { state.withLockBroadcasting { $0.running -= 1 } }
        return try body()
    }
}
