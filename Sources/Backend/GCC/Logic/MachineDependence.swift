// LTOGCC: what makes an LTRANS job's output depend on the machine it runs on, beyond the
// compiler itself: options the driver expands on the machine that runs it (`-march=native`
// and its kin). Pure logic: the daemon runs the probe and keys what this finds. (Whether
// the working directory reaches the object is `KeyScope`'s question.)

/// Machine dependence of LTRANS command lines.
public enum MachineDependence {
    /// Options that reach LTRANS literally (lto-wrapper passes the link's options on) and are
    /// expanded by the driver that runs LTRANS, from the CPU it runs on (GCC's
    /// `local_cpu_detect` spec function, e.g. config/i386/i386.h's CC1_CPU_SPEC).
    public static let nativeOptions: Set<String> = ["-march=native", "-mtune=native", "-mcpu=native"]

    /// Whether `arguments` hold an option the driver expands on the machine that runs it.
    public static func usesNative(_ arguments: [String]) -> Bool {
        arguments.contains { nativeOptions.contains($0) }
    }

    /// Driver arguments that show, without running anything, what the native options of
    /// `arguments` expand to here for lto1: every `-m` option of the command (they choose 32
    /// or 64 bits and whether a tuning is already given), then `-###` for an LTRANS job.
    public static func nativeProbeArguments(_ arguments: [String]) -> [String] {
        arguments.filter { $0.hasPrefix("-m") } + ["-###", "-xlto", "-c", "-fltrans", "-o", "/dev/null", "/dev/null"]
    }

    /// The expansion in the driver's `-###` output (its stderr): the `-m` options and `--param`
    /// settings of the compiler's command line (the first one printed, lto1's); nil when the
    /// output holds no command line.
    public static func nativeExpansion(fromDriverOutput text: String) -> [String]? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(" ") }) else { return nil }
        let words = commandWords(line)
        var out: [String] = []
        var i = 0
        while i < words.count {
            if words[i] == "--param", i + 1 < words.count {
                out += ["--param", words[i + 1]]
                i += 2
                continue
            }
            if words[i].hasPrefix("-m") || words[i].hasPrefix("--param=") { out.append(words[i]) }
            i += 1
        }
        return out
    }

    /// The words of one command line as GCC's `-###` prints it: a word is plain, or in double
    /// quotes with `"`, `\` and `$` escaped by a backslash (gcc.cc, `execute`).
    static func commandWords(_ line: Substring) -> [String] {
        var words: [String] = []
        var chars = line[...]
        while let c = chars.first {
            if c == " " {
                chars.removeFirst()
                continue
            }
            var word = ""
            if c == "\"" {
                chars.removeFirst()
                while let d = chars.popFirst(), d != "\"" {
                    if d == "\\", let escaped = chars.popFirst() { word.append(escaped) } else { word.append(d) }
                }
            } else {
                while let d = chars.first, d != " " {
                    word.append(d)
                    chars.removeFirst()
                }
            }
            words.append(word)
        }
        return words
    }
}
