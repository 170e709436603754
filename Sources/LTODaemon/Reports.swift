import Foundation
import LTOCache
import LTOWire

extension Server {
    /// `ltoc stats [--json] [--zero]`: all-time figures (persisted) and since this daemon started.
    func statsReply(_ args: [String]) throws -> Reply {
        if args.contains("--zero") {
            try stats.zero()
            return .output(exitStatus: 0, stdout: Array("statistics zeroed\n".utf8), stderr: [])
        }
        let report = try statsReport()
        switch try format(args) {
        case "json": return jsonReply(report)
        case "prometheus": return .output(exitStatus: 0, stdout: Array(prometheus(report).utf8), stderr: [])
        default: break
        }
        return .output(exitStatus: 0, stdout: Array(statsTable(report).utf8), stderr: [])
    }

    /// `--json`, or `--format text|json|prometheus` (also `--format=...`).
    private func format(_ args: [String]) throws -> String {
        if args.contains("--json") { return "json" }
        var value: String?
        for (i, a) in args.enumerated() {
            if a == "--format" { value = i + 1 < args.count ? args[i + 1] : "" }
            if a.hasPrefix("--format=") { value = String(a.dropFirst("--format=".count)) }
        }
        guard let value else { return "text" }
        guard ["text", "json", "prometheus"].contains(value) else {
            throw StatsError.badFormat(value)
        }
        return value
    }

    /// The Prometheus text exposition format: all-time counters and the current gauges.
    private func prometheus(_ report: [String: Any]) -> String {
        func value(_ path: String) -> Double {
            let p = path.split(separator: ".").map(String.init)
            let v = (report[p[0]] as? [String: Any])?[p[1]]
            return (v as? Double) ?? (v as? Int).map(Double.init) ?? 0
        }
        func metric(_ name: String, _ type: String, _ help: String, _ v: Double) -> String {
            let number = v == v.rounded() ? String(Int(v)) : String(v)
            return "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(number)\n"
        }
        var out = ""
        for (counter, help) in Statistics.counters {
            out += metric("ltod_" + counter.replacingOccurrences(of: ".", with: "_") + "_total", "counter", help, value(counter))
        }
        for (gauge, help) in [("cache.entries", "entries in the cache"), ("cache.bytes", "bytes held by the cache"),
                              ("cache.limit_bytes", "cache size limit in bytes"),
                              ("scheduler.limit", "bound on concurrent WPA/LTRANS processes"),
                              ("scheduler.peak_running", "most WPA/LTRANS processes seen running at once")] {
            out += metric("ltod_" + gauge.replacingOccurrences(of: ".", with: "_"), "gauge", help, value(gauge))
        }
        return out
    }

    func statsReport() throws -> [String: Any] {
        stats.importFallbacks(from: Endpoint.fallbackLog(socketPath: listener.path))
        let summary = try store.summary()
        let (allTime, since) = stats.snapshot()
        var report = Self.nest(allTime)
        var cache = report["cache"] as? [String: Any] ?? [:]
        cache["entries"] = summary.entries
        cache["bytes"] = Int(summary.bytes)
        cache["limit_bytes"] = Int(summary.limitBytes)
        report["cache"] = cache
        report["scheduler"] = ["limit": scheduler.limit, "peak_running": scheduler.peakRunning]
        report["version"] = ltodVersion
        report["since_start"] = Self.nest(since)
        return report
    }

    /// Turns `a.b` counter names into nested objects; counts become integers.
    static func nest(_ flat: [String: Double]) -> [String: Any] {
        var out: [String: [String: Any]] = [:]
        for (name, value) in flat {
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let isTime = parts[1].contains("seconds")
            out[parts[0], default: [:]][parts[1]] = isTime ? (value * 1000).rounded() / 1000 : Int(value.rounded()) as Any
        }
        return out
    }

    private func statsTable(_ r: [String: Any]) -> String {
        func v(_ path: String, in root: [String: Any] = r) -> Double {
            let p = path.split(separator: ".").map(String.init)
            let value = (root[p[0]] as? [String: Any])?[p[1]]
            return (value as? Double) ?? (value as? Int).map(Double.init) ?? 0
        }
        let since = r["since_start"] as? [String: Any] ?? [:]
        /// A counter row shows since-start and all-time figures; a gauge (`bytes`, `gauge`) only its current value.
        func row(_ label: String, _ path: String, bytes: Bool = false, seconds: Bool = false, gauge: Bool = false) -> String {
            func fmt(_ x: Double) -> String {
                bytes ? ByteSize.format(UInt64(x)) : seconds ? String(format: "%.1f s", x) : String(Int(x))
            }
            let a = fmt(v(path)), s = bytes || gauge ? "" : fmt(v(path, in: since))
            return label.padding(toLength: 26, withPad: " ", startingAt: 0)
                + s.leftPadded(12) + a.leftPadded(14) + "\n"
        }
        let hits = v("cache.hits"), misses = v("cache.misses")
        let rate = hits + misses > 0 ? String(format: "%.1f %%", 100 * hits / (hits + misses)) : "-"
        return "ltod \(ltodVersion)".padding(toLength: 26, withPad: " ", startingAt: 0) + "since start".leftPadded(12) + "all time".leftPadded(14) + "\n"
            + "Cache\n" + row("  entries", "cache.entries", gauge: true) + row("  size", "cache.bytes", bytes: true)
            + row("  limit", "cache.limit_bytes", bytes: true)
            + row("  hits", "cache.hits") + row("  misses", "cache.misses")
            + "  hit rate".padding(toLength: 26, withPad: " ", startingAt: 0) + "".leftPadded(12) + rate.leftPadded(14) + "\n"
            + row("  corrupt entries", "cache.corrupt") + row("  evictions", "cache.evictions")
            + "WPA\n" + row("  runs", "wpa.runs") + row("  time", "wpa.seconds", seconds: true)
            + "LTRANS\n" + row("  rebuilt", "ltrans.rebuilt") + row("  reused", "ltrans.reused")
            + row("  uncacheable", "ltrans.uncacheable")
            + row("  reused via canonical key", "ltrans.canonical_hits") + row("  keyed by bytes (fallback)", "ltrans.canonical_fallbacks")
            + row("  audited", "ltrans.audit_runs") + row("  audit mismatches", "ltrans.audit_mismatches")
            + row("  time spent", "ltrans.seconds_spent", seconds: true) + row("  time saved", "ltrans.seconds_saved", seconds: true)
            + "Sessions\n" + row("  links", "sessions.total") + row("  fallbacks", "sessions.fallbacks")
            + "Scheduler\n" + row("  limit", "scheduler.limit", gauge: true) + row("  peak running", "scheduler.peak_running", gauge: true)
            + "Inputs\n" + row("  parsed", "inputs.parsed") + row("  unchanged, not re-read", "inputs.reused")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// A `stats` option that cannot be used.
enum StatsError: Error, CustomStringConvertible {
    case badFormat(String)

    var description: String {
        switch self {
        case .badFormat(let f): return "unknown format '\(f)'; expected text, json or prometheus"
        }
    }
}
