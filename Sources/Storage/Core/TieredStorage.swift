// LTOStorage: the composition of the local tier and an optional remote tier.
#if canImport(Glibc)
import Glibc
#endif
import LTOStatistics
import Synchronization

/// The cache the backend sees: the local tier first, then the remote tier. A remote hit is
/// verified and written back to the local tier; what is stored goes to the local tier at
/// once and to the remote tier from a background writer. The remote tier can never fail a
/// look-up or a store: its faults count as misses, make it back off, and are reported once
/// per link by `linkWarning(since:)`.
public final class TieredStorage: CacheStorage {
    public let local: any LocalStorage
    private let remote: RemoteTier?
    /// Keys `contains` fetched from the remote tier into the local one: their next
    /// `retrieve` is reported as a remote hit.
    private let fetched = Mutex<Set<CacheKey>>([])
    private static let maxFetchedRemembered = 65_536

    /// The local tier alone.
    public init(local: any LocalStorage) {
        self.local = local
        remote = nil
    }

    /// The local tier over `remote`. `onFault` hears every fault of the remote tier (for the
    /// log); `clock` gives seconds since the epoch (the time of `linkWarning(since:)`).
    public init(local: any LocalStorage, remote: any RemoteStorage, settings: RemoteTierSettings, stats: any StatisticsRecorder,
                onFault: @escaping @Sendable (String) -> Void = { _ in },
                clock: @escaping @Sendable () -> Double = TieredStorage.now) {
        self.local = local
        self.remote = RemoteTier(storage: remote, settings: settings, stats: stats, load: { [local] key in try? local.load(key) },
                                 onFault: onFault, clock: clock)
    }

    /// Whether the local tier holds `key`, or the remote tier did and it is now local too.
    public func contains(_ key: CacheKey) -> Bool {
        if local.contains(key) { return true }
        guard let remote, let (entry, started) = remote.fetch(key) else { return false }
        guard (try? local.store(key, payload: entry.payload, info: entry.info)) != nil else { return false }
        remote.recordHit(bytes: entry.payload.count, started: started)
        fetched.withLock { keys in
            if keys.count >= Self.maxFetchedRemembered { keys.removeAll() }
            keys.insert(key)
        }
        return true
    }

    public func retrieve(_ key: CacheKey, to destination: String) throws -> CacheHit? {
        if let hit = try local.retrieve(key, to: destination) {
            return fetched.withLock { $0.remove(key) } != nil ? hit.fromRemote : hit
        }
        guard let remote, let (entry, started) = remote.fetch(key) else { return nil }
        try local.store(key, payload: entry.payload, info: entry.info)
        guard let hit = try local.retrieve(key, to: destination) else { return nil }
        remote.recordHit(bytes: entry.payload.count, started: started)
        return hit.fromRemote
    }

    /// The local tier answers all it can at once (one index transaction); the remote tier is
    /// asked for the rest, each written to the local tier and placed from there.
    public func retrieveAll(_ requests: [(key: CacheKey, destination: String)]) throws -> [CacheHit?] {
        let hits = try local.retrieveAll(requests)
        return try zip(requests, hits).map { request, hit in
            guard let hit else { return try retrieve(request.key, to: request.destination) }
            return fetched.withLock { $0.remove(request.key) } != nil ? hit.fromRemote : hit
        }
    }

    /// The local tier's answers alone; the remote tier is not asked.
    public func retrieveAllLocally(_ requests: [(key: CacheKey, destination: String)]) throws -> [CacheHit?] {
        try local.retrieveAll(requests)
    }

    /// Stores in the local tier now, and queues the entry for the remote tier.
    public func store(_ key: CacheKey, from source: String, info: EntryInfo) throws {
        try local.store(key, from: source, info: info)
        remote?.enqueueWrite(key)
    }

    /// Removes the entry from the local tier and, when this daemon writes to it, the remote one.
    @discardableResult
    public func remove(_ key: CacheKey) throws -> Bool {
        remote?.remove(key)
        fetched.withLock { _ = $0.remove(key) }
        return try local.remove(key)
    }

    /// A metadata entry from the local tier, else from the remote tier (written back).
    public func smallPayload(_ key: CacheKey) -> [UInt8]? {
        if let payload = local.smallPayload(key) { return payload }
        guard let remote, let (entry, _) = remote.fetch(key, counted: false) else { return nil }
        try? local.store(key, payload: entry.payload, info: entry.info)
        return entry.payload
    }

    public func linkWarning(since start: Double) -> String? {
        remote?.warning(since: start)
    }

    /// Sends the writes still queued for the remote tier, waiting at most `timeout` seconds,
    /// and stops the writer; returns how many were left unsent. For a clean stop.
    @discardableResult
    public func finishRemoteWrites(timeout: Double) -> Int {
        remote?.finishWrites(timeout: timeout) ?? 0
    }

    /// Writes queued for the remote tier and not yet sent.
    public var pendingRemoteWrites: Int { remote?.pendingWrites ?? 0 }

    /// Seconds since the epoch (CLOCK_REALTIME, the clock link sessions are started on).
    @Sendable public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

extension CacheHit {
    /// The same hit, reported as the remote tier's.
    fileprivate var fromRemote: CacheHit {
        CacheHit(size: size, info: info, hits: hits, tier: .remote, placement: placement)
    }
}
