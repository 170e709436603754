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
    case ltransAuditRuns = "ltrans.audit_runs"
    case ltransAuditMismatches = "ltrans.audit_mismatches"
    case ltransSecondsSpent = "ltrans.seconds_spent"
    case ltransSecondsSaved = "ltrans.seconds_saved"
    case sessionsTotal = "sessions.total"
    case sessionsFallbacks = "sessions.fallbacks"
    case sessionsAnswered = "sessions.answered"
    case inputsParsed = "inputs.parsed"
    case inputsReused = "inputs.reused"

    /// The dotted name used in JSON (`cache.hits`) and, flattened, in Prometheus.
    public var name: String { rawValue }

    /// The group it is shown under: the part of the name before the dot.
    public var group: String { String(rawValue.prefix { $0 != "." }) }

    /// Whether it counts seconds (shown with one decimal) rather than events.
    public var isSeconds: Bool { rawValue.hasSuffix("seconds") || rawValue.contains(".seconds_") }

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
        case .ltransAuditRuns: return "canonical-only hits compiled again by the audit and compared"
        case .ltransAuditMismatches: return "audited hits whose fresh object differed from the cached one"
        case .ltransSecondsSpent: return "wall time spent compiling partitions"
        case .ltransSecondsSaved: return "recorded build time of the partitions taken from the cache"
        case .sessionsTotal: return "links seen"
        case .sessionsFallbacks: return "links that ran without the daemon"
        case .sessionsAnswered: return "links answered whole from the cache (every input unchanged): no lto-wrapper, WPA or LTRANS ran"
        case .inputsParsed: return "input objects read and parsed"
        case .inputsReused: return "unchanged input objects not read again"
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
        case .ltransAuditRuns: return "audited"
        case .ltransAuditMismatches: return "audit mismatches"
        case .ltransSecondsSpent: return "time spent"
        case .ltransSecondsSaved: return "time saved"
        case .sessionsTotal: return "links"
        case .sessionsFallbacks: return "fallbacks"
        case .sessionsAnswered: return "answered whole"
        case .inputsParsed: return "parsed"
        case .inputsReused: return "unchanged, not re-read"
        }
    }
}

/// A value ltod reports as it is now (not counted).
public enum Gauge: String, CaseIterable, Sendable {
    case cacheEntries = "cache.entries"
    case cacheBytes = "cache.bytes"
    case cacheLimitBytes = "cache.limit_bytes"
    case schedulerLimit = "scheduler.limit"
    case schedulerPeakRunning = "scheduler.peak_running"

    public var name: String { rawValue }
    public var group: String { String(rawValue.prefix { $0 != "." }) }
    public var isBytes: Bool { rawValue.hasSuffix("bytes") }

    public var help: String {
        switch self {
        case .cacheEntries: return "entries in the cache"
        case .cacheBytes: return "bytes held by the cache"
        case .cacheLimitBytes: return "cache size limit in bytes"
        case .schedulerLimit: return "bound on concurrent WPA/LTRANS processes"
        case .schedulerPeakRunning: return "most WPA/LTRANS processes seen running at once"
        }
    }

    public var label: String {
        switch self {
        case .cacheEntries: return "entries"
        case .cacheBytes: return "size"
        case .cacheLimitBytes: return "limit"
        case .schedulerLimit: return "limit"
        case .schedulerPeakRunning: return "peak running"
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
