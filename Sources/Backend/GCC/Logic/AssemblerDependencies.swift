/// What the assembler read while building an LTRANS object, from the dependency file
/// `as --MD` writes. Top-level `asm(".incbin \"file\"")` or `.include` make LTRANS output
/// depend on files that are not in the partition (the bytecode holds only the asm text),
/// so such results are never cached.
public enum AssemblerDependencies {
    /// The dependencies listed in a make-style rule (`out: dep dep \` ...), with `\ ` escapes.
    public static func parse(_ text: String) -> [String]? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        var deps: [String] = []
        var current = ""
        var escaped = false
        for c in text[text.index(after: colon)...] {
            if escaped {
                if c != "\n" { current.append(c) }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == " " || c == "\t" || c == "\n" {
                if !current.isEmpty { deps.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { deps.append(current) }
        return deps
    }

    /// The files read besides the job's own: anything outside `privateDirectory` (the
    /// TMPDIR the job ran with, holding lto1's assembler file) other than `<artificial>`,
    /// the file name GCC gives LTRANS units.
    public static func externalInputs(_ deps: [String], privateDirectory: String) -> [String] {
        let inside = privateDirectory.hasSuffix("/") ? privateDirectory : privateDirectory + "/"
        return deps.filter { $0 != "<artificial>" && !$0.hasPrefix(inside) }
    }
}
