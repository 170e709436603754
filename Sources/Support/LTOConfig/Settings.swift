// LTOConfig: the settings table and the effective configuration. Every setting is
// described once here: its config.toml key, environment variable, valid values, help
// text and scope; `ltod --help`, `ltoc --help`, `ltoc config` and the errors for bad
// values are all generated from this table.
#if canImport(Glibc)
import Glibc
#endif
import LTOSystem

/// How WPA is asked to cut the program into LTRANS partitions (`partition` setting).
public enum PartitionMode: String, CaseIterable, Sendable {
    case oneToOne = "1to1"
    case balanced
    case max
    /// Leave the user's choice (or GCC's default) alone.
    case keep

    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Whether a setting shapes one link's output or the daemon as a whole.
public enum SettingScope: String, Sendable {
    case link
    case daemon
}

/// The daemon's effective settings: environment variables over the config file over defaults.
public struct Configuration: Sendable {
    public var socketPath: String
    public var cacheDirectory: String
    public var configFile: String
    public var maxSizeBytes: UInt64 = 5 << 30
    public var partition = PartitionMode.oneToOne
    /// Bound on concurrent WPA/LTRANS processes across all sessions.
    public var jobs = Configuration.processorCount
    /// Answer a link whose every input is unchanged from a recorded link at once, without
    /// running lto-wrapper, WPA or LTRANS.
    public var wholeLink = true
    /// Key partitions canonically (symbol numbers replaced by their rank) where the LTO
    /// format is one ltod has verified; otherwise by their bytes.
    public var canonicalKeys = true
    /// The fraction of canonical-only and remote cache hits compiled again in the background and
    /// compared byte for byte with the cached object (0: none).
    public var auditFraction = 0.0
    /// The fraction of hits found only because source locations were abstracted that are
    /// audited the same way (docs/DESIGN.md says why it is above zero by default).
    public var auditLocationsFraction = 0.05
    /// Targets whose last link (inputs, partitions, report) the daemon keeps in memory; the
    /// least recently linked beyond it are forgotten.
    public var maxTargets = 100
    public var logLevel = "info"
    /// The daemon exits after this many seconds without a connection (0: never).
    public var idleTimeout: Double = 30 * 60
    /// Fail a link instead of running it without the daemon (read by the shim).
    public var strict = false
    /// A cache tier shared between machines (Redis); nil: the local tier alone.
    public var remoteStorage: RemoteStorageURL?
    /// Take entries from the remote tier but never write to it.
    public var remoteReadOnly = false
    /// Bound on connecting to the remote tier and on each read or write of a request.
    public var remoteTimeout = 0.25
    /// Entries larger than this are not sent to, nor taken from, the remote tier.
    public var remoteMaxEntryBytes: UInt64 = 64 << 20
    /// Where each setting came from: "default", "environment (LTOD_X)" or "FILE:LINE".
    public var sources: [String: String] = [:]

    /// The defaults, with the places of `places`.
    public init(places: Places) {
        socketPath = places.socket
        cacheDirectory = places.cacheDirectory
        configFile = places.configFile
    }

    /// Resolves every setting from `environment` over `fileValues` (config.toml's top-level
    /// keys with their lines) over the defaults; a bad value is an error naming where it
    /// came from and what is valid.
    public init(environment: [String: String], fileValues: [String: (value: ConfigValue, line: Int)]) throws(ConfigurationError) {
        self.init(places: Places { environment[$0] })
        for setting in Setting.all {
            sources[setting.key] = "default"
            if let text = environment[setting.environment], !text.isEmpty {
                guard setting.apply(&self, .text(text)) else { throw .invalid("\(setting.environment)=\(text)", setting.choices) }
                sources[setting.key] = "environment (\(setting.environment))"
            } else if let (value, line) = fileValues[setting.key] {
                guard setting.apply(&self, value) else {
                    throw .file(configFile, line, "\(setting.key) = \(value) is not valid; expected \(setting.choices)")
                }
                sources[setting.key] = "\(configFile):\(line)"
            }
        }
    }

