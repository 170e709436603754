// LTODaemon: reading config.toml with a TOML library, validated against the settings table,
// and setting one value in it (`ltoc -M`) with the rest of the file kept as written.
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

    /// Sets top-level `key` to the string `text` in the config file at `path` (created, with
    /// its directory, if missing): the line assigning it is replaced, or one is added at the
    /// end (the file has top-level keys only); every other line is kept as written. A file
    /// that is not valid before or after is left as it was, with its error thrown. Returns
    /// the assignment's line.
    static func set(_ key: String, toText text: String, inFile path: String) throws -> Int {
        _ = try read(path)
        let original = FileManager.default.contents(atPath: path)
        var lines = original.map { String(decoding: $0, as: UTF8.self).components(separatedBy: "\n") } ?? []
        if lines.last == "" { lines.removeLast() }
        let assignment = "\(key) = \"\(text)\""
        let index: Int
        if let existing = lines.firstIndex(where: { assigns(key, $0) }) {
            index = existing
            lines[index] = assignment
        } else {
            index = lines.count
            lines.append(assignment)
        }
        try write(Data((lines.joined(separator: "\n") + "\n").utf8), to: path)
        do {
            guard case .text(let written)? = try read(path)[key]?.value, written == text else {
                throw ConfigurationError.file(path, index + 1, "\(key) could not be set in this file")
            }
        } catch {
            if let original { try write(original, to: path) } else { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
        return index + 1
    }

    private static func write(_ data: Data, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Whether `line` assigns `key` at the top level of a TOML file.
    private static func assigns(_ key: String, _ line: String) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        let name = trimmed.prefix { $0 != "=" && $0 != " " && $0 != "\t" }
        return name == key || name == "\"\(key)\"" || name == "'\(key)'"
    }

    /// The line where `key` is assigned (TOMLKit does not report positions of values).
    static func lineOf(_ key: String, in text: String) -> Int {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if assigns(key, String(line)) || line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("[\(key)]") { return i + 1 }
        }
        return 1
    }
}
