import Foundation
import LTOHash
import LTOWire

/// Why one partition of a link was rebuilt (or run uncached).
struct PartitionExplanation {
    let index: Int?
    let key: Digest?
    let seconds: Double
    let reason: String
    let functions: [String]
    /// The changed inputs whose changed functions this partition holds.
    let reachedBy: [String]

    var json: [String: Any] {
        ["index": index ?? -1, "key": key?.description ?? "", "seconds": (seconds * 1000).rounded() / 1000,
         "reason": reason, "functions": functions, "reached_by": reachedBy]
    }
}

/// What `ltoc explain` reports about one finished link: inputs changed (to function
/// granularity), partitions rebuilt and why, partitions reused and the time they saved.
struct LinkExplanation {
    let target: String
    let started: Date
    let wpaSeconds: Double
    let firstLink: Bool
    let changes: [InputChange]
    let total: Int
    let reused: Int
    let savedSeconds: Double
    let rebuilt: [PartitionExplanation]
    /// Reused partitions whose bytes differ from those the cached object was built from:
    /// only renumbered, found through the canonical key. The reason says what was renumbered.
    let reusedCanonical: [PartitionExplanation]
    /// The cache key of every partition of the link.
    let keys: [Digest]

    init(_ session: LinkSession) {
        let s = session.snapshot
        target = session.target
        started = session.started
        wpaSeconds = s.wpaSeconds
        firstLink = s.changes == nil
        changes = s.changes ?? []
        total = s.outcomes.count
        let reusedOutcomes = s.outcomes.filter { $0.kind == .reused }
        reused = reusedOutcomes.count
        savedSeconds = reusedOutcomes.reduce(0) { $0 + $1.seconds }
        keys = s.outcomes.compactMap(\.key)
        let byIndex = Dictionary(s.partitions.values.compactMap { p in p.index.map { ($0, p) } }, uniquingKeysWith: { a, _ in a })
        reusedCanonical = reusedOutcomes.filter { $0.note != nil }.sorted { ($0.index ?? -1) < ($1.index ?? -1) }.map { o in
            PartitionExplanation(index: o.index, key: o.key, seconds: o.seconds, reason: o.note ?? "",
                                 functions: o.index.flatMap { byIndex[$0] }?.functions ?? [], reachedBy: [])
        }
        let (firstLink, changes) = (self.firstLink, self.changes)
        rebuilt = s.outcomes.filter { $0.kind != .reused }.sorted { ($0.index ?? -1) < ($1.index ?? -1) }.map { outcome in
            Self.explain(outcome, partition: outcome.index.flatMap { byIndex[$0] }, firstLink: firstLink, changes: changes)
        }
    }

    static func explain(_ o: LTRANSOutcome, partition: PartitionRecord?, firstLink: Bool, changes: [InputChange]) -> PartitionExplanation {
        let functions = partition?.functions ?? []
        let held = Set(functions.map(baseName))
        var reachedBy: [String] = []
        var changedHere: [String] = []
        for change in changes {
            let hits = change.functions.filter { held.contains(baseName($0)) }
            if !hits.isEmpty {
                reachedBy.append(change.path)
                changedHere += hits
            }
        }
        var reason: String
        switch (o.kind, firstLink) {
        case (.uncached, _): reason = "not cached: " + (o.note ?? "uncacheable")
        case (_, true): reason = "new key: first link of this target seen by this daemon"
        case _ where !changedHere.isEmpty:
            reason = "new key: holds changed " + plural(changedHere.count, "function") + " " + changedHere.prefix(6).joined(separator: ", ")
        case _ where changes.contains { !$0.streams.isEmpty || $0.added || $0.removed }:
            reason = "new key: none of its functions changed, but WPA's output for it did (IPA summaries, declarations or symbol numbering of a changed input)"
        default: reason = "new key: the partition changed while no input did (options or compiler)"
        }
        if o.kind == .rebuilt, let note = o.note { reason += "; " + note }
        return PartitionExplanation(index: o.index, key: o.key, seconds: o.seconds, reason: reason, functions: functions, reachedBy: reachedBy)
    }

    /// GCC renames statics and clones in WPA (`f.lto_priv.0`, `f.constprop.0`, `f.part.0`); match on the base name.
    static func baseName(_ symbol: String) -> String {
        String(symbol.split(separator: ".", maxSplits: 1).first ?? Substring(symbol))
    }

