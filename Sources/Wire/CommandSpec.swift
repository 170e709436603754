// LTOWire: the management and query commands a client sends as `command` requests: what
// each accepts, its help line, ccache's option spellings for them, and the one parser that
// the shim (before sending) and the daemon (on receipt) both use, so that a bad option is
// the same usage error everywhere.

/// One command of `ltoc`: its options, operand, help and who can answer it.
public struct CommandSpec: Sendable {
    /// Who can answer a command.
    public enum Answerer: Sendable {
        /// Only a running daemon (`status`, `shutdown`): with none, the shim says so.
        case daemon
        /// The daemon when one runs, else `ltod offline` reading the cache directory.
        case cache
        /// `ltod config`, which asks a running daemon for its settings itself.
        case configReport
    }

    public let name: String
    /// Options without a value, such as `--json`.
    public let flags: [String]
    /// Options with a value, with the value's placeholder (`--format FORMAT`).
    public let options: [(name: String, value: String)]
    /// The operand's placeholder (`TARGET`), if the command takes one.
    public let operand: String?
    public let operandRequired: Bool
    public let help: String
    public let answerer: Answerer
    /// Internal commands (the shim's progress line, `ltod config`'s query) are not listed.
    public let listed: Bool

    init(_ name: String, flags: [String] = [], options: [(name: String, value: String)] = [], operand: String? = nil,
         operandRequired: Bool = false, answerer: Answerer = .cache, listed: Bool = true, help: String) {
        self.name = name
        self.flags = flags
        self.options = options
        self.operand = operand
        self.operandRequired = operandRequired
        self.help = help
        self.answerer = answerer
        self.listed = listed
    }

    public static let all: [CommandSpec] = [
        CommandSpec("status", answerer: .daemon, help: "the daemon's pid, uptime, socket and cache (exit 1 if none runs)"),
        CommandSpec("stats", flags: ["--json", "--zero"], options: [("--format", "text|json|prometheus")], operand: "TARGET",
                    help: "statistics since the daemon started and all-time (--zero resets them); with TARGET, its links"),
        CommandSpec("explain", flags: ["--json", "--list"], operand: "TARGET",
                    help: "what the last link of TARGET (default: the latest) reused and rebuilt, and why; --list: the targets"),
        CommandSpec("gc", options: [("--max-size", "SIZE"), ("--older-than", "DURATION")],
                    help: "evict least recently used entries (SIZE: 500M, 5G; DURATION: 12h, 7d)"),
        CommandSpec("clear", help: "empty the cache"),
        CommandSpec("max-size", operand: "SIZE", operandRequired: true,
                    help: "set the cache size limit and save it in config.toml (a running daemon applies it at once)"),
        CommandSpec("config", answerer: .configReport,
                    help: "every setting, its value and where it came from; marks where a new daemon would differ"),
        CommandSpec("shutdown", flags: ["--when-idle"], answerer: .daemon,
                    help: "stop the daemon (--when-idle: once no link is open)"),
        CommandSpec("progress", operand: "SESSION", operandRequired: true, answerer: .daemon, listed: false,
                    help: "done, total, reused and running partitions of an open link"),
        CommandSpec("settings", answerer: .daemon, listed: false, help: "the running daemon's settings, as JSON"),
    ]

    /// ccache's spellings, each standing for a command and arguments put before the rest.
    public static let aliases: [(spellings: [String], command: String, arguments: [String])] = [
        (["-s", "--show-stats"], "stats", []),
        (["-z", "--zero-stats"], "stats", ["--zero"]),
        (["-C", "--clear"], "clear", []),
        (["-M", "--max-size"], "max-size", []),
        (["-p", "--show-config"], "config", []),
    ]

    public static func named(_ name: String) -> CommandSpec? { all.first { $0.name == name } }

    /// The command and arguments an alias stands for, or nil if `word` is not one.
    public static func alias(_ word: String) -> (command: String, arguments: [String])? {
        aliases.first { $0.spellings.contains(word) }.map { ($0.command, $0.arguments) }
    }

    /// `ltoc stats [--json] [--zero] [--format text|json|prometheus] [TARGET]`.
    public var synopsis: String {
        var parts = ["ltoc", name] + flags.map { "[\($0)]" } + options.map { "[\($0.name) \($0.value)]" }
        if let operand { parts.append(operandRequired ? operand : "[\(operand)]") }
        return parts.joined(separator: " ")
    }

    /// Checks `arguments` against the command's options and operand.
    public func parse(_ arguments: [String]) throws(CommandLineError) -> ParsedCommand {
        var parsed = ParsedCommand(name: name)
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if flags.contains(argument) {
                parsed.flags.insert(argument)
            } else if let (option, inline) = option(argument) {
                guard let value = inline ?? (i < arguments.count ? arguments[i] : nil) else { throw .missingValue(self, option) }
                if inline == nil { i += 1 }
                parsed.values[option] = value
            } else if argument.hasPrefix("-") && argument != "-" {
                throw .unknownOption(self, argument)
            } else if operand != nil && parsed.operand == nil {
                parsed.operand = argument
            } else {
                throw .unexpectedOperand(self, argument)
            }
        }
        if operandRequired && parsed.operand == nil { throw .missingOperand(self) }
        return parsed
    }

    /// The option `argument` names, with its value when written `--option=value`.
    private func option(_ argument: String) -> (String, String?)? {
        for (name, _) in options {
            if argument == name { return (name, nil) }
            if argument.hasPrefix(name + "=") { return (name, String(argument.dropFirst(name.count + 1))) }
        }
        return nil
    }

    /// Listed commands one edit away from `word` (an insertion, deletion, substitution or
    /// transposition of adjacent letters), for "did you mean".
    public static func suggestions(for word: String) -> [String] {
        all.filter { $0.listed && editDistance(word, $0.name) == 1 }.map(\.name)
    }
}

/// A command with its arguments checked.
public struct ParsedCommand: Equatable, Sendable {
    public let name: String
    public var flags: Set<String> = []
    public var values: [String: String] = [:]
    public var operand: String?

    public init(name: String) { self.name = name }

    public func has(_ flag: String) -> Bool { flags.contains(flag) }
}

/// A command line that cannot be run; the shim exits 2 with it, as with any usage error.
public enum CommandLineError: Error, CustomStringConvertible {
    case unknownOption(CommandSpec, String)
    case missingValue(CommandSpec, String)
    case missingOperand(CommandSpec)
    case unexpectedOperand(CommandSpec, String)

    public var description: String {
        switch self {
        case let .unknownOption(spec, option): return "\(spec.name): unknown option \(option)\nusage: \(spec.synopsis)"
        case let .missingValue(spec, option): return "\(spec.name): \(option) needs a value\nusage: \(spec.synopsis)"
        case let .missingOperand(spec): return "\(spec.name): missing \(spec.operand ?? "operand")\nusage: \(spec.synopsis)"
        case let .unexpectedOperand(spec, argument): return "\(spec.name): unexpected argument '\(argument)'\nusage: \(spec.synopsis)"
        }
    }
}

/// The optimal-string-alignment distance between two words (Levenshtein plus adjacent
/// transpositions, so `expalin` is one edit from `explain`). A dozen lines, written here
/// because the shim links no library that has it.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    guard !x.isEmpty, !y.isEmpty else { return max(x.count, y.count) }
    var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in 0...x.count { d[i][0] = i }
    for j in 0...y.count { d[0][j] = j }
    for i in 1...x.count {
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
        }
    }
    return d[x.count][y.count]
}
