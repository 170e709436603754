// LTOGCC: what GCC's diagnostics depend on besides the job's inputs, so that a cached job
// that printed warnings is replayed only where it would print the same bytes again.
import LTOHash

/// The context a job's diagnostics were printed in: the terminal (GCC colours and sizes
/// its messages for one), the variables that style them, and the source lines they quote
/// (GCC reads those from the source files when it prints, so an edited source changes the
/// message while the partition stays the same). The job's command line, and with it every
/// `-fdiagnostics-*` option, is already in the job's key.
public struct DiagnosticsContext: Sendable {
    /// What the shim saw of the terminal (`ShimTerminal`), nil when not told.
    public var terminal: String?
    /// The values of `environmentNames` in the job's environment.
    public var environment: [String: String]
    /// Every source file the diagnostics name, with the digest of its contents now (nil: unreadable).
    public var sources: [String: Digest?]

    public init(terminal: String?, environment: [String: String], sources: [String: Digest?]) {
        self.terminal = terminal
        self.environment = environment
        self.sources = sources
    }

    /// Variables that change how GCC prints a diagnostic.
    public static let environmentNames = ["TERM", "COLUMNS", "GCC_COLORS", "GCC_URLS", "TERM_URLS", "GCC_EXTRA_DIAGNOSTIC_OUTPUT"]

    static let formatTag = "ltod/diagnostics-context/1"

    public var digest: Digest {
        let h = Hasher128()
        h.label("format"); h.add(Self.formatTag)
        h.label("terminal"); h.add(terminal ?? "unknown")
        h.label("environment")
        for name in Self.environmentNames {
            h.add(name)
            h.add(environment[name].map { "=" + $0 } ?? "unset")
        }
        h.label("sources")
        for (path, digest) in sources.sorted(by: { $0.key < $1.key }) {
            h.add(path)
            h.add(digest.map(\.description) ?? "unreadable")
        }
        return h.finish()
    }

    /// The files a diagnostic text names at a line (`file.c:12:5: warning: ...`, `In file
    /// included from file.h:3,`, `inlined from 'f' at file.c:7:3:`), colour and link escapes
    /// removed. Names GCC makes up (`<built-in>`) are kept too: they simply never read.
    public static func sourceFiles(in text: [UInt8]) -> [String] {
        var found: [String] = []
        for line in String(decoding: withoutEscapes(text), as: UTF8.self).split(separator: "\n") {
            for word in line.split(separator: " ") {
                if let file = fileOfLocation(word), !found.contains(file) { found.append(file) }
            }
        }
        return found
    }

    /// `FILE:LINE[:COLUMN]` followed by `:` or `,` (or nothing) gives FILE.
    static func fileOfLocation(_ word: Substring) -> String? {
        var parts = word.split(separator: ":", omittingEmptySubsequences: false)
        if let last = parts.last, last.isEmpty || last == "," { parts.removeLast() }
        if let last = parts.last, last.hasSuffix(",") { parts[parts.count - 1] = last.dropLast() }
        guard parts.count >= 2, parts.last!.allSatisfy(\.isNumber), !parts.last!.isEmpty else { return nil }
        parts.removeLast()
        if parts.count >= 2, let line = parts.last, !line.isEmpty, line.allSatisfy(\.isNumber) { parts.removeLast() }
        let file = parts.joined(separator: ":").drop { $0 == "'" || $0 == "\"" || $0 == "(" }
        return file.isEmpty ? nil : String(file)
    }

    /// The text without SGR colour sequences (`ESC [ ... m`) and OSC 8 links (`ESC ] ... ESC \`).
    static func withoutEscapes(_ text: [UInt8]) -> [UInt8] {
        let escape: UInt8 = 0x1B
        var out: [UInt8] = []
        var i = 0
        while i < text.count {
            guard text[i] == escape, i + 1 < text.count else {
                out.append(text[i])
                i += 1
                continue
            }
            if text[i + 1] == UInt8(ascii: "[") {
                i += 2
                while i < text.count, !(0x40...0x7E).contains(text[i]) { i += 1 }
                i += 1
            } else if text[i + 1] == UInt8(ascii: "]") {
                i += 2
                while i < text.count, text[i] != 0x07, !(text[i] == escape && i + 1 < text.count && text[i + 1] == UInt8(ascii: "\\")) { i += 1 }
                i += text.count > i && text[i] == 0x07 ? 1 : 2
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }
}

/// What the shim tells the daemon about the terminal its output goes to, in
/// `ShimEnvironment.terminal`: whether stderr is a terminal, and the width GCC would read
/// from standard input's terminal (GCC sizes source quotes to it when COLUMNS is unset).
public struct ShimTerminal: Equatable, Sendable {
    public var stderrIsTerminal: Bool
    /// Columns of standard input's terminal; nil when it is not one.
    public var columns: Int?

    public init(stderrIsTerminal: Bool, columns: Int?) {
        self.stderrIsTerminal = stderrIsTerminal
        self.columns = columns
    }

    /// `stderr=tty columns=120`, `stderr=other columns=none`.
    public var encoded: String {
        "stderr=\(stderrIsTerminal ? "tty" : "other") columns=\(columns.map(String.init) ?? "none")"
    }

    public init?(encoded: String) {
        let fields = encoded.split(separator: " ")
        guard fields.count == 2, fields[0] == "stderr=tty" || fields[0] == "stderr=other", fields[1].hasPrefix("columns=") else { return nil }
        stderrIsTerminal = fields[0] == "stderr=tty"
        let columns = fields[1].dropFirst("columns=".count)
        if columns == "none" {
            self.columns = nil
        } else if let n = Int(columns), n > 0 {
            self.columns = n
        } else {
            return nil
        }
    }
}
