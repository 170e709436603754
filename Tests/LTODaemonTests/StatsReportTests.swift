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
