// LTOSystem: a value guarded by a lock with a condition to wait on.
#if canImport(Glibc)
import Glibc
#endif

/// A value behind a mutex, with a condition variable for threads that wait until the value
/// satisfies a predicate. Written on pthreads because Swift's Synchronization has no
/// condition variable and Foundation's NSCondition is not available to the shim's modules.
public final class Monitor<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Runs `body` with the value, under the lock.
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Runs `body` under the lock, then wakes every waiter to look at the value again.
    public func withLockBroadcasting<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        return try body(&value)
    }

    /// Waits until `ready` holds, then runs `then` under the same lock.
    public func wait<T>(until ready: (Value) -> Bool, then: (inout Value) -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(value) { pthread_cond_wait(condition, mutex) }
        return then(&value)
    }

    /// Waits until `ready` holds.
    public func wait(_ ready: (Value) -> Bool) {
        wait(until: ready) { _ in }
    }
}
