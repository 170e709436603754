import Foundation
import LTOConfig
import LTOStatistics
import Testing
@testable import LTODaemon

@Suite struct StatsReportTests {
    let report = StatsReport(allTime: [.cacheHits: 3, .cacheMisses: 1, .wpaSeconds: 1.23456], sinceStart: [.cacheHits: 1],
                             gauges: Dictionary(uniqueKeysWithValues: Gauge.allCases.map { ($0, 2) })
                                .merging([.cacheEntries: 4, .cacheBytes: 123_456_789]) { $1 })

    @Test func everyCounterAndGaugeIsInEveryFormat() {
        let table = report.table
        for statistic in Statistic.allCases {
            #expect(table.contains("  " + statistic.label + " "), "\(statistic.name)")
            #expect(report.prometheus.contains("ltod_" + statistic.name.replacingOccurrences(of: ".", with: "_") + "_total "))
        }
        for gauge in Gauge.allCases {
            #expect(report.prometheus.contains("# HELP ltod_" + gauge.name.replacingOccurrences(of: ".", with: "_") + " " + gauge.help))
        }
        let json = report.json
        #expect((json["cache"] as? [String: Any])?["hits"] as? Int == 3)
        #expect((json["cache"] as? [String: Any])?["entries"] as? Int == 4)
        #expect((json["wpa"] as? [String: Any])?["seconds"] as? Double == 1.235)
        #expect(((json["since_start"] as? [String: Any])?["cache"] as? [String: Any])?["hits"] as? Int == 1)
    }

    @Test func theMeanRemoteHitLatencyIsDerivedInEveryFormat() {
        let remote = StatsReport(allTime: [.remoteHits: 4, .remoteHitSeconds: 0.01, .remoteBytesRead: Double(3 << 20)], sinceStart: [:], gauges: [:])
        #expect(remote.table.contains("mean hit latency") && remote.table.contains("2.5 ms") && remote.table.contains("3.0 MiB"))
        #expect((remote.json["remote"] as? [String: Any])?["mean_hit_seconds"] as? Double == 0.0025)
        #expect(((remote.json["since_start"] as? [String: Any])?["remote"] as? [String: Any])?["mean_hit_seconds"] is NSNull)
        #expect(remote.prometheus.contains("# TYPE ltod_remote_mean_hit_seconds gauge\nltod_remote_mean_hit_seconds 0.0025\n"))
        #expect(report.prometheus.contains("ltod_remote_mean_hit_seconds NaN\n"))
    }

    @Test func columnsLineUpWhateverTheValues() {
        let wide = StatsReport(allTime: [.cacheHits: 123_456_789_012, .cacheMisses: 1], sinceStart: [.cacheHits: 5, .cacheMisses: 5],
                               gauges: [.cacheBytes: Double(1 << 50)])
        for table in [report.table, wide.table] {
            let rows = table.split(separator: "\n").filter { $0.hasPrefix("  ") }
            #expect(Set(rows.map(\.count)).count == 1, "\(table)")
            #expect(!table.contains(" \n"), "trailing spaces")
        }
        #expect(report.table.contains("hit rate") && report.table.contains("75.0 %") && report.table.contains("117.7 MiB"))
    }

    @Test func theHitRateIsShownSinceStartAndAllTime() throws {
        let table = StatsReport(allTime: [.cacheHits: 3, .cacheMisses: 1], sinceStart: [.cacheHits: 1, .cacheMisses: 1], gauges: [:]).table
        let row = try #require(table.split(separator: "\n").first { $0.contains("hit rate") })
        #expect(row.contains("50.0 %  ") && row.hasSuffix("  75.0 %"), "since start, then all time: \(row)")
        #expect(table.hasPrefix("ltod \(ltodVersion)") && table.contains("since start  all time"))
    }

    @Test func withoutADaemonOnlyAllTimeFiguresAreShown() {
        let offline = StatsReport(allTime: [.cacheHits: 3, .cacheMisses: 1], sinceStart: nil, gauges: [.cacheEntries: 4])
        #expect(offline.table.contains("is not running") && !offline.table.contains("since start"))
        #expect(!offline.table.contains("peak running"), "the scheduler's gauges belong to a running daemon")
        #expect(offline.json["since_start"] == nil)
        #expect(!offline.prometheus.contains("ltod_scheduler_limit"))
    }

    @Test func theReferenceNamesEveryCounter() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/REFERENCE.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for name in Statistic.allCases.map(\.name) + Gauge.allCases.map(\.name) {
            #expect(text.contains("`\(name)`"), "\(name) is not in docs/REFERENCE.md")
        }
    }
}
