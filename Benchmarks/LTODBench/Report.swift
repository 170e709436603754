import Foundation

/// Minimum, median and maximum of a sample.
struct Spread: Codable, Sendable {
    var min: Double
    var median: Double
    var max: Double

    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        min = s[0]
        max = s[s.count - 1]
        median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

func median(_ values: [Double]) -> Double? { Spread(values)?.median }

/// One edit kind of one workload, over its cycles.
struct EditSummary: Codable, Sendable {
    var kind: String
    var cycles: Int
    var ltod: Spread
    var plain: Spread
    var plain1to1: Spread
    var ltodBytes: Spread?
    var relinkRatioMedian: Double
    /// ltod over plain gcc with `-flto-partition=1to1` (without `-save-temps`), per cycle; the median.
    var ratio1to1Median: Double
    var rebuiltFractionMedian: Double
    var rebuiltFractionBytesMedian: Double?
    var ltransChangedFractionMedian: Double?
    var wpaMedian: Double
    var compileMedian: Double

    init?(kind: String, _ cycles: [CycleResult]) {
        guard let ltod = Spread(cycles.map(\.ltod)), let plain = Spread(cycles.map(\.plain)),
              let plain1to1 = Spread(cycles.map(\.plain1to1)) else { return nil }
        self.kind = kind
        self.cycles = cycles.count
        self.ltod = ltod
        self.plain = plain
        self.plain1to1 = plain1to1
        ltodBytes = Spread(cycles.compactMap(\.ltodBytes))
        relinkRatioMedian = median(cycles.map(\.ratio)) ?? 0
        ratio1to1Median = median(cycles.map(\.ratio1to1)) ?? 0
        rebuiltFractionMedian = median(cycles.map { fraction($0.rebuilt, $0.partitions) }) ?? 0
        rebuiltFractionBytesMedian = median(cycles.compactMap { c in c.rebuiltBytes.map { fraction($0, c.partitions) } })
        ltransChangedFractionMedian = median(cycles.compactMap { c in c.ltransChanged.map { fraction($0, c.partitions) } })
        wpaMedian = median(cycles.map(\.wpa)) ?? 0
        compileMedian = median(cycles.map(\.compile)) ?? 0
    }
}

func fraction(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }

/// One workload: its fixed costs, each edit kind, and the medians over all its edit cycles.
struct WorkloadSummary: Codable, Sendable {
    var name: String
    var sources: Int
    var partitions: Int
    var programBytes: Int
    var cold: CycleResult
    /// Every cold link (the first, then each with a fresh cache).
    var colds: EditSummary
    var noop: EditSummary
    var finalLinkMedian: Double
    /// The LTO link with nothing to compile: the linker plugin's share of any answer.
    var ltoFloorMedian: Double?
    var noopOverFinalLink: Double
    /// No-op relinks with whole-link answers off, and WPA's time in them.
    var noopWithoutWholeLink: Spread?
    var noopWithoutWholeLinkWPAMedian: Double?
    /// The load average (last minute) when the cycles began: lowest and highest.
    var loadRange: Spread?
    var hitMs: Spread
    var shimStartMs: Spread
    var peakRssBytes: Int
    var peakRssBytesKeyDaemon: Int?
    var cacheBytes: Int
    /// Cache bytes per MiB of the linked program.
    var cacheBytesPerProgramMb: Double
    var edits: [EditSummary]
    var relinkRatioMedian: Double
    var rebuiltFractionMedian: Double
    /// Sum of partitions rebuilt over the sum of partitions, over every edit cycle.
    var rebuiltFractionTotal: Double
    var rebuiltFractionBytesMedian: Double?
    var rebuiltFractionBytesTotal: Double?
    var ltransChangedFractionMedian: Double?
    var ltransChangedFractionTotal: Double?
    /// Totals, and medians over the cycles that changed an object.
    var changes: ChangeSummary
    var audit: AuditCounts?

