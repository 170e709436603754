// LTOGCCBackend: the toolchain-neutral report of a finished GCC link.
import LTOBackend
import LTOGCC

/// Builds `explain`'s reports from GCC link sessions.
enum LinkReports {
    static func report(_ session: GCCLinkSession) -> LinkReport {
        let r = session.snapshot
        let reused = r.outcomes.filter { $0.kind == .reused }
        let changes = r.detail.changes
        let rebuilt = r.outcomes.filter { $0.kind != .reused }.sorted { ($0.index ?? -1) < ($1.index ?? -1) }.map { o in
            let functions = o.index.flatMap { r.partitions[$0] } ?? []
            let reason = RebuildReason(functions: functions, changes: changes, uncachedNote: o.kind == .uncached ? o.note ?? "uncacheable" : nil,
                                       buildNote: o.kind == .rebuilt ? o.note : nil)
            return LinkReport.Partition(index: o.index, key: o.key?.description, seconds: o.seconds, reason: reason.text,
                                        functions: functions, reachedBy: reason.reachedBy)
        }
        let withNote = reused.filter { $0.note != nil }.sorted { ($0.index ?? -1) < ($1.index ?? -1) }.map { o in
            LinkReport.Partition(index: o.index, key: o.key?.description, seconds: o.seconds, reason: o.note ?? "",
                                 functions: o.index.flatMap { r.partitions[$0] } ?? [], reachedBy: [])
        }
        return LinkReport(target: session.target, started: session.started, wpaSeconds: r.wpaSeconds, firstLink: changes == nil,
                          changes: (changes ?? []).map(inputChange), total: r.outcomes.count, reused: reused.count,
                          savedSeconds: reused.reduce(0) { $0 + $1.seconds }, rebuilt: rebuilt, reusedWithNote: withNote,
                          keys: r.outcomes.compactMap { $0.key?.description })
    }

    /// The neutral form of a GCC input change.
    private static func inputChange(_ c: InputChange) -> LinkReport.InputChange {
        LinkReport.InputChange(path: c.path, functions: c.functions, streams: c.streams, added: c.added, removed: c.removed)
    }
}
