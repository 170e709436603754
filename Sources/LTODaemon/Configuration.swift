// LTODaemon owns the long-running server: the socket listener and its
// security checks, link sessions, the shared process scheduler, the GCC
// backend's I/O (running WPA/LTRANS, placing cached objects) and statistics.
import Foundation
import LTOGCC
import LTOWire
import TOMLKit

/// The daemon's effective settings: environment variables over the config file
/// (`$XDG_CONFIG_HOME/ltod/config.toml`) over defaults.
public struct Configuration: Sendable {
    public var socketPath: String
    public var cacheDirectory: String
    public var maxSizeBytes: UInt64 = 5 << 30
    public var partition = PartitionMode.oneToOne
    /// Bound on concurrent WPA/LTRANS processes across all sessions.
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Start LTRANS for a partition's cache miss as soon as WPA has written it, when lto-wrapper
    /// would otherwise run the LTRANS jobs one at a time.
    public var prefetch = true
    /// Key partitions canonically (symbol numbers replaced by their rank) where the LTO
    /// format is one ltod has verified; otherwise by their bytes.
    public var canonicalKeys = true
    /// The fraction of canonical-only cache hits re-compiled in the background and compared
    /// byte for byte with the cached object (0: none).
    public var auditFraction = 0.0
    public var logLevel = "info"
    /// The daemon exits after this many seconds without a connection (0: never).
    public var idleTimeout: Double = 30 * 60
    /// Read by the shim: fail a link instead of running it without the daemon.
    public var strict = false
    /// Where each setting came from: "default", "environment (LTOD_X)" or "FILE:LINE".
    public var sources: [String: String] = [:]
    public var configFile: String

    /// Resolves every setting; a bad value is an error naming where it came from and what is valid.
    public static func load(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> Configuration {
        let home = env["HOME"].nonEmpty ?? NSHomeDirectory()
        let cache = env["LTOD_CACHE_DIR"].nonEmpty
            ?? env["XDG_CACHE_HOME"].nonEmpty.map { $0 + "/ltod" } ?? home + "/.cache/ltod"
        let file = env["LTOD_CONFIG"].nonEmpty
            ?? (env["XDG_CONFIG_HOME"].nonEmpty ?? home + "/.config") + "/ltod/config.toml"
        var config = Configuration(socketPath: Endpoint.socketPath { env[$0] }, cacheDirectory: cache, configFile: file)
        let values = try ConfigFile.read(file)
        for setting in Setting.all {
            config.sources[setting.key] = "default"
            if let text = env[setting.environment].nonEmpty {
                guard setting.apply(&config, .text(text)) else {
                    throw .invalid("\(setting.environment)=\(text)", setting.choices)
                }
                config.sources[setting.key] = "environment (\(setting.environment))"
            } else if let (value, line) = values[setting.key] {
                guard setting.apply(&config, value) else {
                    throw .file(file, line, "\(setting.key) = \(value) is not valid; expected \(setting.choices)")
                }
                config.sources[setting.key] = "\(file):\(line)"
            }
        }
        return config
    }

    /// `ltod config`: every setting, its value and where it came from.
    public var report: String {
        var out = "config file: \(configFile)\(FileManager.default.fileExists(atPath: configFile) ? "" : " (not found)")\n"
        for s in Setting.all {
            out += s.key.padding(toLength: 14, withPad: " ", startingAt: 0)
                + s.show(self).padding(toLength: 12, withPad: " ", startingAt: 0) + "  " + (sources[s.key] ?? "default") + "\n"
        }
        out += "socket        \(socketPath)\ncache         \(cacheDirectory)\n"
        return out
    }
}

/// A setting that cannot be used, with where it came from and what would be accepted.
public enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(String, String)
    case file(String, Int, String)
    case unreadable(String, String)

    public var description: String {
        switch self {
        case .invalid(let what, let choices): return "\(what) is not valid; expected \(choices)"
        case .file(let path, let line, let message): return "\(path):\(line): \(message)"
        case .unreadable(let path, let why): return "cannot read \(path): \(why)"
        }
    }
}

/// A value as written: text from the environment, or a TOML value from the file.
enum ConfigValue: CustomStringConvertible {
    case text(String)
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case other(String)

    var description: String {
        switch self {
        case .text(let s): return "\"\(s)\""
        case .integer(let i): return String(i)
        case .number(let d): return String(d)
        case .boolean(let b): return String(b)
        case .other(let s): return s
        }
    }

