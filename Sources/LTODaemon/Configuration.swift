// LTODaemon owns the long-running server: the socket listener and its
// security checks, link sessions, the shared process scheduler, the GCC
// backend's I/O (running WPA/LTRANS, placing cached objects) and statistics.
import Foundation
import LTOGCC
import LTOWire

/// The daemon's effective settings, from the environment (DESIGN.md "Contracts").
public struct Configuration: Sendable {
    public var socketPath: String
    public var cacheDirectory: String
    public var maxSizeBytes: UInt64
    public var partition: PartitionMode
    /// Bound on concurrent WPA/LTRANS processes across all sessions.
    public var jobs: Int
    /// Start LTRANS for a partition's cache miss as soon as WPA has written it, when lto-wrapper
    /// would otherwise run the LTRANS jobs one at a time.
    public var prefetch: Bool
    public var logLevel: String
    /// The daemon exits after this many seconds without a connection (0: never).
    public var idleTimeout: Double

    public static let defaultIdleTimeout: Double = 30 * 60

    public static let defaultMaxSize: UInt64 = 5 << 30

    /// Reads `LTOD_*` and XDG variables; a bad value is an error naming the variable and the valid choices.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> Configuration {
        let home = env["HOME"] ?? NSHomeDirectory()
        let cache = env["LTOD_CACHE_DIR"].nonEmpty
            ?? env["XDG_CACHE_HOME"].nonEmpty.map { $0 + "/ltod" }
            ?? home + "/.cache/ltod"
        var maxSize = defaultMaxSize
        if let text = env["LTOD_MAX_SIZE"].nonEmpty {
            guard let v = ByteSize.parse(text) else { throw .invalid("LTOD_MAX_SIZE", text, "a size such as 500M or 5G") }
            maxSize = v
        }
        var partition = PartitionMode.oneToOne
        if let text = env["LTOD_PARTITION"].nonEmpty {
            guard let p = PartitionMode(rawValue: text) else { throw .invalid("LTOD_PARTITION", text, PartitionMode.choices) }
            partition = p
        }
        var jobs = ProcessInfo.processInfo.activeProcessorCount
        if let text = env["LTOD_JOBS"].nonEmpty {
            guard let j = Int(text), j > 0 else { throw .invalid("LTOD_JOBS", text, "a positive number") }
            jobs = j
        }
        var idle = defaultIdleTimeout
        if let text = env["LTOD_IDLE_TIMEOUT"].nonEmpty {
            guard let v = Duration.parseSeconds(text) else { throw .invalid("LTOD_IDLE_TIMEOUT", text, "a duration such as 90s, 30m or 2h (0 to never exit)") }
            idle = v
        }
        return Configuration(
            socketPath: Endpoint.socketPath { env[$0] },
            cacheDirectory: cache,
            maxSizeBytes: maxSize,
            partition: partition,
            jobs: jobs,
            prefetch: env["LTOD_PREFETCH"] != "0",
            logLevel: env["LTOD_LOG"].nonEmpty ?? "info",
            idleTimeout: idle)
    }
}

/// A setting that cannot be used, with what would be accepted.
public enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(String, String, String)

    public var description: String {
        switch self {
        case .invalid(let name, let value, let choices): return "\(name)=\(value) is not valid; expected \(choices)"
        }
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
