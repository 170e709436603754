import Foundation
import LTOStatistics
import Testing
@testable import LTODaemon

@Suite struct StatsReportTests {
    let report = StatsReport(allTime: [.cacheHits: 3, .cacheMisses: 1, .wpaSeconds: 1.23456], sinceStart: [.cacheHits: 1],
                             gauges: [.cacheEntries: 4, .cacheBytes: 123_456_789, .schedulerLimit: 2])

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
        let rows = report.table.split(separator: "\n").filter { $0.hasPrefix("  ") }
        let ends = Set(rows.map(\.count))
        #expect(ends.count == 1, "\(report.table)")
        #expect(report.table.contains("hit rate") && report.table.contains("75.0 %") && report.table.contains("117.7 MiB"))
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
