// LTODaemon: `ltoc config`: the link-scope settings as a link from this environment would
// have them, and the daemon-wide settings as the running daemon has them, marked where a
// daemon started now would differ.
import Foundation
import LTOConfig

/// A running daemon's settings as it reports them (the `settings` command), for `ltoc config`.
public struct RunningSettings: Sendable {
    public let pid: Int32
    public let socket: String
    public let cache: String
    /// Per setting key: the value as shown and where it came from.
    public let values: [String: (value: String, source: String)]

    init(_ configuration: Configuration, live: LiveDaemon) {
        pid = getpid()
        socket = live.socketPath
        cache = configuration.cacheDirectory
        var values: [String: (value: String, source: String)] = [:]
        for s in Setting.all { values[s.key] = (s.value(in: configuration), configuration.sources[s.key] ?? "default") }
        self.values = values
    }

    var json: [String: Any] {
        ["pid": Int(pid), "socket": socket, "cache": cache,
         "settings": values.mapValues { ["value": $0.value, "source": $0.source] }]
    }

    /// Reads the `settings` command's answer; nil if it is not one.
    public init?(json bytes: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let pid = object["pid"] as? Int, let socket = object["socket"] as? String, let cache = object["cache"] as? String,
              let settings = object["settings"] as? [String: [String: String]]
        else { return nil }
        self.pid = Int32(pid)
        self.socket = socket
        self.cache = cache
        values = settings.compactMapValues { v in v["value"].map { ($0, v["source"] ?? "") } }
    }
}

/// `ltoc config`.
public struct ConfigReport {
    let configFile: String
    let environment: [String: String]
    /// The link-scope settings a link started from this environment gets.
    let link: Result<Configuration, ConfigurationError>
    /// What a daemon started from this environment now would have.
    let newDaemon: Result<Configuration, ConfigurationError>
    let running: RunningSettings?

    public init(environment: [String: String], running: RunningSettings?) {
        configFile = Places { environment[$0] }.configFile
        self.environment = environment
        link = Result { () throws(ConfigurationError) in try Configuration.forLink(environment: environment) }
        newDaemon = Result { () throws(ConfigurationError) in try ConfigFile.load(environment) }
        self.running = running
    }

    /// Whether a setting here cannot be used (the report then says which, and `ltoc config` exits 1).
    public var hasErrors: Bool {
        if case .failure = link { return true }
        if case .failure = newDaemon { return true }
        return false
    }

    public var text: String {
        var places = TextTable([.left, .left])
        let found = access(configFile, F_OK) == 0
        let defaults = Configuration(places: Places { environment[$0] })
        places.row("config file", configFile + (found ? "" : " (not found)"))
        places.row("socket", running?.socket ?? defaults.socketPath)
        places.row("cache", running?.cache ?? defaults.cacheDirectory)
        places.row("daemon", running.map { "running, pid \($0.pid)" } ?? "not running")
        var table = TextTable([.left, .left, .left, .left])
        table.heading("")
        table.heading("Per link (read by ltoc for every link: its environment, then config.toml):")
        switch link {
        case .success(let c):
            for s in Setting.linkScoped { table.row("  " + s.key, s.value(in: c), c.sources[s.key] ?? "default") }
        case .failure(let error): table.heading("  a link would fail: \(error)")
        }
        table.heading("")
        daemonWide(&table)
        return places.text + table.text
    }

    private func daemonWide(_ table: inout TextTable) {
        let daemonSettings = Setting.all.filter { $0.scope == .daemon }
        let started = try? newDaemon.get()
        if let running {
            table.heading("Daemon-wide (as the running daemon has them; * where a daemon started now would differ):")
            for s in daemonSettings {
                let (value, source) = running.values[s.key] ?? ("?", "?")
                var mark = ""
                if let started, s.value(in: started) != value {
                    mark = "* now: \(s.value(in: started)) (\(started.sources[s.key] ?? "default"))"
                }
                table.row("  " + s.key, value, source, mark)
            }
        } else if let started {
            table.heading("Daemon-wide (as a daemon started now would have them):")
            for s in daemonSettings { table.row("  " + s.key, s.value(in: started), started.sources[s.key] ?? "default") }
        }
        if case .failure(let error) = newDaemon { table.heading("  a daemon started now would refuse to start: \(error)") }
    }
}
