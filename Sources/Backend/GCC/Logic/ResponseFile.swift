/// Expands `@file` arguments the way GCC's libiberty does (expandargv/buildargv):
/// arguments separated by white space, single and double quotes group, a backslash
/// escapes the next character, nested `@file`s expand too. An unreadable file
/// leaves the argument as it is, as GCC does.
public enum ResponseFile {
    public static func expand(_ args: [String], depth: Int = 0, read: (String) -> String?) -> [String] {
        var out: [String] = []
        for a in args {
            if a.hasPrefix("@"), a.count > 1, depth < 16, let text = read(String(a.dropFirst())) {
                out += expand(split(text), depth: depth + 1, read: read)
            } else {
                out.append(a)
            }
        }
        return out
    }

    /// Splits the text of a response file into arguments, byte by byte as libiberty does
    /// (white space is C's `isspace` set, so multi-byte UTF-8 never splits or escapes).
    public static func split(_ text: String) -> [String] {
        let space: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
        let backslash = UInt8(ascii: "\\"), single = UInt8(ascii: "'"), double = UInt8(ascii: "\"")
        var args: [String] = []
        var current: [UInt8] = []
        var inArg = false
        var quote: UInt8?
        var escaped = false
        for b in text.utf8 {
            if escaped {
                current.append(b)
                escaped = false
            } else if b == backslash {
                escaped = true
                inArg = true
            } else if let q = quote {
                if b == q { quote = nil } else { current.append(b) }
            } else if b == single || b == double {
                quote = b
                inArg = true
            } else if space.contains(b) {
                if inArg { args.append(String(decoding: current, as: UTF8.self)) }
                current = []
                inArg = false
            } else {
                current.append(b)
                inArg = true
            }
        }
        if inArg { args.append(String(decoding: current, as: UTF8.self)) }
        return args
    }
}
