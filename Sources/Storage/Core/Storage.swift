// LTOStorage owns the cache seam: the key, the protocols every cache tier implements
// (a local tier that places objects at paths, a remote tier that keeps blobs), and the
// tiered composition the backend uses (local first, then remote, with backfill), and the
// link history the daemon keeps beside the local tier (`explain` across restarts). The
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
    /// `retrieveAll` from the local tier alone: for answers that must not take a remote entry
    /// without the audit seeing it.
    func retrieveAllLocally(_ requests: [(key: CacheKey, destination: String)]) throws -> [CacheHit?]
    /// Stores a copy of the file at `source` under `key`; a key already present is kept.
    func store(_ key: CacheKey, from source: String, info: EntryInfo) throws
    /// Removes the entry for `key`; false when there was none.
    @discardableResult func remove(_ key: CacheKey) throws -> Bool
    /// The payload of a small metadata entry, verified, without counting a hit; nil when absent.
    func smallPayload(_ key: CacheKey) -> [UInt8]?
    /// The one line a link that started at `start` (seconds since the epoch) should show
    /// about the cache's tiers (e.g. that the remote tier was skipped), or nil.
    func linkWarning(since start: Double) -> String?
}

extension CacheStorage {
    /// A single tier has nothing to say beyond its errors.
    public func linkWarning(since start: Double) -> String? { nil }
}

extension CacheStorage {
    /// One `retrieve` after the other.
    public func retrieveAll(_ requests: [(key: CacheKey, destination: String)]) throws -> [CacheHit?] {
        try requests.map { try retrieve($0.key, to: $0.destination) }
    }

    /// A single tier is local.
    public func retrieveAllLocally(_ requests: [(key: CacheKey, destination: String)]) throws -> [CacheHit?] {
        try retrieveAll(requests)
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
    /// Changes the size limit (`ltoc -M`) and evicts down to it at once.
    func setLimit(maxBytes: UInt64) throws -> EvictionResult
    /// Flushes the index's journal into it and closes it, at a clean stop (later calls reopen it).
    func close()
}

/// One finished link as the link history keeps it: its target and start, the figures
/// `ltoc stats TARGET` adds up, and the report itself, opaque to storage (the daemon encodes
/// and decodes it).
public struct LinkHistoryEntry: Equatable, Sendable {
    public let target: String
    /// Seconds since the Unix epoch.
    public let started: Double
    public let partitions: Int
    public let reused: Int
    public let wpaSeconds: Double
    public let savedSeconds: Double
    public let report: [UInt8]

    public init(target: String, started: Double, partitions: Int, reused: Int, wpaSeconds: Double, savedSeconds: Double,
                report: [UInt8]) {
        self.target = target
        self.started = started
        self.partitions = partitions
        self.reused = reused
        self.wpaSeconds = wpaSeconds
        self.savedSeconds = savedSeconds
        self.report = report
    }
}

/// One target's figures added up over every link recorded for it (not only the kept ones).
public struct LinkTotals: Equatable, Sendable {
    public let target: String
    public let links: Int
    public let partitions: Int
    public let reused: Int
    public let wpaSeconds: Double
    public let savedSeconds: Double
    public let firstLink: Double
    public let lastLink: Double

    public init(target: String, links: Int, partitions: Int, reused: Int, wpaSeconds: Double, savedSeconds: Double,
                firstLink: Double, lastLink: Double) {
        self.target = target
        self.links = links
        self.partitions = partitions
        self.reused = reused
        self.wpaSeconds = wpaSeconds
        self.savedSeconds = savedSeconds
        self.firstLink = firstLink
        self.lastLink = lastLink
    }
}

/// How much link history is kept: the newest links of each target, for the most recently
/// linked targets.
public struct LinkHistoryLimits: Sendable {
    public var linksPerTarget: Int
    public var targets: Int

    public init(linksPerTarget: Int = 10, targets: Int = 1000) {
        self.linksPerTarget = linksPerTarget
        self.targets = targets
    }
}

/// The last links of each target, kept across restarts and idle exits (`explain`, `stats TARGET`).
public protocol LinkHistory: Sendable {
    /// Adds a finished link to its target's history and totals, dropping what `limits` no longer keeps.
    func recordLink(_ entry: LinkHistoryEntry, limits: LinkHistoryLimits) throws
    /// The newest link of every target, newest first.
    func latestLinks() throws -> [LinkHistoryEntry]
    /// The kept links of `target`, newest first.
    func links(of target: String) throws -> [LinkHistoryEntry]
    /// The totals of `target`; nil when it has none.
    func linkTotals(of target: String) throws -> LinkTotals?
}

/// A tier shared between machines: it keeps opaque blobs under keys. Its methods are called
/// from many threads at once, and throw `RemoteStorageError`.
public protocol RemoteStorage: Sendable {
    /// A description for messages and `ltoc config` (no password).
    var name: String { get }
    /// The blob stored under `key`; nil when there is none.
    func get(_ key: CacheKey) throws -> [UInt8]?
    /// Stores `value` under `key`, replacing what was there.
    func put(_ key: CacheKey, _ value: [UInt8]) throws
    @discardableResult func remove(_ key: CacheKey) throws -> Bool
}

/// Why a request to a remote tier failed, in words a user can act on.
public enum RemoteStorageError: Error, Equatable, CustomStringConvertible {
    /// Connecting, or a read or write of the request, took longer than the timeout.
    case timeout(String)
    /// The server could not be reached or dropped the connection.
    case unavailable(String)
    /// The server answered something other than what the request expects.
    case badReply(String)

    public var description: String {
        switch self {
        case .timeout(let what), .unavailable(let what), .badReply(let what): return what
        }
    }
}
