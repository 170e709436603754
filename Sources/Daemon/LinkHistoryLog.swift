// LTODaemon: the link history as the daemon uses it: the report of every finished link
// recorded in the cache's `LinkHistory` (as JSON), read back for `explain` and `stats
// TARGET`, and a target named on the command line matched against the targets it holds.
import Foundation
import LTOBackend
import LTOStorage
import LTOSystem
import Logging

/// Keeps the reports the backend hands over in the cache database, so that `explain`
/// survives restarts and idle exits.
public final class LinkHistoryLog: LinkReportSink {
    let store: any LinkHistory
    let limits: LinkHistoryLimits
    let log: Logger

    public init(store: any LinkHistory, limits: LinkHistoryLimits = LinkHistoryLimits(), log: Logger) {
        self.store = store
        self.limits = limits
        self.log = log
    }

    /// Records `report`; a failure is logged, never passed on (explain is not worth a link).
    public func linkFinished(_ report: LinkReport) {
        do {
            let data = try JSONEncoder().encode(report)
            let entry = LinkHistoryEntry(target: report.target, started: report.started, partitions: report.total,
                                         reused: report.reused, wpaSeconds: report.wpaSeconds, savedSeconds: report.savedSeconds,
                                         report: [UInt8](data))
            try store.recordLink(entry, limits: limits)
        } catch {
            log.warning("cannot record the link of \(report.target) for explain: \(error)")
        }
    }

    /// The report of `entry`.
    func report(_ entry: LinkHistoryEntry) throws -> LinkReport {
        try JSONDecoder().decode(LinkReport.self, from: Data(entry.report))
    }

    /// The one target `wanted` names among the targets with kept links: the target itself,
    /// else the target whose path ends with it (whole components).
    func resolve(_ wanted: String) throws -> String {
        let targets = try store.latestLinks().map(\.target)
        let matches = Self.matches(wanted, among: targets)
        guard matches.count == 1 else {
            throw matches.isEmpty ? TargetError.unknown(wanted) : TargetError.ambiguous(wanted, matches)
        }
        return matches[0]
    }

    static func matches(_ wanted: String, among targets: [String]) -> [String] {
        let name = wanted.hasPrefix("/") ? normalizedPath(wanted) : String(normalizedPath(wanted).dropFirst())
        if let exact = targets.first(where: { normalizedPath($0) == name }) { return [exact] }
        guard !wanted.hasPrefix("/") else { return [] }
        return targets.filter { normalizedPath($0).hasSuffix("/" + name) }
    }
}

/// A target named on the command line that names no link, or several.
enum TargetError: Error, CustomStringConvertible {
    case unknown(String)
    case ambiguous(String, [String])

    var description: String {
        switch self {
        case .unknown(let name): return "no link of \(name) is known; see `ltoc explain --list`"
        case .ambiguous(let name, let targets):
            return "'\(name)' names \(targets.count) targets; name one with more of its path:\n"
                + targets.map { "  " + $0 }.joined(separator: "\n")
        }
    }
}
