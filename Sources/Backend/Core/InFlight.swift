// LTOBackend: builds in progress, so that one key is built once however many links ask.
import LTOHash
import LTOSystem

/// Jobs being built right now, by cache key. A request for a key that another link (or a
/// build started ahead of its request) is building waits for it and then reuses its result.
public final class InFlight: Sendable {
    private let running = Monitor<Set<Digest>>([])

    public init() {}

    /// Builds `key` once: `reuse` answers if someone already built it (waiting for a build
    /// in progress first); otherwise `build` runs while `key` is claimed. If another build
    /// of the key ended without a result to reuse, `build` runs here too.
    public func buildOnce<T>(_ key: Digest, reuse: () -> T?, build: () throws -> T) rethrows -> T {
        waitWhileRunning(key)
        if let result = reuse() { return result }
        if claim(key) {
            defer { release(key) }
            return try build()
        }
        waitWhileRunning(key)
        if let result = reuse() { return result }
        return try build()
    }

    /// Claims `key` for a build started elsewhere (ahead of its request); false when taken.
    public func claim(_ key: Digest) -> Bool {
        running.withLock { $0.insert(key).inserted }
    }

    /// Ends a claim, waking whoever waits for `key`.
    public func release(_ key: Digest) {
        running.withLockBroadcasting { _ = $0.remove(key) }
    }

    private func waitWhileRunning(_ key: Digest) {
        running.wait { !$0.contains(key) }
    }
}
