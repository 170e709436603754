import Foundation

/// Bounds the WPA and LTRANS processes running at once across all link sessions,
/// so several links under `make -j` do not oversubscribe the machine.
public final class Scheduler: @unchecked Sendable {
    public let limit: Int
    // Guards `runningCount` and `peak`; @unchecked because NSCondition is the lock.
    private let condition = NSCondition()
    private var runningCount = 0
    private var peak = 0

    public init(limit: Int) { self.limit = max(1, limit) }

    /// The most processes that ever ran at once.
    public var peakRunning: Int {
        condition.lock(); defer { condition.unlock() }
        return peak
    }

    /// Processes running now.
    public var running: Int {
        condition.lock(); defer { condition.unlock() }
        return runningCount
    }

    /// Runs `body` once a slot is free.
    public func withSlot<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        while runningCount >= limit { condition.wait() }
        runningCount += 1
        peak = max(peak, runningCount)
        condition.unlock()
        defer {
            condition.lock()
            runningCount -= 1
            condition.signal()
            condition.unlock()
        }
        return try body()
    }
}
