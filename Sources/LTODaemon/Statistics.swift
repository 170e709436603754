import Foundation
import LTOCache
import Synchronization

/// Counters of the daemon, kept all-time in the cache's SQLite database (so they
/// survive restarts) and since this daemon started (all-time minus a start snapshot).
public final class Statistics: Sendable {
    private let store: CacheStore
    private let baseline: Mutex<[String: Double]>

    /// Every counter the daemon keeps, with what it counts, so reports list zeros rather
    /// than omit them (and the Prometheus exposition has its HELP lines).
    public static let counters: KeyValuePairs<String, String> = [
        "cache.hits": "LTRANS jobs answered from the cache",
        "cache.misses": "LTRANS jobs that had to be compiled",
        "cache.corrupt": "cache entries whose payload failed its hash check (removed and rebuilt)",
        "cache.evictions": "cache entries removed to stay under the size limit",
        "cache.store_failures": "LTRANS results that could not be stored (e.g. a full disk)",
        "wpa.runs": "WPA runs",
        "wpa.seconds": "wall time spent in WPA",
        "wpa.failures": "WPA runs that failed",
        "ltrans.reused": "partitions taken from the cache",
        "ltrans.rebuilt": "partitions compiled",
        "ltrans.seconds_spent": "wall time spent compiling partitions",
        "ltrans.seconds_saved": "recorded build time of the partitions taken from the cache",
        "ltrans.uncacheable": "LTRANS jobs run uncached (options with side files)",
        "ltrans.failures": "LTRANS jobs that failed",
        "ltrans.prefetched": "misses compiled ahead of lto-wrapper's request",
        "ltrans.raw_keys": "partitions keyed on raw bytes (layout not recognised)",
        "ltrans.canonical_keys": "partitions keyed canonically (symbol numbers replaced by their rank)",
        "ltrans.canonical_fallbacks": "partitions keyed by their bytes because canonical keys could not be used for them",
        "ltrans.canonical_hits": "partitions reused only thanks to canonical keys (renumbered symbols)",
        "ltrans.audit_runs": "canonical-only hits re-compiled by the audit and compared",
        "ltrans.audit_mismatches": "audited hits whose re-compiled object differed from the cached one",
        "sessions.total": "links seen",
        "sessions.fallbacks": "links that ran without the daemon",
        "inputs.parsed": "input objects read and parsed",
        "inputs.reused": "unchanged input objects not read again",
    ]

    static var names: [String] { counters.map(\.key) }

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

    /// Counts the links the shim ran without a daemon (one line each in the fallback log)
    /// and empties the log. A line appended while it is being read may be lost, never doubled.
    func importFallbacks(from log: String) {
        let taken = log + ".\(getpid()).importing"
        guard rename(log, taken) == 0 else { return }
        defer { unlink(taken) }
        let lines = (try? String(contentsOfFile: taken, encoding: .utf8))?.split(separator: "\n").count ?? 0
        if lines > 0 { add("sessions.fallbacks", Double(lines)) }
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
