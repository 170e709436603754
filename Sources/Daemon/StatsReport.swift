// LTODaemon: `ltoc stats`: the counters and gauges as a table, JSON or the Prometheus text
// format, all generated from the `Statistic` and `Gauge` lists.
import Foundation
import LTOBackend
import LTOConfig
import LTOStatistics
import LTOStorage

/// One reading of every counter (all-time and since start) and gauge.
struct StatsReport: Sendable {
    let allTime: [Statistic: Double]
    /// nil when no daemon runs: the counters then come from the cache database alone.
    let sinceStart: [Statistic: Double]?
    /// The gauges there are (the scheduler's only while a daemon runs).
    let gauges: [Gauge: Double]

    /// The output format `ltoc stats` was asked for.
    enum Format: String, CaseIterable {
        case text, json, prometheus
    }

    /// `{"version": ..., "cache": {"hits": ...}, ..., "since_start": {...}}`; counts are integers,
    /// seconds rounded to the millisecond.
    var json: [String: Any] {
        var report = Self.nest(allTime.map { ($0.key.name, Self.jsonValue($0.key, $0.value)) })
        for (gauge, value) in gauges {
            let (group, name) = Self.split(gauge.name)
            var inner = report[group] as? [String: Any] ?? [:]
            inner[name] = Int(value.rounded())
            report[group] = inner
        }
        report["version"] = ltodVersion
        Self.addRatios(allTime, to: &report)
        if let sinceStart {
            var since = Self.nest(sinceStart.map { ($0.key.name, Self.jsonValue($0.key, $0.value)) })
            Self.addRatios(sinceStart, to: &since)
            report["since_start"] = since
        }
        return report
    }

    /// The Prometheus text exposition format: all-time counters and the current gauges.
    var prometheus: String {
        var out = ""
        for statistic in Statistic.allCases {
            out += Self.metric("ltod_" + statistic.name.replacingOccurrences(of: ".", with: "_") + "_total", "counter", statistic.help,
                               allTime[statistic] ?? 0)
        }
        for gauge in Gauge.allCases {
            guard let value = gauges[gauge] else { continue }
            out += Self.metric("ltod_" + gauge.name.replacingOccurrences(of: ".", with: "_"), "gauge", gauge.help, value)
        }
        for ratio in Ratio.allCases {
            out += Self.metric("ltod_" + ratio.name.replacingOccurrences(of: ".", with: "_"), "gauge", ratio.help, ratio.value(allTime) ?? .nan)
        }
        return out
    }

    /// The table: one row per counter (since start, all time) and gauge (now), by group.
    /// Without a running daemon there is no "since start" column.
    var table: String {
        let live = sinceStart != nil
        var table = TextTable([.left, .right, .right])
        if live {
            table.row("ltod \(ltodVersion)", "since start", "all time")
        } else {
            table.heading("ltod \(ltodVersion) is not running: all-time figures from the cache")
        }
        var group = ""
        for row in Self.layout where row.shown(self) {
            if row.group != group {
                group = row.group
                table.heading(Self.title(group))
            }
            table.row(["  " + row.label] + (live ? [row.since(self), row.all(self)] : [row.all(self)]))
        }
        return table.text
    }

    /// A row of the table.
    private struct Row: Sendable {
        let group: String
        let label: String
        let since: @Sendable (StatsReport) -> String
        let all: @Sendable (StatsReport) -> String
        /// Whether the reading has this row's figure (a gauge only a running daemon knows).
        var shown: @Sendable (StatsReport) -> Bool = { _ in true }
    }

    /// The table's rows: every gauge and counter in its group, with the hit rate after the misses.
    private static let layout: [Row] = {
        var rows: [Row] = []
        for group in ["cache", "wpa", "ltrans", "sessions", "scheduler", "inputs", "memory", "remote"] {
            for gauge in Gauge.allCases where gauge.group == group {
                rows.append(Row(group: group, label: gauge.label, since: { _ in "" }, all: { $0.format(gauge) },
                                shown: { $0.gauges[gauge] != nil }))
            }
            for statistic in Statistic.allCases where statistic.group == group {
                rows.append(Row(group: group, label: statistic.label, since: { $0.format(statistic, $0.sinceStart ?? [:]) },
                                all: { $0.format(statistic, $0.allTime) }))
                if statistic == .cacheMisses {
                    rows.append(Row(group: group, label: "hit rate", since: { hitRate($0.sinceStart ?? [:]) }, all: { hitRate($0.allTime) }))
                }
                for ratio in Ratio.allCases where ratio.denominator == statistic {
                    rows.append(Row(group: group, label: ratio.label, since: { milliseconds(ratio.value($0.sinceStart ?? [:])) },
                                    all: { milliseconds(ratio.value($0.allTime)) }))
                }
            }
        }
        return rows
    }()

