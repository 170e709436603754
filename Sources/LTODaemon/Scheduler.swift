import Foundation

/// Bounds the WPA and LTRANS processes running at once across all link sessions,
/// so several links under `make -j` do not oversubscribe the machine.
public final class Scheduler: @unchecked Sendable {
    public let limit: Int
    // Guards `running` and `peak`; @unchecked because NSCondition is the lock.
    private let condition = NSCondition()
    private var running = 0
    private var peak = 0

    public init(limit: Int) { self.limit = max(1, limit) }

    /// The most processes that ever ran at once.
    public var peakRunning: Int {
        condition.lock(); defer { condition.unlock() }
        return peak
    }

    /// Runs `body` once a slot is free.
    public func withSlot<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        while running >= limit { condition.wait() }
        running += 1
        peak = max(peak, running)
        condition.unlock()
        defer {
            condition.lock()
            running -= 1
            condition.signal()
            condition.unlock()
        }
        return try body()
    }
}
