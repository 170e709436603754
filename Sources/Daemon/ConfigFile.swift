// LTODaemon: reading config.toml with a TOML library, validated against the settings table.
import Foundation
import LTOConfig
import TOMLKit

/// config.toml: top-level keys only, each with the line it is on.
public enum ConfigFile {
    /// The configuration for `environment`: its variables over its config file over defaults.
    public static func load(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> Configuration {
        let path = Places { environment[$0] }.configFile
        return try Configuration(environment: environment, fileValues: try read(path))
    }

    static func read(_ path: String) throws(ConfigurationError) -> [String: (value: ConfigValue, line: Int)] {
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
        var out: [String: (value: ConfigValue, line: Int)] = [:]
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
