import Foundation

/// The run as Markdown: one table of relinks per edit kind, one of per-workload costs, the goals.
extension Summary {
    func markdown() -> String {
        var out = "## Relinks (flags: `\(flags)`)\n\n"
        out += "Times are wall seconds, min/median/max over the cycles. \"plain\" is `gcc` with GCC's default\n"
        out += "partitioning, \"1to1\" adds `-flto-partition=1to1` (what ltod links, checked byte for byte every cycle;\n"
        out += "with the ceiling measured, this link also has `-save-temps`; \"ltod/1to1\" compares with the 1to1 link without it).\n"
        out += "Cold links after the first start from a fresh cache. \"load\" is the load average when the cycles began.\n"
        out += "Rebuilt: partitions ltod compiled / all (median fraction): canonical key, bytes key, and the ceiling\n"
        out += "(LTRANS outputs of plain 1to1 not byte-identical to any of the previous cycle's).\n\n"
        out += row(["workload", "edit", "n", "plain", "1to1", "ltod", "ltod/plain", "ltod/1to1", "rebuilt", "bytes key", "ceiling", "WPA"])
        out += row(Array(repeating: "---", count: 12))
        for w in workloads {
            for e in [w.colds, w.noop] + w.edits {
                out += row([w.name, e.kind, "\(e.cycles)", secs(e.plain.median), secs(e.plain1to1.median), spread(e.ltod),
                            String(format: "%.2f", e.relinkRatioMedian), String(format: "%.2f", e.ratio1to1Median), pct(e.rebuiltFractionMedian),
                            e.rebuiltFractionBytesMedian.map(pct) ?? "–", e.ltransChangedFractionMedian.map(pct) ?? "–",
                            secs(e.wpaMedian)])
            }
        }
        out += "\n## Per workload\n\n"
        out += row(["workload", "files", "partitions", "cold plain / 1to1 / ltod", "no-op ltod", "no-op, whole-link off (WPA)", "final ld", "LTO floor",
                    "one hit", "ltoc start", "daemon peak RSS", "cache per MB of program", "ratio (median)", "rebuilt (median, total)",
                    "bytes key (total)", "ceiling (total)", "load"])
        out += row(Array(repeating: "---", count: 17))
        for w in workloads {
            out += row([w.name, "\(w.sources)", "\(w.partitions)",
                        "\(secs(w.colds.plain.median)) / \(secs(w.colds.plain1to1.median)) / \(secs(w.colds.ltod.median))",
                        String(format: "%.3f s", w.noop.ltod.median),
                        w.noopWithoutWholeLink.map { String(format: "%.3f s (%.3f s)", $0.median, w.noopWithoutWholeLinkWPAMedian ?? 0) } ?? "–",
                        String(format: "%.3f s", w.finalLinkMedian), w.ltoFloorMedian.map { String(format: "%.3f s", $0) } ?? "–", String(format: "%.1f ms", w.hitMs.median), String(format: "%.1f ms", w.shimStartMs.median),
                        String(format: "%.0f MB", Double(w.peakRssBytes) / 1_048_576),
                        String(format: "%.1f MB", w.cacheBytesPerProgramMb / 1_048_576),
                        String(format: "%.2f", w.relinkRatioMedian), "\(pct(w.rebuiltFractionMedian)), \(pct(w.rebuiltFractionTotal))",
                        w.rebuiltFractionBytesTotal.map(pct) ?? "–", w.ltransChangedFractionTotal.map(pct) ?? "–",
                        w.loadRange.map { String(format: "%.1f-%.1f", $0.min, $0.max) } ?? "–"])
        }
        out += String(format: "\nOverall: relink ratio ltod/plain median %.2f, partitions rebuilt median %@.\n",
                      relinkRatioMedian, pct(rebuiltFractionMedian))
        out += changesMarkdown()
        out += "\n## Goals\n\n" + row(["goal", "workload", "measured", "met"]) + row(["---", "---", "---", "---"])
        for g in goals { out += row([g.goal, g.workload, g.measured, g.met ? "yes" : "**no**"]) }
        return out
    }

    func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |\n" }
    private func secs(_ t: Double) -> String { String(format: "%.2f s", t) }
    func pct(_ f: Double) -> String { String(format: "%.1f%%", f * 100) }
    private func spread(_ s: Spread) -> String { String(format: "%.2f/%.2f/%.2f", s.min, s.median, s.max) }
}
