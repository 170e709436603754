// LTODaemon: `ltoc explain`: what a link reused and rebuilt, and why, as text or JSON, with
// C++ names demangled.
import CDemangle
import Foundation
import LTOBackend
import LTOConfig

/// Renders a `LinkReport`. Symbol names are shown as their source spells them: C++ names
/// are demangled by the C++ runtime's demangler (`foo(int) [clone .part.0]`).
struct ExplainView {
    let report: LinkReport

    var json: [String: Any] {
        [
            "target": report.target,
            "started": Self.iso8601(report.started),
            "first_link": report.firstLink,
            "wpa_seconds": Self.millis(report.wpaSeconds),
            "inputs_changed": report.changes.map(\.path),
            "changes": report.changes.map {
                ["path": $0.path, "functions": $0.functions.map(Self.readable), "streams": $0.streams, "added": $0.added,
                 "removed": $0.removed] as [String: Any]
            },
            "partitions": ["total": report.total, "reused": report.reused, "rebuilt": report.rebuilt.count,
                           "reused_canonical": report.reusedWithNote.count],
            "keys": report.keys,
            "seconds_saved": Self.millis(report.savedSeconds),
            "rebuilt": report.rebuilt.map(Self.json),
            "reused_canonical": report.reusedWithNote.map(Self.json),
        ]
    }

    var text: String {
        var out = "\(report.target): \(report.total) \(plural(report.total, "partition")), \(report.reused) reused, \(report.rebuilt.count) rebuilt"
            + " (WPA \(decimal(report.wpaSeconds, places: 2)) s, \(decimal(report.savedSeconds, places: 2)) s saved by reuse)\n"
        if report.firstLink { out += "  first link of this target seen by this daemon\n" }
        for c in report.changes { out += "  changed \(c.path): \(Self.describe(c))\n" }
        for p in report.rebuilt {
            out += "  partition \(p.index.map(String.init) ?? "?") rebuilt in \(decimal(p.seconds, places: 2)) s: \(Self.readableText(p.reason))\n"
            if !p.functions.isEmpty {
                let shown = p.functions.prefix(8).map(Self.readable).joined(separator: ", ")
                    + (p.functions.count > 8 ? ", ... (\(p.functions.count))" : "")
                out += "    holds \(shown)\n"
            }
        }
        for p in report.reusedWithNote {
            out += "  partition \(p.index.map(String.init) ?? "?") \(Self.readableText(p.reason))\n"
        }
        return out
    }

    /// The cells of this link's row in `explain --list`.
    var listCells: [String] {
        [Self.localTime(report.started), "\(report.reused) reused, \(report.rebuilt.count) rebuilt of \(report.total)", report.target]
    }

    var listJSON: [String: Any] {
        ["target": report.target, "started": Self.iso8601(report.started),
         "partitions": ["total": report.total, "reused": report.reused, "rebuilt": report.rebuilt.count]]
    }

    static func describe(_ c: LinkReport.InputChange) -> String {
        if c.added { return "new input" }
        if c.removed { return "input removed" }
        var parts: [String] = []
        if !c.functions.isEmpty { parts.append(plural(c.functions.count, "function") + " " + c.functions.map(readable).joined(separator: ", ")) }
        if !c.streams.isEmpty { parts.append("streams " + c.streams.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }

    private static func json(_ p: LinkReport.Partition) -> [String: Any] {
        ["index": p.index ?? -1, "key": p.key ?? "", "seconds": millis(p.seconds), "reason": readableText(p.reason),
         "functions": p.functions.map(readable), "reached_by": p.reachedBy]
    }

    /// `symbol` demangled when it is a mangled C++ name, else unchanged.
    static func readable(_ symbol: String) -> String {
        guard symbol.hasPrefix("_Z"), let demangled = ltod_demangle(symbol) else { return symbol }
        defer { free(demangled) }
        return String(cString: demangled)
    }

    /// `text` with every mangled C++ name in it demangled (reasons name the functions they
    /// are about).
    static func readableText(_ text: String) -> String {
        guard text.contains("_Z") else { return text }
        var out = "", word = ""
        for c in text {
            if c.isLetter || c.isNumber || c == "_" || c == "." || c == "$" {
                word.append(c)
            } else {
                out += readable(word) + String(c)
                word = ""
            }
        }
        return out + readable(word)
    }

    private static func millis(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

    static func iso8601(_ time: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: time))
    }

    static func localTime(_ time: Double) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: time))
    }
}
