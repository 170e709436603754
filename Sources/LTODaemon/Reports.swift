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
        if args.contains("--json") {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            return .output(exitStatus: 0, stdout: [UInt8](data) + [10], stderr: [])
        }
        return .output(exitStatus: 0, stdout: Array(statsTable(report).utf8), stderr: [])
    }

    func statsReport() throws -> [String: Any] {
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
            + row("  time spent", "ltrans.seconds_spent", seconds: true) + row("  time saved", "ltrans.seconds_saved", seconds: true)
            + "Sessions\n" + row("  links", "sessions.total") + row("  fallbacks", "sessions.fallbacks")
            + "Scheduler\n" + row("  limit", "scheduler.limit", gauge: true) + row("  peak running", "scheduler.peak_running", gauge: true)
            + "Inputs\n" + row("  parsed", "inputs.parsed") + row("  unchanged, not re-read", "inputs.reused")
    }

    /// `ltoc explain [--json] [TARGET]`: what the last link of TARGET reused and rebuilt.
    func explain(_ args: [String]) -> Reply {
        let json = args.contains("--json")
        let wanted = args.first { !$0.hasPrefix("-") }
        let links = backend.lastLinks.withLock { $0 }
        let chosen = wanted.flatMap { w in links.values.first { $0.target == w || $0.target.hasSuffix("/" + w) } }
            ?? (wanted == nil ? links.values.max { $0.started < $1.started } : nil)
        guard let session = chosen else {
            return .failure(wanted.map { "no link of \($0) is known to this daemon" } ?? "no link has been made through this daemon yet")
        }
        let s = session.snapshot
        let rebuilt = s.outcomes.filter { $0.kind != .reused }
        let changes = s.changes ?? []
        let report: [String: Any] = [
            "target": session.target,
            "first_link": s.changes == nil,
            "inputs_changed": changes.map(\.path),
            "changes": changes.map {
                ["path": $0.path, "functions": $0.functions, "streams": $0.streams, "added": $0.added, "removed": $0.removed] as [String: Any]
            },
            "partitions": ["total": s.outcomes.count, "reused": s.outcomes.count - rebuilt.count, "rebuilt": rebuilt.count],
            "rebuilt": rebuilt.map { ["index": $0.index ?? -1, "reason": $0.reason, "seconds": $0.seconds, "key": $0.key?.description ?? ""] as [String: Any] },
            "wpa_seconds": s.wpaSeconds,
        ]
        if json, let data = try? JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) {
            return .output(exitStatus: 0, stdout: [UInt8](data) + [10], stderr: [])
        }
        var text = "\(session.target): \(s.outcomes.count) partitions, \(s.outcomes.count - rebuilt.count) reused, \(rebuilt.count) rebuilt\n"
        if s.changes == nil { text += "first link of this target seen by this daemon\n" }
        for c in changes {
            let what = c.added ? "new input" : c.removed ? "input removed"
                : (c.functions.isEmpty ? "" : "functions " + c.functions.joined(separator: ", "))
                    + (c.streams.isEmpty ? "" : (c.functions.isEmpty ? "" : "; ") + "streams " + c.streams.joined(separator: ", "))
            text += "changed \(c.path): \(what)\n"
        }
        for o in rebuilt { text += "  partition \(o.index.map(String.init) ?? "?"): \(o.reason) (\(String(format: "%.2f", o.seconds)) s)\n" }
        return .output(exitStatus: 0, stdout: Array(text.utf8), stderr: [])
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
