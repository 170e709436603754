// LTOConfig: the shim's reading of config.toml, for the settings it needs when no daemon
// answers (strict mode).
#if canImport(Glibc)
import Glibc
#endif
import LTOSystem

/// Finds top-level `key = value` assignments in config.toml with a line scan. Written by
/// hand because the shim must stay Foundation-free (the TOML library is not); the daemon
/// parses and validates the whole file with that library, so a file the scan misreads is
/// refused by the daemon with its line number.
public enum ConfigScan {
    /// The raw value assigned to `key` before the first table header, quotes removed.
    public static func value(of key: String, inFile path: String) -> String? {
        guard let text = readFileText(path, limit: 1 << 20) else { return nil }
        for line in text.split(separator: "\n") {
            if line.hasPrefix("[") { return nil }
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingSpaces == key else { continue }
            let value = parts[1].split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?.trimmingSpaces ?? ""
            return value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") ? String(value.dropFirst().dropLast()) : value
        }
        return nil
    }

    /// A setting as the shim sees it: its environment variable, else config.toml.
    public static func setting(_ key: String, places: Places = .current) -> String? {
        guard let setting = Setting.all.first(where: { $0.key == key }) else { return nil }
        if let v = getenv(setting.environment).map({ String(cString: $0) }), !v.isEmpty { return v }
        return value(of: key, inFile: places.configFile)
    }

    /// Strict mode as the shim sees it.
    public static var strict: Bool { setting("strict").flatMap(parseFlag) ?? false }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