    var text: String? {
        switch self {
        case .text(let s): return s
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    var flag: Bool? {
        switch self {
        case .boolean(let b): return b
        case .text(let s): return ["1", "true", "yes", "on"].contains(s.lowercased()) ? true
            : ["0", "false", "no", "off"].contains(s.lowercased()) ? false : nil
        default: return nil
        }
    }

    /// A number from 0 to 1.
    var fraction: Double? {
        let value: Double?
        switch self {
        case .number(let d): value = d
        case .integer(let i): value = Double(i)
        case .text(let s): value = Double(s)
        default: value = nil
        }
        return value.flatMap { (0...1).contains($0) ? $0 : nil }
    }
}

/// One configuration key: its file key, environment variable, valid values, and how it applies.
struct Setting: Sendable {
    let key: String
    let environment: String
    let choices: String
    let apply: @Sendable (inout Configuration, ConfigValue) -> Bool
    let show: @Sendable (Configuration) -> String

    static let all: [Setting] = [
        Setting(key: "max_size", environment: "LTOD_MAX_SIZE", choices: "a size such as 500M or 5G",
                apply: { c, v in v.text.flatMap(ByteSize.parse).map { c.maxSizeBytes = $0 } != nil },
                show: { ByteSize.format($0.maxSizeBytes) }),
        Setting(key: "partition", environment: "LTOD_PARTITION", choices: PartitionMode.choices,
                apply: { c, v in v.text.flatMap(PartitionMode.init(rawValue:)).map { c.partition = $0 } != nil },
                show: { $0.partition.rawValue }),
        Setting(key: "jobs", environment: "LTOD_JOBS", choices: "a positive number",
                apply: { c, v in v.text.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }.map { c.jobs = $0 } != nil },
                show: { String($0.jobs) }),
        Setting(key: "idle_timeout", environment: "LTOD_IDLE_TIMEOUT", choices: "a duration such as 90s, 30m or 2h (0: never)",
                apply: { c, v in v.text.flatMap(Duration.parseSeconds).map { c.idleTimeout = $0 } != nil },
                show: { $0.idleTimeout == 0 ? "never" : "\(Int($0.idleTimeout))s" }),
        Setting(key: "log_level", environment: "LTOD_LOG", choices: "trace, debug, info, notice, warning, error or critical",
                apply: { c, v in
                    guard let t = v.text?.lowercased(), ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(t) else { return false }
                    c.logLevel = t
                    return true
                },
                show: { $0.logLevel }),
        Setting(key: "strict", environment: "LTOD_STRICT", choices: "true or false",
                apply: { c, v in v.flag.map { c.strict = $0 } != nil }, show: { String($0.strict) }),
        Setting(key: "prefetch", environment: "LTOD_PREFETCH", choices: "true or false",
                apply: { c, v in v.flag.map { c.prefetch = $0 } != nil }, show: { String($0.prefetch) }),
        Setting(key: "canonical_keys", environment: "LTOD_CANONICAL_KEYS", choices: "true or false",
                apply: { c, v in v.flag.map { c.canonicalKeys = $0 } != nil }, show: { String($0.canonicalKeys) }),
        Setting(key: "audit", environment: "LTOD_AUDIT", choices: "a fraction from 0 to 1, such as 0.05",
                apply: { c, v in v.fraction.map { c.auditFraction = $0 } != nil }, show: { String($0.auditFraction) }),
    ]
}

/// Reads `config.toml` (TOMLKit): top-level keys only, each with the line it is on.
enum ConfigFile {
    static func read(_ path: String) throws(ConfigurationError) -> [String: (ConfigValue, Int)] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(path, "not a readable UTF-8 file")
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw .file(path, error.source.begin.line, error.description)
        } catch {
            throw .unreadable(path, "\(error)")
        }
        let keys = Setting.all.map(\.key)
        var out: [String: (ConfigValue, Int)] = [:]
        for (key, value) in table {
            let line = lineOf(key, in: text)
            guard keys.contains(key) else {
                throw .file(path, line, "unknown key '\(key)'; valid keys: \(keys.joined(separator: ", "))")
            }
            let v: ConfigValue = value.string.map(ConfigValue.text) ?? value.int.map(ConfigValue.integer)
                ?? value.double.map(ConfigValue.number) ?? value.bool.map(ConfigValue.boolean) ?? .other("\(value)")
            out[key] = (v, line)
        }
        return out
    }

    /// The line where `key` is assigned (TOMLKit does not report positions of values).
    static func lineOf(_ key: String, in text: String) -> Int {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            let name = trimmed.prefix { $0 != "=" && $0 != " " && $0 != "\t" }
            if name == key || name == "\"\(key)\"" || trimmed.hasPrefix("[\(key)]") { return i + 1 }
        }
        return 1
    }
}

/// Human sizes: `500M`, `5G`, `1.5G`, `1024` (bytes), binary multiples.
public enum ByteSize {
    public static func parse(_ text: String) -> UInt64? {
        let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var number = text.uppercased()
        if number.hasSuffix("IB") { number.removeLast(2) } else if number.hasSuffix("B") { number.removeLast() }
        var scale = 1.0
        if let last = number.last, let s = units[last] {
            scale = s
            number.removeLast()
        }
        guard let v = Double(number), v >= 0, v.isFinite else { return nil }
        return UInt64(v * scale)
    }

    public static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(bytes) B" : String(format: "%.1f %@", v, units[i])
    }
}

extension Optional where Wrapped == String {
    var nonEmpty: String? { self.flatMap { $0.isEmpty ? nil : $0 } }
}
