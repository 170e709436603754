// LTODaemon: the management and query commands (`ltoc status`, `stats`, `explain`, `gc`,
// `clear`, `max-size`, `shutdown`, ...), rendered here so that the shim only prints what it
// gets back. A running daemon answers them; with none running, `ltod offline` answers the
// cache's commands from the cache directory with the same code.
import Foundation
import LTOBackend
import LTOConfig
import LTOStatistics
import LTOStorage
import LTOWire
import Synchronization

/// What only a running daemon can answer with: its backend, scheduler, socket and age.
struct LiveDaemon: Sendable {
    let backend: any LinkBackend
    let scheduler: Scheduler
    let socketPath: String
    let started: Date
}

/// How a command stops the daemon that runs it.
public protocol DaemonControl: Sendable {
    func stop()
    /// Stops once no link is open (asked by a newer ltoc, or `shutdown --when-idle`).
    func stopWhenIdle()
}

/// Answers the commands of one daemon, or of none (`live` nil) from the cache directory.
public final class Commands: Sendable {
    let local: any LocalStorage
    let history: LinkHistoryLog
    let stats: Statistics
    let live: LiveDaemon?
    /// The daemon's settings; `max-size` changes the size limit while it runs.
    private let settings: Mutex<Configuration>

    /// Commands answered without a daemon (`ltod offline`).
    public convenience init(configuration: Configuration, local: any LocalStorage, history: LinkHistoryLog, stats: Statistics) {
        self.init(configuration: configuration, local: local, history: history, stats: stats, live: nil)
    }

    init(configuration: Configuration, local: any LocalStorage, history: LinkHistoryLog, stats: Statistics, live: LiveDaemon?) {
        self.local = local
        self.history = history
        self.stats = stats
        self.live = live
        settings = Mutex(configuration)
    }

    var configuration: Configuration { settings.withLock { $0 } }

    /// Answers command `name`; `control` stops the daemon (nil without one).
    public func run(_ name: String, _ arguments: [String], control: (any DaemonControl)? = nil) -> Reply {
        guard let spec = CommandSpec.named(name) else { return .failure("unknown command '\(name)'; see `ltoc --help`") }
        let command: ParsedCommand
        do { command = try spec.parse(arguments) } catch {
            return .output(exitStatus: 2, stdout: [], stderr: Array("ltoc: \(error)\n".utf8))
        }
        do {
            if spec.answerer == .daemon {
                guard let live else { return .failure("ltod is not running") }
                return daemonCommand(command, live, control)
            }
            switch command.name {
            case "stats": return try statsReply(command)
            case "explain": return try explain(command)
            case "gc": return try gc(command)
            case "clear":
                let r = try local.clear()
                return text("removed \(r.entriesRemoved) entries, freed \(ByteSize.format(r.bytesFreed))\n")
            case "max-size": return try setMaxSize(command.operand ?? "")
            default: return .failure("\(name) is answered by `ltod \(name)`, not by the daemon")
            }
        } catch {
            return .failure("\(name): \(error)")
        }
    }

    private func daemonCommand(_ command: ParsedCommand, _ live: LiveDaemon, _ control: (any DaemonControl)?) -> Reply {
        switch command.name {
        case "status": return text(status(live))
        case "shutdown":
            if command.has("--when-idle") {
                control?.stopWhenIdle()
                return text("ltod (pid \(getpid())) stops once no link is open\n")
            }
            control?.stop()
            return text("ltod (pid \(getpid())) is stopping\n")
        case "progress":
            guard let p = live.backend.progress(of: command.operand ?? "") else { return text("0 0 0 0\n") }
            return text("\(p.done) \(p.total) \(p.reused) \(p.running)\n")
        case "settings": return jsonReply(RunningSettings(configuration, live: live).json)
        default: return .failure("unknown command '\(command.name)'")
        }
    }

    private func status(_ live: LiveDaemon) -> String {
        let uptime = Int(Date().timeIntervalSince(live.started))
        var table = TextTable([.left, .left])
        table.heading("ltod \(ltodVersion) is running")
        table.row("  pid", String(getpid()))
        table.row("  uptime", "\(uptime / 3600)h \(uptime / 60 % 60)m \(uptime % 60)s")
        table.row("  socket", live.socketPath)
        table.row("  cache", configuration.cacheDirectory)
        table.row("  jobs", String(live.scheduler.limit))
        return table.text
    }

    /// `stats [--json | --format text|json|prometheus] [--zero] [TARGET]`.
    private func statsReply(_ command: ParsedCommand) throws -> Reply {
        if command.has("--zero") {
            try stats.zero()
            return text("statistics zeroed\n")
        }
        let format = try self.format(command)
        if let wanted = command.operand {
            guard format != .prometheus else { throw CommandError.badFormat("prometheus", forTarget: true) }
            let target = try history.resolve(wanted)
            guard let totals = try history.store.linkTotals(of: target) else { throw TargetError.unknown(wanted) }
            let report = TargetStatsReport(totals: totals, last: try history.store.links(of: target).first)
            return format == .text ? text(report.table) : jsonReply(report.json)
        }
        let report = try statsReport()
        switch format {
        case .json: return jsonReply(report.json)
        case .prometheus: return text(report.prometheus)
        case .text: return text(report.table)
        }
    }

