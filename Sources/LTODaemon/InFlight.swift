import Foundation
import LTOHash

/// LTRANS jobs being built right now, by cache key, so that a request for a key
/// that a prefetch (or another link) is already building waits for it instead of
/// building it twice.
final class InFlight: @unchecked Sendable {
    // Guards `running`; @unchecked because NSCondition is the lock.
    private let condition = NSCondition()
    private var running: Set<Digest> = []

    /// Claims `key`; false when someone else is building it.
    func begin(_ key: Digest) -> Bool {
        condition.lock(); defer { condition.unlock() }
        return running.insert(key).inserted
    }

    func finish(_ key: Digest) {
        condition.lock()
        running.remove(key)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits while `key` is being built; true if there was such a build.
    func waitIfRunning(_ key: Digest) -> Bool {
        condition.lock(); defer { condition.unlock() }
        guard running.contains(key) else { return false }
        while running.contains(key) { condition.wait() }
        return true
    }
}
