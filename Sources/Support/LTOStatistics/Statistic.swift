// LTOStatistics owns what ltod counts: the typed counters and gauges, each with its
// name, help text, label and unit, so that the stats table, JSON and the Prometheus
// exposition are all generated from one list; and the protocols through which the
// backend records counts and a store keeps them across restarts.

/// A counter ltod keeps all-time (persisted) and since the daemon started.
public enum Statistic: String, CaseIterable, Sendable {
    case cacheHits = "cache.hits"
    case cacheMisses = "cache.misses"
    case cacheCorrupt = "cache.corrupt"
    case cacheEvictions = "cache.evictions"
    case cacheStoreFailures = "cache.store_failures"
    case wpaRuns = "wpa.runs"
    case wpaSeconds = "wpa.seconds"
    case wpaFailures = "wpa.failures"
    case ltransRebuilt = "ltrans.rebuilt"
    case ltransReused = "ltrans.reused"
    case ltransUncacheable = "ltrans.uncacheable"
    case ltransFailures = "ltrans.failures"
    case ltransReplayed = "ltrans.replayed"
    case ltransRawKeys = "ltrans.raw_keys"
    case ltransCanonicalKeys = "ltrans.canonical_keys"
    case ltransCanonicalFallbacks = "ltrans.canonical_fallbacks"
    case ltransCanonicalHits = "ltrans.canonical_hits"
    case ltransLocationKeys = "ltrans.location_keys"
    case ltransLocationFallbacks = "ltrans.location_fallbacks"
    case ltransLocationHits = "ltrans.location_hits"
    case ltransAuditRuns = "ltrans.audit_runs"
    case ltransAuditMismatches = "ltrans.audit_mismatches"
    case ltransSecondsSpent = "ltrans.seconds_spent"
    case ltransSecondsSaved = "ltrans.seconds_saved"
    case sessionsTotal = "sessions.total"
    case sessionsFallbacks = "sessions.fallbacks"
    case sessionsJobservers = "sessions.jobservers"
    case sessionsCancelled = "sessions.cancelled"
    case sessionsAnswered = "sessions.answered"
    case inputsParsed = "inputs.parsed"
    case inputsReused = "inputs.reused"
    case remoteHits = "remote.hits"
    case remoteMisses = "remote.misses"
    case remoteErrors = "remote.errors"
    case remoteTimeouts = "remote.timeouts"
    case remoteSkipped = "remote.skipped"
    case remoteBytesRead = "remote.bytes_read"
    case remoteBytesWritten = "remote.bytes_written"
    case remoteWrites = "remote.writes"
    case remoteWritesDropped = "remote.writes_dropped"
    case remoteHitSeconds = "remote.hit_seconds"

    /// The dotted name used in JSON (`cache.hits`) and, flattened, in Prometheus.
    public var name: String { rawValue }

    /// The group it is shown under: the part of the name before the dot.
    public var group: String { String(rawValue.prefix { $0 != "." }) }

    /// Whether it counts seconds (shown with one decimal) rather than events.
    public var isSeconds: Bool { rawValue.hasSuffix("seconds") || rawValue.contains(".seconds_") }

    /// Whether it counts bytes (shown as a size in the table).
    public var isBytes: Bool { rawValue.contains(".bytes_") }

