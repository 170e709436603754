// LTOStorage: the remote tier as the tiered storage uses it: every request admitted by
// the tier's health (back-off after faults), timed and counted; entries verified on the
// way in; writes sent by one background writer from a bounded queue, off the link's
// critical path, and finished (within a timeout) before the daemon stops.
import Foundation
import LTOStatistics
import LTOSystem
import Synchronization

/// How the remote tier is used.
public struct RemoteTierSettings: Sendable {
    /// Take entries from the tier but never write to it.
    public var readOnly = false
    /// Larger entries are neither sent to nor taken from the tier.
    public var maxEntryBytes: UInt64 = 64 << 20
    /// Writes waiting for the writer beyond this many are dropped (and counted).
    public var maxPendingWrites = 4096
    public var initialBackOff = 10.0
    public var maximumBackOff = 300.0

    public init(readOnly: Bool = false, maxEntryBytes: UInt64 = 64 << 20) {
        self.readOnly = readOnly
        self.maxEntryBytes = maxEntryBytes
    }
}

/// A remote tier with its health, counters and background writer.
final class RemoteTier: Sendable {
    let storage: any RemoteStorage
    let settings: RemoteTierSettings
    private let stats: any StatisticsRecorder
    private let health: Mutex<RemoteHealth>
    private let writes = Monitor(WriteQueue())
    /// Reads a stored entry back from the local tier, for the writer.
    private let load: @Sendable (CacheKey) -> (payload: [UInt8], info: EntryInfo)?
    private let onFault: @Sendable (String) -> Void
    private let clock: @Sendable () -> Double

    private struct WriteQueue {
        var pending: [CacheKey] = []
        var queued: Set<CacheKey> = []
        var writing = false
        var closed = false
    }

    init(storage: any RemoteStorage, settings: RemoteTierSettings, stats: any StatisticsRecorder,
         load: @escaping @Sendable (CacheKey) -> (payload: [UInt8], info: EntryInfo)?,
         onFault: @escaping @Sendable (String) -> Void, clock: @escaping @Sendable () -> Double) {
        self.storage = storage
        self.settings = settings
        self.stats = stats
        self.load = load
        self.onFault = onFault
        self.clock = clock
        health = Mutex(RemoteHealth(initialBackOff: settings.initialBackOff, maximumBackOff: settings.maximumBackOff))
        if !settings.readOnly {
            Thread.detachNewThread { [self] in writeLoop() }
        }
    }

    /// The verified entry for `key`, with the time the request started; nil on a miss, when
    /// the tier is backing off, or when the request or the entry failed (counted, and the
    /// tier backs off). `counted` false leaves hits and misses uncounted (metadata entries).
    func fetch(_ key: CacheKey, counted: Bool = true) -> (entry: RemoteEntry, started: Double)? {
        let started = clock()
        guard admit(at: started) else { return nil }
        let blob: [UInt8]?
        do { blob = try storage.get(key) } catch {
            fault(error, at: clock())
            return nil
        }
        guard let blob, blob.count <= settings.maxEntryBytes + 4096 else {
            health.withLock { $0.succeeded() }
            if counted { stats.add(.remoteMisses) }
            return nil
        }
        do {
            let entry = try RemoteEntry(decoding: blob, key: key)
            health.withLock { $0.succeeded() }
            if !counted { stats.add(.remoteBytesRead, Double(blob.count)) }
            return (entry, started)
        } catch .unsupportedVersion {
            health.withLock { $0.succeeded() }
            if counted { stats.add(.remoteMisses) }
            return nil
        } catch {
            // A corrupt entry: removed (when this daemon may write), so that a rebuild replaces it.
            if !settings.readOnly { _ = try? storage.remove(key) }
            fault(RemoteStorageError.badReply("entry \(key) refused: \(error)"), at: clock())
            return nil
        }
    }

    /// Counts a hit of `bytes` whose request started at `started` and is finished now.
    func recordHit(bytes: Int, started: Double) {
        stats.add([.remoteHits: 1, .remoteBytesRead: Double(bytes), .remoteHitSeconds: max(0, clock() - started)])
    }

    /// Queues `key` (already in the local tier) for the writer; returns at once.
    func enqueueWrite(_ key: CacheKey) {
        guard !settings.readOnly else { return }
        let dropped = writes.withLockBroadcasting { q -> Bool in
            guard !q.queued.contains(key) else { return false }
            guard !q.closed, q.pending.count < settings.maxPendingWrites else { return true }
            q.pending.append(key)
            q.queued.insert(key)
            return false
        }
        if dropped { stats.add(.remoteWritesDropped) }
    }

    /// Removes `key` from the tier, when this daemon may write to it and the tier is up.
    func remove(_ key: CacheKey) {
        guard !settings.readOnly, admit(at: clock()) else { return }
        do {
            try storage.remove(key)
            health.withLock { $0.succeeded() }
        } catch {
            fault(error, at: clock())
        }
    }

    /// Waits until the queued writes are sent, for at most `timeout` seconds; then closes the
    /// queue. Returns how many writes were left unsent (counted as dropped).
    func finishWrites(timeout: Double) -> Int {
        let deadline = clock() + timeout
        while clock() < deadline, writes.withLock({ !$0.pending.isEmpty || $0.writing }) {
            usleep(5_000)
        }
        let left = writes.withLockBroadcasting { q -> Int in
            q.closed = true
            let n = q.pending.count
            q.pending.removeAll()
            q.queued.removeAll()
            return n
        }
        if left > 0 { stats.add(.remoteWritesDropped, Double(left)) }
        return left
    }

    /// Writes queued and not yet sent.
    var pendingWrites: Int { writes.withLock { $0.pending.count + ($0.writing ? 1 : 0) } }

    func warning(since start: Double) -> String? {
        health.withLock { $0.warning(since: start, now: clock(), name: storage.name) }
    }

    private func writeLoop() {
        while true {
            let key = writes.wait(until: { !$0.pending.isEmpty || $0.closed }) { q -> CacheKey? in
                guard !q.pending.isEmpty else { return nil }
                q.writing = true
                let key = q.pending.removeFirst()
                q.queued.remove(key)
                return key
            }
            guard let key else { return }
            write(key)
            writes.withLockBroadcasting { $0.writing = false }
        }
    }

    private func write(_ key: CacheKey) {
        guard let (payload, info) = load(key) else { return }
        guard UInt64(payload.count) <= settings.maxEntryBytes, RemoteEntry.canCarry(info) else {
            stats.add(.remoteWritesDropped)
            return
        }
        guard admit(at: clock()) else { return }
        let blob = RemoteEntry(payload: payload, info: info).encoded(key: key)
        do {
            try storage.put(key, blob)
            health.withLock { $0.succeeded() }
            stats.add([.remoteWrites: 1, .remoteBytesWritten: Double(blob.count)])
        } catch {
            fault(error, at: clock())
        }
    }

    private func admit(at now: Double) -> Bool {
        guard health.withLock({ $0.admit(at: now) }) == .use else {
            stats.add(.remoteSkipped)
            return false
        }
        return true
    }

    private func fault(_ error: any Error, at now: Double) {
        let reason = "\(error)"
        health.withLock { $0.failed(reason, at: now) }
        if case RemoteStorageError.timeout? = error as? RemoteStorageError {
            stats.add(.remoteTimeouts)
        } else {
            stats.add(.remoteErrors)
        }
        onFault(reason)
    }
}
