import Foundation

/// A workload's edit cycles as totals, and as medians over only the cycles whose compile
/// changed an object (`CycleResult.objectsChanged`): a replayed commit that changes no file
/// the program compiles or includes relinks nothing new, and counting it would flatter the
/// medians.
struct ChangeSummary: Codable, Sendable {
    var cycles: Int
    var cyclesChangingObjects: Int
    var partitionsTotal: Int
    var rebuiltTotal: Int
    var rebuiltBytesTotal: Int?
    /// LTRANS outputs of plain 1to1 that really changed, summed: what even a perfect key rebuilds.
    var floorTotal: Int?
    var relinkRatioMedianChanging: Double?
    var rebuiltFractionMedianChanging: Double?
    var rebuiltFractionBytesMedianChanging: Double?
    var floorFractionMedianChanging: Double?

    init(_ edited: [CycleResult]) {
        let changing = edited.filter { $0.objectsChanged > 0 }
        cycles = edited.count
        cyclesChangingObjects = changing.count
        partitionsTotal = edited.map(\.partitions).reduce(0, +)
        rebuiltTotal = edited.map(\.rebuilt).reduce(0, +)
        rebuiltBytesTotal = Self.total(edited.map(\.rebuiltBytes))
        floorTotal = Self.total(edited.map(\.ltransChanged))
        relinkRatioMedianChanging = median(changing.map(\.ratio))
        rebuiltFractionMedianChanging = median(changing.map { fraction($0.rebuilt, $0.partitions) })
        rebuiltFractionBytesMedianChanging = median(changing.compactMap { c in c.rebuiltBytes.map { fraction($0, c.partitions) } })
        floorFractionMedianChanging = median(changing.compactMap { c in c.ltransChanged.map { fraction($0, c.partitions) } })
    }

    /// The sum, or nil when any cycle lacks the figure.
    private static func total(_ values: [Int?]) -> Int? {
        values.contains(nil) ? nil : values.compactMap { $0 }.reduce(0, +)
    }
}

extension Summary {
    /// A replay's goals: rebuilt partitions within twice the floor over the whole replay, the
    /// median relink of the commits that changed an object, and every binary checked.
    static func replayGoals(_ w: WorkloadSummary) -> [Goal] {
        let c = w.changes
        let rebuilt = Goal(goal: "partitions rebuilt over the replay <= 2x the floor (total)", workload: w.name,
                           measured: c.floorTotal.map { "\(c.rebuiltTotal) vs floor \($0) (of \(c.partitionsTotal))" } ?? "no floor (--no-ceiling)",
                           met: c.floorTotal.map { c.rebuiltTotal <= 2 * $0 } ?? false)
        let ratio = Goal(goal: "relink ratio median over commits changing a compiled source <= 0.25 of plain gcc", workload: w.name,
                         measured: c.relinkRatioMedianChanging.map {
                             String(format: "%.2f (%d of %d commits)", $0, c.cyclesChangingObjects, c.cycles)
                         } ?? "no commit changed a compiled source",
                         met: (c.relinkRatioMedianChanging ?? 1) <= 0.25)
        // A differing binary stops the run (WRONG BINARY), so a summary means every link matched.
        let links = 1 + w.noop.cycles + c.cycles
        let identical = Goal(goal: "every binary byte-identical to plain gcc 1to1", workload: w.name,
                             measured: "\(links) of \(links) links", met: true)
        return [rebuilt, ratio, identical]
    }

    /// The replays' totals and medians, and the audits; empty when there are none.
    func changesMarkdown() -> String {
        var out = ""
        let replays = workloads.filter { $0.name.hasPrefix("replay-") }
        if !replays.isEmpty {
            out += "\n## Replays\n\n"
            out += "Totals over every replayed commit; medians over all commits, then over only the commits that changed\n"
            out += "a compiled object (a commit that changes no file the program compiles or includes changes none).\n"
            out += "The floor is the ceiling column above: LTRANS outputs of plain 1to1 that really changed.\n\n"
            out += row(["workload", "commits", "changing an object", "rebuilt (total)", "bytes key (total)", "floor (total)",
                        "ratio median (all / changing)", "rebuilt median (all / changing)", "floor median (changing)"])
            out += row(Array(repeating: "---", count: 9))
            for w in replays { out += replayRow(w) }
        }
        let audited = workloads.compactMap { w in w.audit.map { (w.name, $0) } }
        if !audited.isEmpty {
            out += "\n## Audit\n\n" + row(["workload", "fraction", "audit runs", "audit mismatches"]) + row(["---", "---", "---", "---"])
            for (name, a) in audited { out += row([name, "\(a.fraction)", "\(a.runs)", "\(a.mismatches)"]) }
        }
        return out
    }

    private func replayRow(_ w: WorkloadSummary) -> String {
        let c = w.changes
        func of(_ n: Int?) -> String { n.map { "\($0) / \(c.partitionsTotal)" } ?? "–" }
        func both(_ all: Double, _ changing: Double?, _ format: (Double) -> String) -> String {
            "\(format(all)) / \(changing.map(format) ?? "–")"
        }
        return row([w.name, "\(c.cycles)", "\(c.cyclesChangingObjects)", of(c.rebuiltTotal), of(c.rebuiltBytesTotal), of(c.floorTotal),
                    both(w.relinkRatioMedian, c.relinkRatioMedianChanging) { String(format: "%.2f", $0) },
                    both(w.rebuiltFractionMedian, c.rebuiltFractionMedianChanging, pct),
                    c.floorFractionMedianChanging.map(pct) ?? "–"])
    }
}