    public var help: String {
        switch self {
        case .cacheHits: return "LTRANS jobs answered from the cache"
        case .cacheMisses: return "LTRANS jobs that had to be compiled"
        case .cacheCorrupt: return "cache entries whose payload failed its hash check (removed and rebuilt)"
        case .cacheEvictions: return "cache entries removed to stay under the size limit"
        case .cacheStoreFailures: return "LTRANS results that could not be stored (e.g. a full disk)"
        case .wpaRuns: return "WPA runs"
        case .wpaSeconds: return "wall time spent in WPA"
        case .wpaFailures: return "WPA runs that failed"
        case .ltransRebuilt: return "partitions compiled"
        case .ltransReused: return "partitions taken from the cache"
        case .ltransUncacheable: return "LTRANS jobs run uncached (options with side files, external assembler inputs)"
        case .ltransFailures: return "LTRANS jobs that failed"
        case .ltransReplayed: return "partitions taken from the cache whose build printed diagnostics, printed again"
        case .ltransRawKeys: return "partitions keyed on raw bytes (layout not recognised)"
        case .ltransCanonicalKeys: return "partitions keyed canonically (symbol numbers replaced by their rank)"
        case .ltransCanonicalFallbacks: return "partitions keyed by their bytes because canonical keys could not be used for them"
        case .ltransCanonicalHits: return "partitions reused only thanks to canonical keys (renumbered symbols)"
        case .ltransLocationKeys: return "partitions keyed with every source location abstracted (-g0, whitelisted options)"
        case .ltransLocationFallbacks: return "partitions keyed with exact locations where options allowed abstracting them (reason in the debug log)"
        case .ltransLocationHits: return "partitions reused only thanks to abstracted locations (source lines moved)"
        case .ltransAuditRuns: return "canonical-only hits compiled again by the audit and compared"
        case .ltransAuditMismatches: return "audited hits whose fresh object differed from the cached one"
        case .ltransSecondsSpent: return "wall time spent compiling partitions"
        case .ltransSecondsSaved: return "recorded build time of the partitions taken from the cache"
        case .sessionsTotal: return "links seen"
        case .sessionsFallbacks: return "links that ran without the daemon"
        case .sessionsJobservers: return "links whose processes ran on make's jobserver tokens"
        case .sessionsCancelled: return "links interrupted: a signal ended them or their ltoc went away (Ctrl-C, a killed build)"
        case .sessionsAnswered: return "links answered whole from the cache (every input unchanged): no lto-wrapper, WPA or LTRANS ran"
        case .inputsParsed: return "input objects read and parsed"
        case .inputsReused: return "unchanged input objects not read again"
        case .remoteHits: return "look-ups answered by the remote tier (verified and written back to the local tier)"
        case .remoteMisses: return "look-ups the remote tier did not hold"
        case .remoteErrors: return "remote requests that failed (unreachable, refused, garbage, a corrupt entry) other than timeouts"
        case .remoteTimeouts: return "remote requests that took longer than remote_timeout"
        case .remoteSkipped: return "remote look-ups and writes not attempted while the tier was backing off after a fault"
        case .remoteBytesRead: return "bytes of entries taken from the remote tier"
        case .remoteBytesWritten: return "bytes of entries written to the remote tier"
        case .remoteWrites: return "entries written to the remote tier"
        case .remoteWritesDropped: return "entries not written to the remote tier: over the size limit, too many pending, or unfinished at shutdown"
        case .remoteHitSeconds: return "wall time of the remote hits (fetch, verification, local write-back)"
        }
    }

    /// The row label in `ltoc stats`.
    public var label: String {
        switch self {
        case .cacheHits: return "hits"
        case .cacheMisses: return "misses"
        case .cacheCorrupt: return "corrupt entries"
        case .cacheEvictions: return "evictions"
        case .cacheStoreFailures: return "store failures"
        case .wpaRuns: return "runs"
        case .wpaSeconds: return "time"
        case .wpaFailures: return "failures"
        case .ltransRebuilt: return "rebuilt"
        case .ltransReused: return "reused"
        case .ltransUncacheable: return "uncacheable"
        case .ltransFailures: return "failures"
        case .ltransReplayed: return "reused with diagnostics"
        case .ltransRawKeys: return "keyed by raw bytes"
        case .ltransCanonicalKeys: return "keyed canonically"
        case .ltransCanonicalFallbacks: return "canonical key fallbacks"
        case .ltransCanonicalHits: return "reused via canonical key"
        case .ltransLocationKeys: return "keyed without locations"
        case .ltransLocationFallbacks: return "location key fallbacks"
        case .ltransLocationHits: return "reused, only lines moved"
        case .ltransAuditRuns: return "audited"
        case .ltransAuditMismatches: return "audit mismatches"
        case .ltransSecondsSpent: return "time spent"
        case .ltransSecondsSaved: return "time saved"
        case .sessionsTotal: return "links"
        case .sessionsFallbacks: return "fallbacks"
        case .sessionsJobservers: return "on make's jobserver"
        case .sessionsCancelled: return "interrupted"
        case .sessionsAnswered: return "answered whole"
        case .inputsParsed: return "parsed"
        case .inputsReused: return "unchanged, not re-read"
        case .remoteHits: return "hits"
        case .remoteMisses: return "misses"
        case .remoteErrors: return "errors"
        case .remoteTimeouts: return "timeouts"
        case .remoteSkipped: return "skipped (backing off)"
        case .remoteBytesRead: return "read"
        case .remoteBytesWritten: return "written"
        case .remoteWrites: return "entries written"
        case .remoteWritesDropped: return "writes dropped"
        case .remoteHitSeconds: return "time in hits"
        }
    }
}

