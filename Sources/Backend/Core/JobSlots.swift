// LTOBackend: the job slots of one link: what its compiler processes may run on when the
// link's shim handed make's jobserver to the daemon.
import LTOSystem

/// One link's job slots. Without a jobserver there are no slots to take here (the daemon's
/// own limit, in `Scheduler`, is all that applies). With one, a process runs on one of the
/// link's own tokens or on a token read from the jobserver:
///
/// - The link's process holds one token already (make's implicit one), and each job request
///   of the link being served holds one too: a request comes from lto-wrapper itself (on the
///   link's token) or from a job of the make lto-wrapper runs for LTRANS (on a token that make
///   took for it). So the link owns max(1, requests being served) tokens.
/// - Beyond those, a process waits for a token from the jobserver, and gives it back when it
///   ends; all are given back when the link ends (`close`), and the jobserver's descriptors
///   closed then (make, when it ends, reads its pipe until no writer is left).
public final class JobSlots: Sendable {
    /// What one process runs on.
    public enum Slot: Sendable {
        /// No jobserver: only the daemon's limit applies.
        case unmetered
        /// One of the link's own tokens.
        case own
        /// A token read from the jobserver, the byte to write back.
        case token(UInt8)
    }

    /// Whether the link handed over a jobserver.
    public let metered: Bool

    private struct State {
        /// Until the link ends.
        var jobserver: Jobserver?
        var requests = 0
        var ownInUse = 0
        /// Tokens read from the jobserver and not given back yet.
        var held: [UInt8] = []
        /// A thread is polling the jobserver for this link; the others wait on the monitor.
        var polling = false

        var closed: Bool { jobserver == nil }
        var ownCapacity: Int { max(1, requests) }
    }

    private enum Step {
        case stop
        case granted(Slot)
        case poll(Jobserver)
    }

    private let state: Monitor<State>

    /// How long one wait on the jobserver lasts before the waiter looks at cancellation and
    /// the link's own tokens again.
    static let pollMilliseconds: Int32 = 50

    public init(jobserver: Jobserver?) {
        metered = jobserver != nil
        state = Monitor(State(jobserver: jobserver))
    }

    /// Processes running on the link's own tokens and on tokens from the jobserver.
    public var inUse: (own: Int, tokens: Int) { state.withLock { ($0.ownInUse, $0.held.count) } }

    /// Serves one job request of the link: it brings the token its requester holds.
    public func serving<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        state.withLockBroadcasting { $0.requests += 1 }
        defer { state.withLockBroadcasting { $0.requests -= 1 } }
        return try body()
    }

    /// Waits for a slot: one of the link's own tokens if one is free, else a token from the
    /// jobserver. Throws `LinkCancelled` as soon as `cancellation` is cancelled.
    func acquire(until cancellation: Cancellation) throws(LinkCancelled) -> Slot {
        guard metered else { return .unmetered }
        let wake = { @Sendable [state] in state.withLockBroadcasting { _ in } }
        return try cancellation.whileWatching(wake) { () throws(LinkCancelled) -> Slot in
            while true {
                let step = state.wait(until: { s in cancellation.isCancelled || s.closed || s.ownInUse < s.ownCapacity || !s.polling }) { s -> Step in
                    guard let jobserver = s.jobserver, !cancellation.isCancelled else { return .stop }
                    if s.ownInUse < s.ownCapacity {
                        s.ownInUse += 1
                        return .granted(.own)
                    }
                    s.polling = true
                    return .poll(jobserver)
                }
                switch step {
                case .stop: throw LinkCancelled()
                case .granted(let slot): return slot
                case .poll(let jobserver): if let token = poll(jobserver) { return .token(token) }
                }
            }
        }
    }

    /// One turn at the jobserver: a token if one could be read (and the link still takes them).
    private func poll(_ jobserver: Jobserver) -> UInt8? {
        let token = jobserver.take()
        if token == nil { jobserver.waitForToken(milliseconds: Self.pollMilliseconds) }
        let kept = state.withLockBroadcasting { s -> Bool in
            s.polling = false
            guard let token, !s.closed else { return false }
            s.held.append(token)
            return true
        }
        if let token, !kept { jobserver.give(token) }
        return kept ? token : nil
    }

    /// Gives a slot back when its process ended.
    func release(_ slot: Slot) {
        switch slot {
        case .unmetered: return
        case .own: state.withLockBroadcasting { $0.ownInUse -= 1 }
        case .token(let token):
            let jobserver = state.withLockBroadcasting { s -> Jobserver? in
                guard let i = s.held.firstIndex(of: token) else { return nil }
                s.held.remove(at: i)
                return s.jobserver
            }
            jobserver?.give(token)
        }
    }

    /// The link is over: every token still held is given back now (a process still running
    /// then is a build another link waits for, and goes on for that link), and no more are taken.
    public func close() {
        let (jobserver, held) = state.withLockBroadcasting { s -> (Jobserver?, [UInt8]) in
            defer {
                s.jobserver = nil
                s.held = []
            }
            return (s.jobserver, s.held)
        }
        for token in held { jobserver?.give(token) }
    }
}
