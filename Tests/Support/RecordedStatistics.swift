// LTOTestSupport: a statistics recorder that keeps the counts in memory, for tests that
// check what a component counted.
import LTOStatistics
import Synchronization

/// Counts kept in memory.
public final class RecordedStatistics: StatisticsRecorder {
    private let counts = Mutex<[Statistic: Double]>([:])

    public init() {}

    public func add(_ deltas: [Statistic: Double]) {
        counts.withLock { c in for (s, d) in deltas { c[s, default: 0] += d } }
    }

    /// The count of `statistic` so far.
    public subscript(_ statistic: Statistic) -> Double { counts.withLock { $0[statistic] ?? 0 } }
}
