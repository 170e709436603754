// LTODaemon: the daemon's counters, all-time (kept by a counter store, so they survive
// restarts) and since this daemon started (all-time minus a snapshot taken at start).
import Foundation
import LTOStatistics
import LTOSystem
import Synchronization

/// Records the counters of `Statistic` for the backend and reports them for `ltoc stats`.
public final class Statistics: StatisticsRecorder {
    private let store: any CounterStore
    private let baseline: Mutex<[Statistic: Double]>

    public init(store: any CounterStore) {
        self.store = store
        baseline = Mutex((try? store.counters()) ?? [:])
    }

    public func add(_ deltas: [Statistic: Double]) {
        try? store.addCounters(deltas)
    }

    /// (all-time, since start) for every counter.
    func snapshot() -> (allTime: [Statistic: Double], sinceStart: [Statistic: Double]) {
        let now = (try? store.counters()) ?? [:]
        let base = baseline.withLock { $0 }
        var all: [Statistic: Double] = [:]
        var since: [Statistic: Double] = [:]
        for statistic in Statistic.allCases {
            all[statistic] = now[statistic] ?? 0
            since[statistic] = (now[statistic] ?? 0) - (base[statistic] ?? 0)
        }
        return (all, since)
    }

    /// Counts the links the shim ran without a daemon (one line each in the fallback log)
    /// and empties the log. A line appended while it is being read may be lost, never doubled.
    func importFallbacks(from log: String) {
        let taken = log + ".\(getpid()).importing"
        guard rename(log, taken) == 0 else { return }
        defer { unlink(taken) }
        let lines = readFileText(taken)?.split(separator: "\n").count ?? 0
        if lines > 0 { add(.sessionsFallbacks, Double(lines)) }
    }

    /// Zeroes the all-time counters while keeping the since-start figures.
    func zero() throws {
        let current = snapshot()
        try store.resetCounters()
        baseline.withLock { base in
            for (statistic, value) in current.sinceStart { base[statistic] = -value }
        }
    }
}
