// LTODaemon: the management and query commands (`ltoc status`, `stats`, `explain`, `gc`,
// `clear`, `shutdown`), rendered here so that the shim only prints what it gets back.
import Foundation
import LTOBackend
import LTOConfig
import LTOStatistics
import LTOStorage
import LTOWire

/// Answers the commands of one daemon.
struct Commands: Sendable {
    let configuration: Configuration
    let backend: any LinkBackend
    let local: any LocalStorage
    let stats: Statistics
    let scheduler: Scheduler
    let socketPath: String
    let started: Date

    /// Runs command `name`; `stop` stops the daemon (for `shutdown`).
    func run(_ name: String, _ args: [String], stop: () -> Void) -> Reply {
        do {
            switch name {
            case "status": return text(status())
            case "stats": return try statsReply(args)
            case "shutdown":
                stop()
                return text("ltod (pid \(getpid())) is stopping\n")
            case "gc": return try gc(args)
            case "clear":
                let r = try local.clear()
                return text("removed \(r.entriesRemoved) entries, freed \(ByteSize.format(r.bytesFreed))\n")
            case "explain": return explain(args)
            case "progress": return progress(args)
            default: return .failure("unknown command '\(name)'; see `ltoc --help`")
            }
        } catch {
            return .failure("\(name): \(error)")
        }
    }

    /// `progress SESSION`: "done total reused running" for the shim's progress line.
    private func progress(_ args: [String]) -> Reply {
        guard let id = args.first, let p = backend.progress(of: id) else { return text("0 0 0 0\n") }
        return text("\(p.done) \(p.total) \(p.reused) \(p.running)\n")
    }

    private func status() -> String {
        let uptime = Int(Date().timeIntervalSince(started))
        return """
        ltod \(ltodVersion) is running
          pid       \(getpid())
          uptime    \(uptime / 3600)h \(uptime / 60 % 60)m \(uptime % 60)s
          socket    \(socketPath)
          cache     \(configuration.cacheDirectory)
          partition \(configuration.partition.rawValue)
          jobs      \(scheduler.limit)

        """
    }

    /// `ltoc stats [--json | --format text|json|prometheus] [--zero]`.
    private func statsReply(_ args: [String]) throws -> Reply {
        if args.contains("--zero") {
            try stats.zero()
            return text("statistics zeroed\n")
        }
        let report = try statsReport()
        switch try format(args) {
        case .json: return jsonReply(report.json)
        case .prometheus: return text(report.prometheus)
        case .text: return text(report.table)
        }
    }

    /// `--json`, or `--format text|json|prometheus` (also `--format=...`).
    private func format(_ args: [String]) throws -> StatsReport.Format {
        if args.contains("--json") { return .json }
        var value: String?
        for (i, a) in args.enumerated() {
            if a == "--format" { value = i + 1 < args.count ? args[i + 1] : "" }
            if a.hasPrefix("--format=") { value = String(a.dropFirst("--format=".count)) }
        }
        guard let value else { return .text }
        guard let format = StatsReport.Format(rawValue: value) else {
            throw CommandError.badFormat(value)
        }
        return format
    }

    func statsReport() throws -> StatsReport {
        stats.importFallbacks(from: Places.fallbackLog(forSocket: socketPath))
        let summary = try local.summary()
        let (allTime, since) = stats.snapshot()
        let memory = backend.memoryUse()
        return StatsReport(allTime: allTime, sinceStart: since, gauges: [
            .memoryTargets: Double(memory.targets), .memoryInputs: Double(memory.inputs),
            .cacheEntries: Double(summary.entries), .cacheBytes: Double(summary.bytes), .cacheLimitBytes: Double(summary.limitBytes),
            .schedulerLimit: Double(scheduler.limit), .schedulerPeakRunning: Double(scheduler.peakRunning),
        ])
    }

    /// `ltoc explain [--json] [--list] [TARGET]`.
    private func explain(_ args: [String]) -> Reply {
        let json = args.contains("--json")
        let links = backend.lastLinks()
        if args.contains("--list") {
            if json { return jsonReply(["links": links.map { ExplainView(report: $0).listJSON }]) }
            return text(links.isEmpty ? "no link has been made through this daemon yet\n" : links.map { ExplainView(report: $0).listLine }.joined())
        }
        let wanted = args.first { !$0.hasPrefix("-") }
        let chosen = wanted.map { w in links.first { $0.target == w || $0.target.hasSuffix("/" + w) } } ?? links.first
        guard let report = chosen else {
            return .failure(wanted.map { "no link of \($0) is known to this daemon; see `ltoc explain --list`" }
                ?? "no link has been made through this daemon yet")
        }
        let view = ExplainView(report: report)
        return json ? jsonReply(view.json) : text(view.text)
    }

    private func gc(_ args: [String]) throws -> Reply {
        var maxBytes: UInt64? = configuration.maxSizeBytes
        var olderThan: Double?
        var i = 0
        while i < args.count {
            guard i + 1 < args.count else { return .failure("gc: \(args[i]) needs a value") }
            switch args[i] {
            case "--max-size":
                guard let v = ByteSize.parse(args[i + 1]) else { return .failure("gc: --max-size \(args[i + 1]): expected a size such as 500M or 5G") }
                maxBytes = v
            case "--older-than":
                guard let v = Duration.parseSeconds(args[i + 1]) else { return .failure("gc: --older-than \(args[i + 1]): expected a duration such as 12h or 7d") }
                olderThan = v
            default: return .failure("gc: unknown option \(args[i])")
            }
            i += 2
        }
        let r = try local.evict(maxBytes: maxBytes, olderThan: olderThan)
        let s = try local.summary()
        return text("removed \(r.entriesRemoved) entries, freed \(ByteSize.format(r.bytesFreed)); cache now \(s.entries) entries, \(ByteSize.format(s.bytes))\n")
    }

    private func text(_ s: String) -> Reply {
        .output(exitStatus: 0, stdout: Array(s.utf8), stderr: [])
    }

    private func jsonReply(_ object: Any) -> Reply {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) else {
            return .failure("cannot encode the report as JSON")
        }
        return .output(exitStatus: 0, stdout: [UInt8](data) + [10], stderr: [])
    }
}

/// A command option that cannot be used.
enum CommandError: Error, CustomStringConvertible {
    case badFormat(String)

    var description: String {
        switch self {
        case .badFormat(let f): return "unknown format '\(f)'; expected " + StatsReport.Format.allCases.map(\.rawValue).joined(separator: ", ")
        }
    }
}