    init?(_ r: WorkloadResult) {
        guard let cold = r.cycles.first(where: { $0.kind == "cold" }),
              let colds = EditSummary(kind: "cold", r.cycles.filter { $0.kind == "cold" }),
              let noop = EditSummary(kind: "noop", r.cycles.filter { $0.kind == "noop" }),
              let hit = Spread(r.hitMilliseconds), let shim = Spread(r.shimStartMilliseconds) else { return nil }
        let edited = r.cycles.filter { $0.kind != "cold" && $0.kind != "noop" }
        var kinds: [String] = []
        for c in edited where !kinds.contains(c.kind) { kinds.append(c.kind) }
        name = r.name
        sources = r.sources
        partitions = cold.partitions
        programBytes = r.programBytes
        self.cold = cold
        self.colds = colds
        self.noop = noop
        finalLinkMedian = median(r.finalLink) ?? 0
        ltoFloorMedian = median(r.ltoFloor)
        noopOverFinalLink = noop.ltod.median - finalLinkMedian
        noopWithoutWholeLink = Spread(r.noopWithoutWholeLink)
        noopWithoutWholeLinkWPAMedian = median(r.noopWithoutWholeLinkWPA)
        loadRange = Spread(r.cycles.compactMap(\.load))
        hitMs = hit
        shimStartMs = shim
        peakRssBytes = r.peakRSS
        peakRssBytesKeyDaemon = r.peakRSSBytesKey
        cacheBytes = r.cacheBytes
        cacheBytesPerProgramMb = r.programBytes > 0 ? Double(r.cacheBytes) / (Double(r.programBytes) / 1_048_576) : 0
        edits = kinds.compactMap { k in EditSummary(kind: k, edited.filter { $0.kind == k }) }
        relinkRatioMedian = median(edited.map(\.ratio)) ?? 0
        rebuiltFractionMedian = median(edited.map { fraction($0.rebuilt, $0.partitions) }) ?? 0
        let total = edited.map(\.partitions).reduce(0, +)
        rebuiltFractionTotal = fraction(edited.map(\.rebuilt).reduce(0, +), total)
        let bytes = edited.compactMap { c in c.rebuiltBytes.map { ($0, c.partitions) } }
        rebuiltFractionBytesMedian = median(bytes.map { fraction($0.0, $0.1) })
        rebuiltFractionBytesTotal = bytes.isEmpty ? nil : fraction(bytes.map(\.0).reduce(0, +), bytes.map(\.1).reduce(0, +))
        let ceiling = edited.compactMap { c in c.ltransChanged.map { ($0, c.partitions) } }
        ltransChangedFractionMedian = median(ceiling.map { fraction($0.0, $0.1) })
        ltransChangedFractionTotal = ceiling.isEmpty ? nil : fraction(ceiling.map(\.0).reduce(0, +), ceiling.map(\.1).reduce(0, +))
        changes = ChangeSummary(edited)
        audit = r.audit
    }
}

/// A performance goal of the project and whether this run met it.
struct Goal: Codable, Sendable {
    var goal: String
    var workload: String
    var measured: String
    var met: Bool
}

/// The whole run: what summary.json holds.
struct Summary: Codable, Sendable {
    var date: String
    var flags: String
    var command: String
    var workloads: [WorkloadSummary]
    var relinkRatioMedian: Double
    var rebuiltFractionMedian: Double
    var goals: [Goal]
    var cycles: [CycleResult]

    init(results: [WorkloadResult], flags: String, command: String) {
        date = ISO8601DateFormatter().string(from: Date())
        self.flags = flags
        self.command = command
        workloads = results.compactMap(WorkloadSummary.init)
        cycles = results.flatMap(\.cycles)
        let edited = cycles.filter { $0.kind != "cold" && $0.kind != "noop" }
        relinkRatioMedian = median(edited.map(\.ratio)) ?? 0
        rebuiltFractionMedian = median(edited.map { fraction($0.rebuilt, $0.partitions) }) ?? 0
        goals = workloads.flatMap(Self.goals)
    }

    /// The goals of docs/BENCHMARKS.md, each from medians over the workload's cycles.
    static func goals(_ w: WorkloadSummary) -> [Goal] {
        var goals: [Goal] = []
        let bodyEditLimits = ["synthetic-200": 0.2, "synthetic-800": 0.12]
        if let limit = bodyEditLimits[w.name], let body = w.edits.first(where: { $0.kind == "bodySizeChange" }) {
            goals.append(Goal(goal: String(format: "relink after a one-file body edit <= %.2f of plain gcc", limit), workload: w.name,
                              measured: String(format: "%.2f (%.2f s vs %.2f s)", body.relinkRatioMedian, body.ltod.median, body.plain.median),
                              met: body.relinkRatioMedian <= limit))
        }
        if w.name.hasPrefix("replay-") { goals += replayGoals(w) }
        if let audit = w.audit, audit.fraction > 0 {
            goals.append(Goal(goal: "audit mismatches = 0", workload: w.name,
                              measured: "\(audit.mismatches) of \(audit.runs) audited (fraction \(audit.fraction))", met: audit.mismatches == 0))
        }
        goals.append(Goal(goal: "no-op relink <= final ld + 50 ms", workload: w.name,
                          measured: String(format: "%+.0f ms (%.3f s vs %.3f s; an LTO link with nothing to compile: %.3f s)",
                                           w.noopOverFinalLink * 1000, w.noop.ltod.median, w.finalLinkMedian, w.ltoFloorMedian ?? 0),
                          met: w.noopOverFinalLink <= 0.05))
        if let partial = w.noopWithoutWholeLink, let wpa = w.noopWithoutWholeLinkWPAMedian {
            let limit = wpa + w.finalLinkMedian + 0.0003 * Double(w.partitions)
            goals.append(Goal(goal: "no-op relink, whole-link answer off <= WPA + final ld + 0.3 ms per partition", workload: w.name,
                              measured: String(format: "%.3f s vs %.3f s (WPA %.3f s, final ld %.3f s, %d partitions)", partial.median, limit,
                                               wpa, w.finalLinkMedian, w.partitions),
                              met: partial.median <= limit))
        }
        for e in [w.colds] + w.edits.filter({ $0.kind == "sharedHeader" }) {
            goals.append(Goal(goal: "\(e.kind == "cold" ? "cold link" : "shared-header relink") <= 1.05x plain gcc 1to1", workload: w.name,
                              measured: String(format: "%.2f (%d cycles)", e.ratio1to1Median, e.cycles), met: e.ratio1to1Median <= 1.05))
        }
        goals.append(Goal(goal: "one cache hit < 5 ms", workload: w.name, measured: String(format: "%.1f ms", w.hitMs.median), met: w.hitMs.median < 5))
        return goals
    }

    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
