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

    /// The files read besides the assembler's own input: lto1's temporary `ccXXXXXX.s`
    /// (exactly one) and the `<artificial>` file name GCC gives LTRANS units.
    public static func externalInputs(_ deps: [String]) -> [String] {
        var sawInput = false
        return deps.filter { dep in
            if dep == "<artificial>" { return false }
            let name = dep.split(separator: "/").last.map(String.init) ?? dep
            if !sawInput, name.hasPrefix("cc"), name.hasSuffix(".s"), name.count == 10 {
                sawInput = true
                return false
            }
            return true
        }
    }
}
