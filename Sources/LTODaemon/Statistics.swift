import Foundation
import LTOCache
import Synchronization

/// Counters of the daemon, kept all-time in the cache's SQLite database (so they
/// survive restarts) and since this daemon started (all-time minus a start snapshot).
public final class Statistics: Sendable {
    private let store: CacheStore
    private let baseline: Mutex<[String: Double]>

    /// Every counter name the daemon uses, so reports list zeros rather than omit them.
    public static let names = [
        "cache.hits", "cache.misses", "cache.corrupt", "cache.evictions", "cache.store_failures",
        "wpa.runs", "wpa.seconds", "wpa.failures",
        "ltrans.reused", "ltrans.rebuilt", "ltrans.seconds_spent", "ltrans.seconds_saved",
        "ltrans.uncacheable", "ltrans.failures", "ltrans.prefetched", "ltrans.raw_keys",
        "sessions.total", "sessions.fallbacks",
        "inputs.parsed", "inputs.reused",
    ]

    init(store: CacheStore) {
        self.store = store
        baseline = Mutex((try? store.counters()) ?? [:])
    }

    func add(_ deltas: [String: Double]) {
        try? store.addCounters(deltas)
    }

    func add(_ name: String, _ delta: Double = 1) { add([name: delta]) }

    /// (all-time, since start) for every counter.
    func snapshot() -> (allTime: [String: Double], sinceStart: [String: Double]) {
        let now = (try? store.counters()) ?? [:]
        let base = baseline.withLock { $0 }
        var all: [String: Double] = [:]
        var since: [String: Double] = [:]
        for name in Self.names {
            all[name] = now[name] ?? 0
            since[name] = (now[name] ?? 0) - (base[name] ?? 0)
        }
        return (all, since)
    }

    /// Zeroes the all-time counters while keeping the since-start figures.
    func zero() throws {
        let current = snapshot()
        try store.resetCounters()
        baseline.withLock { base in
            for (name, value) in current.sinceStart { base[name] = -value }
        }
    }
}
