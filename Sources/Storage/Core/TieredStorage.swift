// LTOStorage: the composition of the local tier and an optional remote tier.

/// The cache the backend sees: the local tier first, then the remote tier. A remote hit is
/// verified and written back to the local tier; what is stored goes to the local tier and
/// then to the remote tier. The remote tier can never fail a look-up or a store: its
/// errors are handed to `remoteFailed` and count as misses.
public final class TieredStorage: CacheStorage {
    public let local: any LocalStorage
    public let remote: (any RemoteStorage)?
    private let remoteFailed: @Sendable (any Error) -> Void

    public init(local: any LocalStorage, remote: (any RemoteStorage)? = nil,
                remoteFailed: @escaping @Sendable (any Error) -> Void = { _ in }) {
        self.local = local
        self.remote = remote
        self.remoteFailed = remoteFailed
    }

    public func contains(_ key: CacheKey) -> Bool {
        local.contains(key)
    }

    public func retrieve(_ key: CacheKey, to destination: String) throws -> CacheHit? {
        if let hit = try local.retrieve(key, to: destination) { return hit }
        guard let entry = fetchRemote(key) else { return nil }
        try local.store(key, payload: entry.payload, info: entry.info)
        guard let hit = try local.retrieve(key, to: destination) else { return nil }
        return CacheHit(size: hit.size, info: hit.info, hits: hit.hits, tier: .remote, placement: hit.placement)
    }

    /// The local tier answers all it can at once; the remote tier is asked for the rest.
    public func retrieveAll(_ requests: [(key: CacheKey, destination: String)]) throws -> [CacheHit?] {
        var hits = try local.retrieveAll(requests)
        for i in hits.indices where hits[i] == nil { hits[i] = try retrieve(requests[i].key, to: requests[i].destination) }
        return hits
    }

    public func store(_ key: CacheKey, from source: String, info: EntryInfo) throws {
        try local.store(key, from: source, info: info)
        // `RemoteEntry` does not carry diagnostics yet: an entry with them stays local, so
        // that no tier ever answers it without the warnings it printed.
        guard let remote, info.diagnostics == nil, let entry = try local.load(key) else { return }
        do { try remote.put(key, RemoteEntry(payload: entry.payload, info: entry.info).encoded(key: key)) } catch { remoteFailed(error) }
    }

    @discardableResult
    public func remove(_ key: CacheKey) throws -> Bool {
        try local.remove(key)
    }

    public func smallPayload(_ key: CacheKey) -> [UInt8]? {
        local.smallPayload(key)
    }

    private func fetchRemote(_ key: CacheKey) -> RemoteEntry? {
        guard let remote else { return nil }
        do {
            guard let blob = try remote.get(key) else { return nil }
            return try RemoteEntry(decoding: blob, key: key)
        } catch {
            remoteFailed(error)
            return nil
        }
    }
}
