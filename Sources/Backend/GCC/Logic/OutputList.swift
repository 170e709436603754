// LTOGCC: the lists through which WPA, lto-wrapper and the linker plugin name LTRANS
// objects: WPA's LTRANS output list (read and rewritten by ltod), the list of finished
// objects ltod hands lto-wrapper as one pass-through entry, and lto-wrapper's output (the
// objects it prints for the linker), in which the shim expands that entry.

/// One entry of WPA's LTRANS output list (`-fltrans-output-list`): a priority line, then a
/// partition path. A path starting with `*` is already compiled: GCC 12's lto-wrapper
/// passes it to the linker as it is and runs no LTRANS for it (lto-wrapper.cc, the reading
/// of `ltrans_output_file`).
public struct LTRANSListEntry: Equatable, Sendable {
    public let priority: Int
    public let path: String
    public let passThrough: Bool

    public init(priority: Int, path: String, passThrough: Bool) {
        self.priority = priority
        self.path = path
        self.passThrough = passThrough
    }

    /// Parses the list; nil if it is not in the shape WPA writes.
    public static func parse(_ text: String) -> [LTRANSListEntry]? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var entries: [LTRANSListEntry] = []
        var i = 0
        while i + 1 < lines.count {
            guard let priority = Int(lines[i].drop(while: { $0 == " " || $0 == "\t" })) else { return nil }
            let name = lines[i + 1]
            guard !name.isEmpty else { return nil }
            let pass = name.hasPrefix("*")
            entries.append(.init(priority: priority, path: String(pass ? name.dropFirst() : name), passThrough: pass))
            i += 2
        }
        guard lines[i...].allSatisfy(\.isEmpty) else { return nil }
        return entries
    }

    /// The list as WPA writes it (lto.cc: `"%i\n"`, then the name and a newline).
    public static func render(_ entries: [LTRANSListEntry]) -> String {
        entries.map { "\($0.priority)\n\($0.passThrough ? "*" : "")\($0.path)\n" }.joined()
    }
}

/// The finished objects of a link's partitions, in partition order, in a file that ltod
/// hands lto-wrapper as the only (pass-through) entry of the LTRANS output list.
///
/// lto-wrapper warns "using serial compilation of N LTRANS jobs" whenever it runs LTRANS
/// one by one and the list has more than one entry, although ltod has already compiled
/// them all. One entry keeps it quiet; the shim, which reads lto-wrapper's output before
/// the linker does, replaces that entry's line with the objects it names.
public enum FinishedObjectList {
    /// Every such file's name ends with this; no name GCC makes for an object does.
    public static let suffix = ".ltod-objects"
    static let header = "ltod finished objects 1"

    /// The list file for the LTRANS output list at `outputList` (`/tmp/ccX.ltrans.out` gives
    /// `/tmp/ccX.ltrans.ltod-objects`).
    public static func path(forOutputList outputList: String) -> String {
        (outputList.hasSuffix(".out") ? String(outputList.dropLast(4)) : outputList) + suffix
    }

    public static func render(_ objects: [String]) -> String {
        ([header] + objects).map { $0 + "\n" }.joined()
    }

    /// The objects; nil unless the text is such a list (header first, no empty name).
    public static func parse(_ text: String) -> [String]? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first == header, lines.last == "" else { return nil }
        lines = Array(lines.dropFirst().dropLast())
        return lines.contains(where: \.isEmpty) ? nil : lines
    }

    /// lto-wrapper's output with every line that names a finished-object list replaced by
    /// the objects in it, and the lists it read (to be deleted). Fails with the list that
    /// could not be read or parsed.
    public static func expand(_ printed: String, read: (String) -> String?) -> Result<(output: String, lists: [String]), ListError> {
        var lines: [String] = []
        var lists: [String] = []
        for line in printed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard line.hasSuffix(suffix) else {
                lines.append(line)
                continue
            }
            guard let text = read(line), let objects = parse(text) else { return .failure(ListError(path: line)) }
            lists.append(line)
            lines += objects
        }
        return .success((lines.joined(separator: "\n"), lists))
    }

    /// A finished-object list that lto-wrapper printed but that could not be read.
    public struct ListError: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "cannot read \(path), ltod's list of the link's finished LTRANS objects; the link cannot go on. Relink; if it happens again, please report it"
        }
    }
}

/// Names of the temporary files GCC makes with libiberty's `make_temp_file`: `cc`, six
/// random characters, then a suffix (`ccAbC123.ltrans0.ltrans.o`, `ccXyZ789.debug.temp.o`).
public enum TemporaryName {
    /// The suffix of a temporary file's base name (`.ltrans0.ltrans.o`); nil for names
    /// `make_temp_file` does not make.
    public static func suffix(of path: String) -> String? {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        guard base.hasPrefix("cc"), base.utf8.count > 8 else { return nil }
        let random = base.utf8.dropFirst(2).prefix(6)
        guard random.allSatisfy({ isAlphanumeric($0) }) else { return nil }
        let rest = String(decoding: base.utf8.dropFirst(8), as: UTF8.self)
        return rest.isEmpty || rest.contains("/") ? nil : rest
    }

    /// A base name in `make_temp_file`'s form with the given random characters.
    public static func name(random: String, suffix: String) -> String { "cc" + random + suffix }

    /// The characters `mkstemps` draws from.
    public static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
}
