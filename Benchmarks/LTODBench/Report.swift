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
    var noop: EditSummary
    var finalLinkMedian: Double
    var noopOverFinalLink: Double
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
        self.noop = noop
        finalLinkMedian = median(r.finalLink) ?? 0
        noopOverFinalLink = noop.ltod.median - finalLinkMedian
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

    static func goals(_ w: WorkloadSummary) -> [Goal] {
        var goals: [Goal] = []
        if w.name == "synthetic-200", let body = w.edits.first(where: { $0.kind == "bodySizeChange" }) {
            goals.append(Goal(goal: "relink after a one-file body edit <= 1/4 of plain gcc", workload: w.name,
                              measured: String(format: "%.2f (%.2f s vs %.2f s)", body.relinkRatioMedian, body.ltod.median, body.plain.median),
                              met: body.relinkRatioMedian <= 0.25))
        }
        if w.name.hasPrefix("replay-") { goals += replayGoals(w) }
        if let audit = w.audit, audit.fraction > 0 {
            goals.append(Goal(goal: "audit mismatches = 0", workload: w.name,
                              measured: "\(audit.mismatches) of \(audit.runs) audited (fraction \(audit.fraction))", met: audit.mismatches == 0))
        }
        goals.append(Goal(goal: "no-op relink within 100 ms of the final ld", workload: w.name,
                          measured: String(format: "+%.0f ms (%.2f s vs %.2f s)", w.noopOverFinalLink * 1000, w.noop.ltod.median, w.finalLinkMedian),
                          met: w.noopOverFinalLink <= 0.1))
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