    var json: [String: Any] {
        [
            "target": target,
            "started": ISO8601DateFormatter().string(from: started),
            "first_link": firstLink,
            "wpa_seconds": (wpaSeconds * 1000).rounded() / 1000,
            "inputs_changed": changes.map(\.path),
            "changes": changes.map {
                ["path": $0.path, "functions": $0.functions, "streams": $0.streams, "added": $0.added, "removed": $0.removed] as [String: Any]
            },
            "partitions": ["total": total, "reused": reused, "rebuilt": rebuilt.count, "reused_canonical": reusedCanonical.count],
            "keys": keys.map(\.description),
            "seconds_saved": (savedSeconds * 1000).rounded() / 1000,
            "rebuilt": rebuilt.map(\.json),
            "reused_canonical": reusedCanonical.map(\.json),
        ]
    }

    var text: String {
        var out = "\(target): \(total) partitions, \(reused) reused, \(rebuilt.count) rebuilt"
            + String(format: " (WPA %.2f s, %.2f s saved by reuse)\n", wpaSeconds, savedSeconds)
        if firstLink { out += "  first link of this target seen by this daemon\n" }
        for c in changes { out += "  changed \(c.path): \(Self.describe(c))\n" }
        for p in rebuilt {
            out += "  partition \(p.index.map(String.init) ?? "?") rebuilt in " + String(format: "%.2f s", p.seconds) + ": \(p.reason)\n"
            if !p.functions.isEmpty {
                let shown = p.functions.prefix(8).joined(separator: ", ") + (p.functions.count > 8 ? ", ... (\(p.functions.count))" : "")
                out += "    holds \(shown)\n"
            }
        }
        for p in reusedCanonical {
            out += "  partition \(p.index.map(String.init) ?? "?") \(p.reason)\n"
        }
        return out
    }

    static func describe(_ c: InputChange) -> String {
        if c.added { return "new input" }
        if c.removed { return "input removed" }
        var parts: [String] = []
        if !c.functions.isEmpty { parts.append(plural(c.functions.count, "function") + " " + c.functions.joined(separator: ", ")) }
        if !c.streams.isEmpty { parts.append("streams " + c.streams.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }
}

func plural(_ n: Int, _ word: String) -> String { n == 1 ? word : word + "s" }

extension Server {
    /// `ltoc explain [--json] [--list] [TARGET]`.
    func explain(_ args: [String]) -> Reply {
        let json = args.contains("--json")
        let links = backend.lastLinks.withLock { $0 }
        if args.contains("--list") { return listLinks(links, json: json) }
        let wanted = args.first { !$0.hasPrefix("-") }
        let chosen = wanted.flatMap { w in links.values.first { $0.target == w || $0.target.hasSuffix("/" + w) } }
            ?? (wanted == nil ? links.values.max { $0.started < $1.started } : nil)
        guard let session = chosen else {
            return .failure(wanted.map { "no link of \($0) is known to this daemon; see `ltoc explain --list`" }
                ?? "no link has been made through this daemon yet")
        }
        let explanation = LinkExplanation(session)
        return json ? jsonReply(explanation.json) : .output(exitStatus: 0, stdout: Array(explanation.text.utf8), stderr: [])
    }

    private func listLinks(_ links: [String: LinkSession], json: Bool) -> Reply {
        let rows = links.values.sorted { $0.started > $1.started }.map(LinkExplanation.init)
        if json { return jsonReply(["links": rows.map { ["target": $0.target, "started": ISO8601DateFormatter().string(from: $0.started),
                                                         "partitions": ["total": $0.total, "reused": $0.reused, "rebuilt": $0.rebuilt.count]] as [String: Any] }]) }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        var text = rows.isEmpty ? "no link has been made through this daemon yet\n" : ""
        for r in rows {
            text += "\(formatter.string(from: r.started))  \(r.reused) reused, \(r.rebuilt.count) rebuilt of \(r.total)  \(r.target)\n"
        }
        return .output(exitStatus: 0, stdout: Array(text.utf8), stderr: [])
    }

    func jsonReply(_ object: Any) -> Reply {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) else {
            return .failure("cannot encode the report as JSON")
        }
        return .output(exitStatus: 0, stdout: [UInt8](data) + [10], stderr: [])
    }
}
