// LTOGCC: why a partition was rebuilt, worked out from the functions it holds and what
// changed in the link's inputs (the text `explain` shows).
import LTOConfig

/// The reason a partition's key was new, and the changed inputs that reached it.
public struct RebuildReason: Equatable, Sendable {
    public let text: String
    public let reachedBy: [String]

    /// Explains a partition that was not reused. `uncachedNote` is set for jobs that ran
    /// uncached; `buildNote` says how a rebuilt one was built. `changes` is nil on the
    /// target's first link.
    public init(functions: [String], changes: [InputChange]?, uncachedNote: String?, buildNote: String?) {
        let held = Set(functions.map(Self.baseName))
        var reachedBy: [String] = []
        var changedHere: [String] = []
        for change in changes ?? [] {
            let hits = change.functions.filter { held.contains(Self.baseName($0)) }
            if !hits.isEmpty {
                reachedBy.append(change.path)
                changedHere += hits
            }
        }
        var text: String
        if let uncachedNote {
            text = "not cached: " + uncachedNote
        } else if changes == nil {
            text = "new key: first link of this target seen by this daemon"
        } else if !changedHere.isEmpty {
            text = "new key: holds changed " + plural(changedHere.count, "function") + " " + changedHere.prefix(6).joined(separator: ", ")
        } else if let reached = Self.streamsReaching(changes ?? []) {
            text = "new key: none of its functions changed, but what WPA read for it did: " + reached
        } else {
            text = "new key: the partition changed while no input did (options or compiler)"
        }
        if uncachedNote == nil, let buildNote { text += "; " + buildNote }
        self.text = text
        self.reachedBy = reachedBy
    }

    /// The per-file streams that changed (declarations, symbol table, IPA summaries), and
    /// inputs added or removed, as "a.o: decls, jmpfuncs; b.o added"; nil when none did.
    static func streamsReaching(_ changes: [InputChange]) -> String? {
        let parts = changes.compactMap { c -> String? in
            if c.added { return c.path + " added" }
            if c.removed { return c.path + " removed" }
            return c.streams.isEmpty ? nil : c.path + ": " + c.streams.joined(separator: ", ")
        }
        return parts.isEmpty ? nil : parts.prefix(4).joined(separator: "; ") + (parts.count > 4 ? "; and \(parts.count - 4) more inputs" : "")
    }

    /// GCC renames statics and clones in WPA (`f.lto_priv.0`, `f.constprop.0`, `f.part.0`); match on the base name.
    static func baseName(_ symbol: String) -> String {
        String(symbol.split(separator: ".", maxSplits: 1).first ?? Substring(symbol))
    }
}
