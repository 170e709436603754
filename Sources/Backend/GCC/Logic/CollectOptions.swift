import LTOConfig
import LTOSystem

/// The link's options as GCC's driver hands them to lto-wrapper in `COLLECT_GCC_OPTIONS`
/// (each option in single quotes, separated by spaces), and what ltod adds to them.
public enum CollectOptions {
    /// The options, unquoted.
    public static func split(_ options: String) -> [String] { ResponseFile.split(options) }

    /// The option that asks WPA for `mode`'s partitioning (`-flto-partition=1to1`, ...).
    /// GCC's default balanced partitioning moves boundaries whenever a function changes
    /// size, so nearly every partition changes after any edit; one partition per input file
    /// (`1to1`) keeps unchanged files' partitions byte-identical (docs/DESIGN.md). nil for
    /// `keep`, and when the link itself asks for a single partition (`-flto-partition=one`
    /// or `none`), which some programs need (e.g. top-level asm with `.symver`).
    public static func partitionOption(for mode: PartitionMode, in options: String) -> String? {
        guard mode != .keep else { return nil }
        let asked = split(options).last { $0.hasPrefix("-flto-partition=") }
        if asked == "-flto-partition=one" || asked == "-flto-partition=none" { return nil }
        return "-flto-partition=\(mode.rawValue)"
    }

    /// Adds `option` as the last entry, so it wins over earlier ones exactly as if the user
    /// had put it last on the link command line.
    public static func appending(_ option: String, to existing: String) -> String {
        let quoted = "'" + option.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        return existing.isEmpty ? quoted : existing + " " + quoted
    }

    /// The link target: the `-o` of the options (GCC's default `a.out` otherwise), made
    /// absolute against the link's directory.
    public static func linkTarget(_ options: String?, directory: String) -> String {
        let list = split(options ?? "")
        var output = "a.out"
        if let o = list.lastIndex(of: "-o"), o + 1 < list.count { output = list[o + 1] }
        return absolutePath(output, relativeTo: directory)
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

    /// Whether `word`, the first word after `ltoc`, names a compiler driver, to be run as one
    /// and never taken for a mistyped command (`gcc` is one edit from `gc`): `cc`, `c++`,
    /// names containing `gcc` or `g++` (`x86_64-linux-gnu-gcc-12`), names ending in `-cc`,
    /// and any path.
    public static func namesCompiler(_ word: String) -> Bool {
        let name = baseName(word)
        return word.contains("/") || name == "cc" || name == "c++" || name.contains("gcc") || name.contains("g++")
            || name.hasSuffix("-cc")
    }

    /// The driver command with ltod's lto-wrapper directory put first among the `-B` prefixes.
    public static func arguments(compiler: String, args: [String], libexecDir: String) -> [String] {
        guard isLTOLink(args) else { return [compiler] + args }
        let dir = libexecDir.hasSuffix("/") ? libexecDir : libexecDir + "/"
        return [compiler, "-B", dir] + args
    }
}
