import Foundation

/// Compiles a program's C sources to LTO objects with make, as a developer's build would:
/// an object is rebuilt when its source or a header it includes (from `-MMD`) is newer.
/// Objects sit next to their sources (`src/a.c` -> `src/a.o`).
struct ObjectBuild: Sendable {
    let directory: String
    var sources: [String]
    let cflags: [String]
    let runner: Runner

    static let makefile = ".ltod-bench.mk"

    var objects: [String] { sources.map { String($0.dropLast(2)) + ".o" } }

    /// Brings every object up to date; returns the wall time of make.
    @discardableResult
    func compile() throws -> Double {
        try Data(makefileText().utf8).write(to: URL(fileURLWithPath: directory + "/" + Self.makefile))
        let jobs = ProcessInfo.processInfo.activeProcessorCount
        return try runner.timed(["make", "-s", "-j\(jobs)", "-f", Self.makefile, "all"], in: directory)
    }

    private func makefileText() -> String {
        // make expands `$`; the shell then sees each flag quoted.
        let flags = (["-flto"] + cflags).map(shellQuoted).joined(separator: " ").replacingOccurrences(of: "$", with: "$$")
        return """
            OBJS := \(objects.joined(separator: " "))
            all: $(OBJS)
            %.o: %.c
            \tgcc \(flags) -MMD -MP -c $< -o $@
            -include $(OBJS:.o=.d)

            """
    }
}

/// `s` quoted for /bin/sh (make runs recipes through it).
func shellQuoted(_ s: String) -> String {
    let plain = s.allSatisfy { $0.isLetter || $0.isNumber || "-_=./,+:".contains($0) }
    return plain && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