    /// `--json`, or `--format text|json|prometheus`.
    private func format(_ command: ParsedCommand) throws -> StatsReport.Format {
        if command.has("--json") { return .json }
        guard let value = command.values["--format"] else { return .text }
        guard let format = StatsReport.Format(rawValue: value) else { throw CommandError.badFormat(value, forTarget: false) }
        return format
    }

    func statsReport() throws -> StatsReport {
        stats.importFallbacks(from: Places.fallbackLog(forSocket: configuration.socketPath))
        let summary = try local.summary()
        let (allTime, since) = stats.snapshot()
        var gauges: [Gauge: Double] = [
            .cacheEntries: Double(summary.entries), .cacheBytes: Double(summary.bytes), .cacheDiskBytes: Double(summary.diskBytes),
            .cacheLimitBytes: Double(summary.limitBytes),
        ]
        if let live {
            gauges[.schedulerLimit] = Double(live.scheduler.limit)
            gauges[.schedulerPeakRunning] = Double(live.scheduler.peakRunning)
            let memory = live.backend.memoryUse()
            gauges[.memoryTargets] = Double(memory.targets)
            gauges[.memoryInputs] = Double(memory.inputs)
        }
        return StatsReport(allTime: allTime, sinceStart: live == nil ? nil : since, gauges: gauges)
    }

    /// `explain [--json] [--list] [TARGET]`.
    private func explain(_ command: ParsedCommand) throws -> Reply {
        let json = command.has("--json")
        if command.has("--list") {
            let links = try history.store.latestLinks().map(history.report)
            if json { return jsonReply(["links": links.map { ExplainView(report: $0).listJSON }]) }
            guard !links.isEmpty else { return text("no link has been made through ltod with this cache yet\n") }
            var table = TextTable([.left, .right, .left])
            for link in links { table.row(ExplainView(report: link).listCells) }
            return text(table.text)
        }
        let entry: LinkHistoryEntry?
        if let wanted = command.operand {
            entry = try history.store.links(of: try history.resolve(wanted)).first
        } else {
            entry = try history.store.latestLinks().first
        }
        guard let entry else { throw CommandError.noLinks }
        let view = ExplainView(report: try history.report(entry))
        return json ? jsonReply(view.json) : text(view.text)
    }

    /// `gc [--max-size SIZE] [--older-than DURATION]`.
    private func gc(_ command: ParsedCommand) throws -> Reply {
        var maxBytes: UInt64? = try local.summary().limitBytes
        var olderThan: Double?
        if let size = command.values["--max-size"] {
            guard let v = ByteSize.parse(size) else { throw CommandError.badSize(size) }
            maxBytes = v
        }
        if let age = command.values["--older-than"] {
            guard let v = Duration.parseSeconds(age) else { throw CommandError.badDuration(age) }
            olderThan = v
        }
        let r = try local.evict(maxBytes: maxBytes, olderThan: olderThan)
        let s = try local.summary()
        return text("removed \(r.entriesRemoved) entries, freed \(ByteSize.format(r.bytesFreed)); cache now \(s.entries) entries, \(ByteSize.format(s.bytes))\n")
    }

    /// `max-size SIZE` (`ltoc -M SIZE`): saves the limit in config.toml, as ccache does, and
    /// applies it to the cache at once.
    private func setMaxSize(_ size: String) throws -> Reply {
        guard let bytes = ByteSize.parse(size) else { throw CommandError.badSize(size) }
        let file = configuration.configFile
        let line = try ConfigFile.set("max_size", toText: size, inFile: file)
        let evicted = try local.setLimit(maxBytes: bytes)
        let overridden = settings.withLock { c in
            let fromEnvironment = c.sources["max_size"]?.hasPrefix("environment") ?? false
            c.maxSizeBytes = bytes
            c.sources["max_size"] = "\(file):\(line)"
            return fromEnvironment
        }
        var out = "cache size limit set to \(ByteSize.format(bytes)) (saved in \(file):\(line))"
        if evicted.entriesRemoved > 0 { out += "; removed \(evicted.entriesRemoved) entries, freed \(ByteSize.format(evicted.bytesFreed))" }
        out += "\n"
        if overridden { out += "note: LTOD_MAX_SIZE overrides config.toml for a daemon started with it\n" }
        return text(out)
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

/// A command's value that cannot be used, or a question with no answer yet.
enum CommandError: Error, CustomStringConvertible {
    case badFormat(String, forTarget: Bool)
    case badSize(String)
    case badDuration(String)
    case noLinks

    var description: String {
        switch self {
        case .badFormat(let f, false): return "unknown format '\(f)'; expected " + StatsReport.Format.allCases.map(\.rawValue).joined(separator: ", ")
        case .badFormat(let f, true): return "a target's statistics are shown as text or json, not \(f)"
        case .badSize(let s): return "'\(s)' is not a size; expected a size such as 500M or 5G"
        case .badDuration(let d): return "'\(d)' is not a duration; expected a duration such as 12h or 7d"
        case .noLinks: return "no link has been made through ltod with this cache yet"
        }
    }
}
