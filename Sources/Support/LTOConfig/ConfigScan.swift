// LTOConfig: the shim's reading of config.toml, for the settings it resolves for every link
// (the link-scope settings: partition, strict).
#if canImport(Glibc)
import Glibc
#endif
import LTOSystem

/// Finds top-level `key = value` assignments in config.toml with a line scan. Written by
/// hand because the shim must stay Foundation-free (the TOML library is not); the daemon
/// parses and validates the whole file with that library. The scan reads what a link-scope
/// setting can hold: a bare word, number or boolean, or a basic or literal string.
public enum ConfigScan {
    /// The value assigned to `key` before the first table header, quotes removed, with its
    /// line number (from 1).
    public static func assignment(of key: String, inFile path: String) -> (value: String, line: Int)? {
        guard let text = readFileText(path, limit: 1 << 20) else { return nil }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingSpaces
            if trimmed.hasPrefix("[") { return nil }
            let parts = trimmed.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, unquoted(parts[0].trimmingSpaces) == key else { continue }
            return (value(parts[1]), index + 1)
        }
        return nil
    }

    /// The value text after `=`: a quoted string up to its closing quote, else the text
    /// before a `#` comment.
    private static func value(_ raw: Substring) -> String {
        let text = raw.trimmingSpaces
        if let quote = text.first, quote == "\"" || quote == "'" {
            let body = text.dropFirst()
            return String(body.prefix { $0 != quote })
        }
        return String(text.prefix { $0 != "#" }).trimmingSpaces
    }

    private static func unquoted(_ key: String) -> String {
        key.count >= 2 && (key.hasPrefix("\"") && key.hasSuffix("\"") || key.hasPrefix("'") && key.hasSuffix("'"))
            ? String(key.dropFirst().dropLast()) : key
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
