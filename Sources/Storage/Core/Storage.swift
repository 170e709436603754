// LTOStorage owns the cache seam: the key, the protocols every cache tier implements
// (a local tier that places objects at paths, a remote tier that keeps blobs), and the
// tiered composition the backend uses (local first, then remote, with backfill). The
// concrete tiers are siblings: LTOLocalStorage (SQLite and sharded files) and the remote
// tiers; `ltod`'s main chooses them.
import LTOHash

/// The identity of a cache entry: a digest of everything that determines the output.
public struct CacheKey: Hashable, Sendable, CustomStringConvertible {
    public let digest: Digest

    public init(_ digest: Digest) { self.digest = digest }

    /// 32 lowercase hex digits; the index key and the payload file name.
    public var description: String { digest.description }
}

/// What is recorded beside an entry's payload.
public struct EntryInfo: Equatable, Sendable {
    /// How long the output took to build (what a hit saves).
    public var buildSeconds: Double
    /// The link target the entry was produced for (for diagnostics only).
    public var target: String
    /// What the job printed while building it; nil when it printed nothing.
    public var diagnostics: EntryDiagnostics?

    public init(buildSeconds: Double, target: String, diagnostics: EntryDiagnostics? = nil) {
        self.buildSeconds = buildSeconds
        self.target = target
        self.diagnostics = diagnostics
    }
}

/// What a cached job printed and how it ended, so that a hit prints the same bytes to the
/// same streams. Jobs that failed are never cached, so `exitStatus` is that of a success.
public struct EntryDiagnostics: Equatable, Sendable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var exitStatus: Int32
    /// The digest of what the diagnostics depend on besides the job's key (terminal, styling
    /// variables, quoted source files): a hit where it differs is a miss.
    public var context: Digest

    public init(stdout: [UInt8], stderr: [UInt8], exitStatus: Int32, context: Digest) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitStatus = exitStatus
        self.context = context
    }
}

/// What a `retrieve` found, after the payload was verified and placed.
public struct CacheHit: Sendable {
    public let size: UInt64
    public let info: EntryInfo
    /// Hits of this entry including this one.
    public let hits: Int
    /// The tier that answered.
    public let tier: StorageTier
    /// How the payload was put at the destination.
    public let placement: Placement

    public init(size: UInt64, info: EntryInfo, hits: Int, tier: StorageTier, placement: Placement = .copy) {
        self.size = size
        self.info = info
        self.hits = hits
        self.tier = tier
        self.placement = placement
    }
}

/// How a payload was put at a destination: a reflink shares the payload's extents
/// copy-on-write, a hard link shares its file, a copy shares nothing.
public enum Placement: String, Sendable {
    case reflink
    case hardLink = "hard link"
    case copy
}

/// Which tier answered a look-up.
public enum StorageTier: String, Sendable {
    case local
    case remote
}

/// A cache the backend stores build outputs in and takes them from.
public protocol CacheStorage: Sendable {
    /// Whether an entry for `key` is indexed (its payload is verified only by `retrieve`).
    func contains(_ key: CacheKey) -> Bool
    /// Places the verified payload of `key` at `destination` (replacing any file there, by a
    /// rename, never by writing into it); nil on a miss. A damaged payload is removed and
    /// reported as a miss. The file placed may share the payload's storage (`Placement`):
    /// whoever writes at `destination` later must replace the file, not write into it.
    func retrieve(_ key: CacheKey, to destination: String) throws -> CacheHit?
    /// `retrieve` for several entries at once, in as few index transactions as the tier can;
    /// one answer per request, in order.
    func retrieveAll(_ requests: [(key: CacheKey, destination: String)]) throws -> [CacheHit?]
    /// Stores a copy of the file at `source` under `key`; a key already present is kept.
    func store(_ key: CacheKey, from source: String, info: EntryInfo) throws
    /// Removes the entry for `key`; false when there was none.
    @discardableResult func remove(_ key: CacheKey) throws -> Bool
    /// The payload of a small metadata entry, verified, without counting a hit; nil when absent.
    func smallPayload(_ key: CacheKey) -> [UInt8]?
}

extension CacheStorage {
    /// One `retrieve` after the other.
    public func retrieveAll(_ requests: [(key: CacheKey, destination: String)]) throws -> [CacheHit?] {
        try requests.map { try retrieve($0.key, to: $0.destination) }
    }
}

/// The size of a store.
public struct CacheSummary: Sendable {
    public let entries: Int
    /// Payload bytes.
    public let bytes: UInt64
    /// Bytes the store's own files take on disk (index, its journal, payloads).
    public let diskBytes: UInt64
    public let limitBytes: UInt64

    public init(entries: Int, bytes: UInt64, diskBytes: UInt64, limitBytes: UInt64) {
        self.entries = entries
        self.bytes = bytes
        self.diskBytes = diskBytes
        self.limitBytes = limitBytes
    }
}

/// What an eviction or `clear` removed.
public struct EvictionResult: Sendable {
    public let entriesRemoved: Int
    public let bytesFreed: UInt64

    public init(entriesRemoved: Int, bytesFreed: UInt64) {
        self.entriesRemoved = entriesRemoved
        self.bytesFreed = bytesFreed
    }

    public static func += (a: inout EvictionResult, b: EvictionResult) {
        a = EvictionResult(entriesRemoved: a.entriesRemoved + b.entriesRemoved, bytesFreed: a.bytesFreed + b.bytesFreed)
    }
}

/// The tier on this machine: a `CacheStorage` that also takes payloads as bytes (a remote
/// hit written back) and is maintained by size and age.
public protocol LocalStorage: CacheStorage {
    /// Stores `payload` under `key`; a key already present is kept.
    func store(_ key: CacheKey, payload: [UInt8], info: EntryInfo) throws
    /// The verified payload and info of `key`, without counting a hit; nil on a miss.
    func load(_ key: CacheKey) throws -> (payload: [UInt8], info: EntryInfo)?
    func summary() throws -> CacheSummary
    /// Removes entries not used for `olderThan` seconds, then least recently used ones
    /// until at most `maxBytes` remain.
    func evict(maxBytes: UInt64?, olderThan: Double?) throws -> EvictionResult
    /// Removes every entry.
    func clear() throws -> EvictionResult
}

/// A tier shared between machines: it keeps opaque blobs under keys.
public protocol RemoteStorage: Sendable {
    /// A description for messages and `ltoc config` (no password).
    var name: String { get }
    func get(_ key: CacheKey) throws -> [UInt8]?
    func put(_ key: CacheKey, _ value: [UInt8]) throws
    @discardableResult func remove(_ key: CacheKey) throws -> Bool
}