/// A figure derived from two counters, their quotient (such as a mean), reported beside them.
public enum Ratio: String, CaseIterable, Sendable {
    case remoteMeanHitSeconds = "remote.mean_hit_seconds"

    public var name: String { rawValue }
    public var group: String { String(rawValue.prefix { $0 != "." }) }
    public var numerator: Statistic {
        switch self {
        case .remoteMeanHitSeconds: return .remoteHitSeconds
        }
    }
    /// The counter it is shown after in the table.
    public var denominator: Statistic {
        switch self {
        case .remoteMeanHitSeconds: return .remoteHits
        }
    }
    public var help: String {
        switch self {
        case .remoteMeanHitSeconds: return "mean latency of a remote hit, in seconds"
        }
    }
    public var label: String {
        switch self {
        case .remoteMeanHitSeconds: return "mean hit latency"
        }
    }

    /// The quotient over `counters`; nil when the denominator is zero.
    public func value(_ counters: [Statistic: Double]) -> Double? {
        let d = counters[denominator] ?? 0
        return d > 0 ? (counters[numerator] ?? 0) / d : nil
    }
}

/// A value ltod reports as it is now (not counted).
public enum Gauge: String, CaseIterable, Sendable {
    case cacheEntries = "cache.entries"
    case cacheBytes = "cache.bytes"
    case cacheDiskBytes = "cache.disk_bytes"
    case cacheLimitBytes = "cache.limit_bytes"
    case schedulerLimit = "scheduler.limit"
    case schedulerPeakRunning = "scheduler.peak_running"
    case memoryTargets = "memory.targets"
    case memoryInputs = "memory.inputs"

    public var name: String { rawValue }
    public var group: String { String(rawValue.prefix { $0 != "." }) }
    public var isBytes: Bool { rawValue.hasSuffix("bytes") }

    public var help: String {
        switch self {
        case .cacheEntries: return "entries in the cache"
        case .cacheBytes: return "bytes held by the cache"
        case .cacheDiskBytes: return "bytes the cache takes on disk: the index with its write-ahead log, and the payload files"
        case .cacheLimitBytes: return "cache size limit in bytes"
        case .schedulerLimit: return "bound on concurrent WPA/LTRANS processes"
        case .schedulerPeakRunning: return "most WPA/LTRANS processes seen running at once"
        case .memoryTargets: return "targets whose last link is kept in memory (at most max_targets)"
        case .memoryInputs: return "input objects whose summaries are kept in memory (those of the kept links)"
        }
    }

    public var label: String {
        switch self {
        case .cacheEntries: return "entries"
        case .cacheBytes: return "size"
        case .cacheDiskBytes: return "on disk"
        case .cacheLimitBytes: return "limit"
        case .schedulerLimit: return "limit"
        case .schedulerPeakRunning: return "peak running"
        case .memoryTargets: return "targets kept"
        case .memoryInputs: return "inputs kept"
        }
    }
}

/// Where the backend and the storage tiers record what they count.
public protocol StatisticsRecorder: Sendable {
    func add(_ deltas: [Statistic: Double])
}

extension StatisticsRecorder {
    public func add(_ statistic: Statistic, _ delta: Double = 1) { add([statistic: delta]) }
}

/// Keeps counters across restarts (the local cache's database).
public protocol CounterStore: Sendable {
    func addCounters(_ deltas: [Statistic: Double]) throws
    func counters() throws -> [Statistic: Double]
    func resetCounters() throws
}
