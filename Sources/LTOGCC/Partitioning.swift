/// How ltod asks WPA to cut the program into LTRANS partitions.
///
/// GCC's default balanced partitioning moves boundaries whenever a function changes
/// size, so nearly every partition changes after any edit; one partition per input
/// file (`1to1`) keeps unchanged files' partitions byte-identical (DESIGN.md).
public enum PartitionMode: String, CaseIterable, Sendable {
    case oneToOne = "1to1"
    case balanced
    case max
    /// Leave the user's choice (or GCC's default) alone.
    case keep

    /// The option appended to the link's options, or nil for `keep`.
    public var option: String? {
        self == .keep ? nil : "-flto-partition=\(rawValue)"
    }

    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The option to append to a link's COLLECT_GCC_OPTIONS, or nil to leave them alone: for
    /// `keep`, and when the link itself asks for a single partition (`-flto-partition=one` or
    /// `none`), which some programs need (e.g. top-level asm with `.symver`).
    public func option(forCollectOptions options: String) -> String? {
        let asked = ResponseFile.split(options).last { $0.hasPrefix("-flto-partition=") }
        if asked == "-flto-partition=one" || asked == "-flto-partition=none" { return nil }
        return option
    }

    /// Adds `option` as the last entry of a COLLECT_GCC_OPTIONS value (GCC's quoting:
    /// each option in single quotes, separated by spaces), so it wins over earlier ones
    /// exactly as if the user had put it last on the link command line.
    public static func appending(_ option: String, toCollectOptions existing: String) -> String {
        let quoted = "'" + option.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        return existing.isEmpty ? quoted : existing + " " + quoted
    }
}

/// Launcher mode (`ltoc gcc ARGS...`): which driver runs need ltod's lto-wrapper.
public enum Launcher {
    /// True for a link step that uses LTO: `-flto` (or `-flto=...`) not cancelled by a later
    /// `-fno-lto`, and none of `-c`, `-S`, `-E` (which stop before linking).
    public static func isLTOLink(_ args: [String]) -> Bool {
        var lto = false
        for a in args {
            switch a {
            case "-c", "-S", "-E", "-M", "-MM": return false
            case "-flto": lto = true
            case "-fno-lto": lto = false
            default: if a.hasPrefix("-flto=") { lto = true }
            }
        }
        return lto
    }

    /// The driver command with ltod's lto-wrapper directory put first among the `-B` prefixes.
    public static func arguments(compiler: String, args: [String], libexecDir: String) -> [String] {
        guard isLTOLink(args) else { return [compiler] + args }
        let dir = libexecDir.hasSuffix("/") ? libexecDir : libexecDir + "/"
        return [compiler, "-B", dir] + args
    }
}
