import Foundation
import LTOCache
import LTOWire

/// The version of ltod, reported by `ltoc status` and `stats`.
public let ltodVersion = "0.1.0"

extension Server {
    /// Management and query commands (`ltoc status`, `stats`, `gc`, ...), rendered here
    /// so that the shim only prints what it gets back.
    func command(_ name: String, _ args: [String]) -> Reply {
        do {
            switch name {
            case "status": return text(statusText())
            case "stats": return try statsReply(args)
            case "shutdown":
                stop()
                return text("ltod (pid \(getpid())) is stopping\n")
            case "gc": return try gc(args)
            case "clear":
                let r = try store.clear()
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
        guard let id = args.first, let session = backend.sessions.withLock({ $0[id] }) else { return text("0 0 0 0\n") }
        let s = session.snapshot
        let done = s.outcomes.count
        let reused = s.outcomes.filter { $0.kind == .reused }.count
        return text("\(done) \(s.partitions.count) \(reused) \(scheduler.running)\n")
    }

    private func text(_ s: String, status: Int32 = 0) -> Reply {
        .output(exitStatus: status, stdout: Array(s.utf8), stderr: [])
    }

    private func statusText() -> String {
        let uptime = Int(Date().timeIntervalSince(started))
        return """
        ltod \(ltodVersion) is running
          pid       \(getpid())
          uptime    \(uptime / 3600)h \(uptime / 60 % 60)m \(uptime % 60)s
          socket    \(listener.path)
          cache     \(configuration.cacheDirectory)
          partition \(configuration.partition.rawValue)
          jobs      \(scheduler.limit)

        """
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
        let r = try store.evict(maxBytes: maxBytes, olderThan: olderThan)
        let s = try store.summary()
        return text("removed \(r.entriesRemoved) entries, freed \(ByteSize.format(r.bytesFreed)); cache now \(s.entries) entries, \(ByteSize.format(s.bytes))\n")
    }
}

/// Durations: `90s`, `30m`, `12h`, `7d`, or plain seconds.
enum Duration {
    static func parseSeconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        var number = text
        var scale = 1.0
        if let last = number.last, let s = units[last] {
            scale = s
            number.removeLast()
        }
        guard let v = Double(number), v >= 0, v.isFinite else { return nil }
        return v * scale
    }
}