    static var processorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

extension Configuration {
    /// The link-scope settings of one link, read the way the shim reads them for every link:
    /// each one's variable in `environment`, else its top-level value in the config file that
    /// environment names (`ConfigScan`), else its default. Daemon-wide settings are left at
    /// their defaults: they are the daemon's to read and validate.
    public static func forLink(environment: [String: String]) throws(ConfigurationError) -> Configuration {
        let places = Places { environment[$0] }
        var fileValues: [String: (value: ConfigValue, line: Int)] = [:]
        for setting in Setting.linkScoped {
            if let (text, line) = ConfigScan.assignment(of: setting.key, inFile: places.configFile) {
                fileValues[setting.key] = (.text(text), line)
            }
        }
        let daemonVariables = Set(Setting.all.filter { $0.scope == .daemon }.map(\.environment))
        return try Configuration(environment: environment.filter { !daemonVariables.contains($0.key) }, fileValues: fileValues)
    }

    /// The link-scope settings as variables: what the shim exports for the rest of a link
    /// (GCC's lto-wrapper and the driver jobs it runs) and sends to the daemon with it.
    public var linkVariables: [(name: String, value: String)] {
        Setting.linkScoped.map { ($0.environment, $0.show(self)) }
    }

    /// This configuration with the link-scope settings that a link's environment carries
    /// (the variables the shim sent with it), each validated.
    public func applyingLink(environment: [String]) throws(ConfigurationError) -> Configuration {
        var link = self
        for setting in Setting.linkScoped {
            guard let text = lookup(setting.environment, in: environment), !text.isEmpty else { continue }
            guard setting.apply(&link, .text(text)) else { throw .invalid("\(setting.environment)=\(text)", setting.choices) }
            link.sources[setting.key] = "link (\(setting.environment))"
        }
        return link
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
public enum ConfigValue: CustomStringConvertible, Sendable {
    case text(String)
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case other(String)

    public var description: String {
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
        case .text(let s): return parseFlag(s)
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

/// `1/true/yes/on` or `0/false/no/off`, in any case; nil for anything else.
public func parseFlag(_ text: String) -> Bool? {
    let t = text.lowercased()
    return ["1", "true", "yes", "on"].contains(t) ? true : ["0", "false", "no", "off"].contains(t) ? false : nil
}

/// One configuration key: its file key, environment variable, valid values, help, scope,
/// and how it applies to and shows from a `Configuration`.
public struct Setting: Sendable {
    public let key: String
    public let environment: String
    public let choices: String
    public let help: String
    public let scope: SettingScope
    let apply: @Sendable (inout Configuration, ConfigValue) -> Bool
    let show: @Sendable (Configuration) -> String

    /// The setting's value in `configuration`, as `ltoc config` shows it.
    public func value(in configuration: Configuration) -> String { show(configuration) }

    public static let all: [Setting] = [
        Setting(key: "max_size", environment: "LTOD_MAX_SIZE", choices: "a size such as 500M or 5G",
                help: "cache size limit; least recently used entries are evicted beyond it", scope: .daemon,
                apply: { c, v in v.text.flatMap(ByteSize.parse).map { c.maxSizeBytes = $0 } != nil },
                show: { ByteSize.format($0.maxSizeBytes) }),
        Setting(key: "partition", environment: "LTOD_PARTITION", choices: PartitionMode.choices,
                help: "how WPA partitions the program (keep: the link's own -flto-partition)", scope: .link,
                apply: { c, v in v.text.flatMap(PartitionMode.init(rawValue:)).map { c.partition = $0 } != nil },
                show: { $0.partition.rawValue }),
        Setting(key: "jobs", environment: "LTOD_JOBS", choices: "a positive number",
                help: "WPA/LTRANS processes run at once across all links (default: number of cores)", scope: .daemon,
                apply: { c, v in v.text.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }.map { c.jobs = $0 } != nil },
                show: { String($0.jobs) }),
        Setting(key: "idle_timeout", environment: "LTOD_IDLE_TIMEOUT", choices: "a duration such as 90s, 30m or 2h (0: never)",
                help: "the daemon exits after this long without a connection", scope: .daemon,
                apply: { c, v in v.text.flatMap(Duration.parseSeconds).map { c.idleTimeout = $0 } != nil },
                show: { $0.idleTimeout == 0 ? "never" : "\(Int($0.idleTimeout))s" }),
        Setting(key: "log_level", environment: "LTOD_LOG", choices: "trace, debug, info, notice, warning, error or critical",
                help: "what the daemon writes to its log", scope: .daemon,
                apply: { c, v in
                    guard let t = v.text?.lowercased(), ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(t) else { return false }
                    c.logLevel = t
                    return true
                },
                show: { $0.logLevel }),
        Setting(key: "strict", environment: "LTOD_STRICT", choices: "true or false",
                help: "fail a link rather than run it without the daemon", scope: .link,
                apply: { c, v in v.flag.map { c.strict = $0 } != nil }, show: { String($0.strict) }),
        Setting(key: "whole_link", environment: "LTOD_WHOLE_LINK", choices: "true or false",
                help: "answer a link whose inputs are all unchanged from the cache, without running lto-wrapper or WPA", scope: .daemon,
                apply: { c, v in v.flag.map { c.wholeLink = $0 } != nil }, show: { String($0.wholeLink) }),
        Setting(key: "canonical_keys", environment: "LTOD_CANONICAL_KEYS", choices: "true or false",
                help: "key partitions with symbol numbers replaced by their rank", scope: .daemon,
                apply: { c, v in v.flag.map { c.canonicalKeys = $0 } != nil }, show: { String($0.canonicalKeys) }),
        Setting(key: "audit", environment: "LTOD_AUDIT", choices: "a fraction from 0 to 1, such as 0.05",
                help: "fraction of canonical-only and remote hits compiled again and compared in the background", scope: .daemon,
                apply: { c, v in v.fraction.map { c.auditFraction = $0 } != nil }, show: { decimal($0.auditFraction, places: 2) }),
        Setting(key: "audit_locations", environment: "LTOD_AUDIT_LOCATIONS", choices: "a fraction from 0 to 1",
                help: "fraction of hits found only by abstracting source locations compiled again and compared in the background",
                scope: .daemon,
                apply: { c, v in v.fraction.map { c.auditLocationsFraction = $0 } != nil },
                show: { decimal($0.auditLocationsFraction, places: 2) }),
        Setting(key: "max_targets", environment: "LTOD_MAX_TARGETS", choices: "a positive number",
                help: "targets whose last link the daemon keeps in memory; the least recently linked are forgotten beyond it",
                scope: .daemon,
                apply: { c, v in v.text.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }.map { c.maxTargets = $0 } != nil },
                show: { String($0.maxTargets) }),
        Setting(key: "remote_storage", environment: "LTOD_REMOTE_STORAGE", choices: RemoteStorageURL.acceptedForms,
                help: "a cache tier shared with other machines (Redis), used after the local one; see docs/REMOTE.md", scope: .daemon,
                apply: { c, v in v.text.flatMap { try? RemoteStorageURL.parse($0) }.map { c.remoteStorage = $0 } != nil },
                show: { $0.remoteStorage?.description ?? "none" }),
        Setting(key: "remote_read_only", environment: "LTOD_REMOTE_READ_ONLY", choices: "true or false",
                help: "take entries from the remote tier but never write to it", scope: .daemon,
                apply: { c, v in v.flag.map { c.remoteReadOnly = $0 } != nil }, show: { String($0.remoteReadOnly) }),
        Setting(key: "remote_timeout", environment: "LTOD_REMOTE_TIMEOUT", choices: "a duration such as 250ms or 1s",
                help: "bound on connecting to the remote tier and on each read or write of a request", scope: .daemon,
                apply: { c, v in v.text.flatMap(Duration.parseSeconds).flatMap { $0 > 0 ? $0 : nil }.map { c.remoteTimeout = $0 } != nil },
                show: { "\(Int(($0.remoteTimeout * 1000).rounded()))ms" }),
        Setting(key: "remote_max_entry_size", environment: "LTOD_REMOTE_MAX_ENTRY_SIZE", choices: "a size such as 16M or 64M",
                help: "larger entries are neither sent to nor taken from the remote tier", scope: .daemon,
                apply: { c, v in v.text.flatMap(ByteSize.parse).flatMap { $0 > 0 ? $0 : nil }.map { c.remoteMaxEntryBytes = $0 } != nil },
                show: { ByteSize.format($0.remoteMaxEntryBytes) }),
    ]

    /// The settings that shape one link's output, resolved by the shim for each link.
    public static var linkScoped: [Setting] { all.filter { $0.scope == .link } }

    /// The settings as `--help` lists them: variable, key, valid values, default, what it does.
    public static func helpText(defaults: Configuration) -> String {
        var out = ""
        for s in all {
            out += "  \(s.environment.padded(to: 20))\(s.help)\n"
            out += "  \("".padded(to: 20))config.toml: \(s.key); \(s.choices); default \(s.show(defaults)); \(s.scope == .link ? "per link" : "daemon-wide")\n"
        }
        return out
    }
}

extension String {
    /// The string followed by spaces up to `width` characters (at least one space).
    public func padded(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

    /// Spaces followed by the string, up to `width` characters.
    public func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
