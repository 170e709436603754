// LTOBackend: builds in progress, so that one key is built once however many links ask, and
// goes on while any of them still waits for it.
import LTOHash
import LTOSystem

/// Jobs being built right now, by cache key. A request for a key that another link is
/// building waits for it and then reuses its result.
/// A build stops (its `SharedJob` is cancelled) only once the link that started it and every
/// link waiting for it are cancelled.
public final class InFlight: Sendable {
    private struct Build {
        /// Cancelled when nobody wants the build any more.
        let interest = Cancellation()
        /// The links (starter and waiters) that still want it.
        var parties = 1
    }

    private let running = Monitor<[Digest: Build]>([:])

    public init() {}

    /// Builds `key` once for `owner`: `reuse` answers if someone already built it (waiting for a
    /// build in progress first); otherwise `build` runs while `key` is claimed, with the job it
    /// runs its processes as. If another build of the key ended without a result to reuse,
    /// `build` runs here too. Throws `LinkCancelled` when the owner is cancelled while waiting.
    public func buildOnce<T>(_ key: Digest, for owner: some JobOwner, reuse: () -> T?, build: (SharedJob) throws -> T) throws -> T {
        try waitWhileRunning(key, party: owner.cancellation)
        if let result = reuse() { return result }
        if let interest = start(key) {
            defer { release(key) }
            let job = SharedJob(slots: owner.slots, cancellation: interest)
            return try owner.cancellation.whileWatching({ [self] in leave(key, interest) }) { try build(job) }
        }
        try waitWhileRunning(key, party: owner.cancellation)
        if let result = reuse() { return result }
        return try build(SharedJob(slots: owner.slots, cancellation: owner.cancellation))
    }

    /// Ends a build, waking whoever waits for `key`.
    private func release(_ key: Digest) {
        running.withLockBroadcasting { _ = $0.removeValue(forKey: key) }
    }

    /// Marks `key` as being built; its interest, or nil when someone else builds it.
    private func start(_ key: Digest) -> Cancellation? {
        running.withLock { builds in
            guard builds[key] == nil else { return nil }
            let build = Build()
            builds[key] = build
            return build.interest
        }
    }

    /// How many links want the build of `key` in progress (0: none is running).
    func demand(for key: Digest) -> Int { running.withLock { $0[key]?.parties ?? 0 } }

    /// Waits while `key` is being built, as one more party that wants the build.
    private func waitWhileRunning(_ key: Digest, party: Cancellation) throws(LinkCancelled) {
        guard let interest = running.withLock({ builds -> Cancellation? in
            builds[key]?.parties += 1
            return builds[key]?.interest
        }) else { return }
        let registration = party.onCancel { [self] in
            leave(key, interest)
            running.withLockBroadcasting { _ in }
        }
        running.wait { builds in builds[key]?.interest !== interest || party.isCancelled }
        if party.remove(registration) { leave(key, interest) }
        try party.check()
    }

    /// One party no longer wants the build of `key` that `interest` belongs to; the last one
    /// out cancels it.
    private func leave(_ key: Digest, _ interest: Cancellation) {
        let last = running.withLock { builds -> Bool in
            guard builds[key]?.interest === interest else { return false }
            builds[key]!.parties -= 1
            return builds[key]!.parties == 0
        }
        if last { interest.cancel() }
    }
}