    private func format(_ statistic: Statistic, _ values: [Statistic: Double]) -> String {
        let v = values[statistic] ?? 0
        if statistic.isBytes { return ByteSize.format(UInt64(max(0, v))) }
        return statistic.isSeconds ? decimal(v, places: 1) + " s" : String(Int(v.rounded()))
    }

    private static func milliseconds(_ seconds: Double?) -> String {
        seconds.map { decimal($0 * 1000, places: 1) + " ms" } ?? "-"
    }

    /// Each ratio in its group, in seconds to the microsecond; null when its denominator is zero.
    private static func addRatios(_ counters: [Statistic: Double], to report: inout [String: Any]) {
        for ratio in Ratio.allCases {
            let (group, name) = split(ratio.name)
            var inner = report[group] as? [String: Any] ?? [:]
            inner[name] = ratio.value(counters).map { ($0 * 1_000_000).rounded() / 1_000_000 } ?? NSNull()
            report[group] = inner
        }
    }

    private func format(_ gauge: Gauge) -> String {
        let v = gauges[gauge] ?? 0
        return gauge.isBytes ? ByteSize.format(UInt64(max(0, v))) : String(Int(v.rounded()))
    }

    private static func hitRate(_ values: [Statistic: Double]) -> String {
        percent(values[.cacheHits] ?? 0, of: (values[.cacheHits] ?? 0) + (values[.cacheMisses] ?? 0))
    }

    /// `part` as a percentage of `whole` with one decimal, or `-` when `whole` is 0.
    static func percent(_ part: Double, of whole: Double) -> String {
        whole > 0 ? decimal(100 * part / whole, places: 1) + " %" : "-"
    }

    private static func title(_ group: String) -> String {
        ["cache": "Cache", "wpa": "WPA", "ltrans": "LTRANS", "sessions": "Sessions", "scheduler": "Scheduler", "inputs": "Inputs",
         "memory": "Memory", "remote": "Remote tier"][group] ?? group
    }

    private static func jsonValue(_ statistic: Statistic, _ value: Double) -> Any {
        statistic.isSeconds ? (value * 1000).rounded() / 1000 : Int(value.rounded())
    }

    private static func split(_ name: String) -> (String, String) {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        return (parts[0], parts[1])
    }

    private static func nest(_ flat: [(String, Any)]) -> [String: Any] {
        var out: [String: [String: Any]] = [:]
        for (name, value) in flat {
            let (group, key) = split(name)
            out[group, default: [:]][key] = value
        }
        return out
    }

    private static func metric(_ name: String, _ type: String, _ help: String, _ v: Double) -> String {
        let number = v.isNaN ? "NaN" : v == v.rounded() ? String(Int(v)) : String(v)
        return "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(number)\n"
    }
}

/// `ltoc stats TARGET`: one target's links added up since it was first linked, beside its
/// last link.
struct TargetStatsReport {
    let totals: LinkTotals
    let last: LinkHistoryEntry?

    var table: String {
        var table = TextTable([.left, .right, .right])
        table.row(totals.target, "all links", "last link")
        let lastPartitions = last.map { Double($0.partitions) }, lastReused = last.map { Double($0.reused) }
        let rows: [(String, String, String)] = [
            ("links", String(totals.links), ""),
            ("partitions", String(totals.partitions), last.map { String($0.partitions) } ?? ""),
            ("reused", String(totals.reused), last.map { String($0.reused) } ?? ""),
            ("rebuilt", String(totals.partitions - totals.reused), last.map { String($0.partitions - $0.reused) } ?? ""),
            ("reuse rate", StatsReport.percent(Double(totals.reused), of: Double(totals.partitions)),
             lastReused.map { StatsReport.percent($0, of: lastPartitions ?? 0) } ?? ""),
            ("WPA time", decimal(totals.wpaSeconds, places: 1) + " s", last.map { decimal($0.wpaSeconds, places: 1) + " s" } ?? ""),
            ("time saved", decimal(totals.savedSeconds, places: 1) + " s", last.map { decimal($0.savedSeconds, places: 1) + " s" } ?? ""),
        ]
        for (label, all, latest) in rows { table.row("  " + label, all, latest) }
        var text = table.text
        text += "  first link  \(ExplainView.localTime(totals.firstLink))\n  last link   \(ExplainView.localTime(totals.lastLink))\n"
        return text
    }

    var json: [String: Any] {
        ["target": totals.target, "links": totals.links, "partitions": totals.partitions, "reused": totals.reused,
         "rebuilt": totals.partitions - totals.reused, "wpa_seconds": (totals.wpaSeconds * 1000).rounded() / 1000,
         "seconds_saved": (totals.savedSeconds * 1000).rounded() / 1000, "first_link": ExplainView.iso8601(totals.firstLink),
         "last_link": ExplainView.iso8601(totals.lastLink)]
    }
}
