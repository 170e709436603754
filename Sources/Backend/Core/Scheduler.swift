// LTOBackend: when a compiler process may start: a job slot of the link it runs for (make's
// jobserver, when the link handed it over) and one of the daemon's own slots.
import LTOSystem

/// Whom a compiler process runs for: the job slots it takes (its link's) and the cancellation
/// that stops it. A `LinkSession` is one; `InFlight` hands its builds a `SharedJob`.
public protocol JobOwner: Sendable {
    var slots: JobSlots { get }
    var cancellation: Cancellation { get }
}

/// A build that several links may wait for: it runs on the slots of the link that started it,
/// and stops only when every link waiting for it is cancelled.
public struct SharedJob: JobOwner {
    public let slots: JobSlots
    public let cancellation: Cancellation

    public init(slots: JobSlots, cancellation: Cancellation) {
        self.slots = slots
        self.cancellation = cancellation
    }
}

/// The daemon's own work, for no link (the audit): only the daemon's limit applies, and
/// nothing cancels it.
public struct DaemonJob: JobOwner {
    public let slots = JobSlots(jobserver: nil)
    public let cancellation = Cancellation()

    public init() {}
}

/// Bounds the WPA and LTRANS processes running at once across all link sessions (`limit`,
/// setting `jobs`), so several links under `make -j` do not oversubscribe the machine; and
/// within a link whose shim handed over make's jobserver, to make's tokens.
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

    /// Runs `body` once `owner` has a job slot of its link (taken first, so that waiting for
    /// make never holds one of the daemon's slots) and a daemon slot is free. Throws
    /// `LinkCancelled` if the owner is cancelled before both are there.
    public func withSlot<T>(for owner: some JobOwner, _ body: () throws -> T) throws -> T {
        let slot = try owner.slots.acquire(until: owner.cancellation)
        defer { owner.slots.release(slot) }
        let limit = self.limit, cancellation = owner.cancellation
        let admitted = cancellation.whileWatching({ [state] in state.withLockBroadcasting { _ in } }) {
            state.wait(until: { $0.running < limit || cancellation.isCancelled }) { s -> Bool in
                guard !cancellation.isCancelled else { return false }
                s.running += 1
                s.peak = max(s.peak, s.running)
                return true
            }
        }
        guard admitted else { throw LinkCancelled() }
        defer { state.withLockBroadcasting { $0.running -= 1 } }
        return try body()
    }
}
