import Foundation

/// The links of a benchmark, all in one directory with the same objects and flags: through
/// ltod, plain gcc with its default partitioning, plain gcc with ltod's `1to1`, and the
/// final `ld` step alone. Each writes its own output file, named after what made it.
struct Linker: Sendable {
    let directory: String
    let flags: [String]
    var objects: [String]
    let libraries: [String]
    let libexec: String
    let runner: Runner

    /// The partitioning ltod appends to a link (its default, `LTOD_PARTITION=1to1`).
    static let ltodPartitioning = "-flto-partition=1to1"
    /// Output name of the `-save-temps` link whose LTRANS objects are kept.
    static let savedTemps = "app.st"

    /// Links through ltod (`gcc -B <libexec>`, as `ltoc gcc` would); returns the wall time.
    func throughLtod(_ daemon: Daemon, output: String) throws -> Double {
        try runner.timed(["gcc", "-B", libexec + "/"] + flags + ["-o", output] + objects + libraries, in: directory, env: daemon.env)
    }

    /// Links with plain gcc and the given extra options; returns the wall time.
    func plain(output: String, extra: [String] = []) throws -> Double {
        try runner.timed(["gcc"] + flags + extra + ["-o", output] + objects + libraries, in: directory)
    }

    /// Links with plain gcc, `1to1` and `-save-temps` into `savedTemps`, after removing the
    /// previous run's temporaries (GCC rewrites them in place without truncating). Returns
    /// the wall time and the LTRANS output objects, in partition order. `-save-temps` keeps
    /// files that plain gcc writes to /tmp anyway; the binary is the one without it.
    func savingTemps() throws -> (seconds: Double, ltrans: [String]) {
        let prefix = Self.savedTemps + "."
        for name in try FileManager.default.contentsOfDirectory(atPath: directory)
        where name.hasPrefix(prefix) || name.hasSuffix(".debug.temp.o") {
            try FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        let seconds = try runner.timed(["gcc"] + flags + [Self.ltodPartitioning, "-save-temps", "-o", Self.savedTemps] + objects + libraries,
                                       in: directory)
        return (seconds, try ltransOutputs())
    }

    /// `app.st.ltransN.ltrans.o`, sorted by N.
    func ltransOutputs() throws -> [String] {
        let prefix = Self.savedTemps + ".ltrans", suffix = ".ltrans.o"
        let numbered = try FileManager.default.contentsOfDirectory(atPath: directory).compactMap { name -> (Int, String)? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix),
                  let n = Int(name.dropFirst(prefix.count).dropLast(suffix.count)) else { return nil }
            return (n, directory + "/" + name)
        }
        return numbered.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// With `-g`, the early debug objects lto-wrapper extracted beside the inputs in the last
    /// `-save-temps` link (`INPUT.debug.temp.o`): they define the units the LTRANS objects'
    /// debug information refers to, and lto-wrapper hands them to the linker too.
    var debugObjects: [String] {
        objects.map { directory + "/" + $0 + ".debug.temp.o" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The final link alone: gcc (collect2, ld) on the given LTRANS objects (and the debug
    /// objects) without LTO.
    func finalLinkOnly(_ ltransObjects: [String]) throws -> Double {
        let codegen = flags.filter { !$0.hasPrefix("-flto") }
        return try runner.timed(["gcc"] + codegen + ["-o", "app.ld"] + ltransObjects + debugObjects + libraries, in: directory)
    }

    /// The link of an LTO program with nothing to compile: `gcc -flto` with an lto-wrapper
    /// that prints the given LTRANS objects (and the debug objects) at once (hard links, made anew for each run, as
    /// the linker plugin removes them), so the linker plugin still reads every input's
    /// symbols. No answer to a link can be faster; the gap to the final ld is the plugin's.
    func ltoFloor(_ ltransObjects: [String], scratch: String) throws -> Double {
        let objects = scratch + "/objects"
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: objects, withIntermediateDirectories: true)
        let printed = ltransObjects + debugObjects
        let listed = printed.map { objects + "/" + URL(fileURLWithPath: $0).lastPathComponent }
        for (from, to) in zip(printed, listed) { try FileManager.default.linkItem(atPath: from, toPath: to) }
        try Data(listed.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: scratch + "/list"))
        try Data("#!/bin/sh\nexec cat '\(scratch)/list'\n".utf8).write(to: URL(fileURLWithPath: scratch + "/lto-wrapper"))
        chmod(scratch + "/lto-wrapper", 0o755)
        let command: [String] = ["gcc", "-B", scratch + "/"] + flags + ["-o", "app.floor"] + self.objects + libraries
        return try runner.timed(command, in: directory)
    }

    /// Throws `binaryMismatch` unless `ltod` and `plain` (relative to the directory) hold the same bytes.
    func requireIdentical(_ ltod: String, _ plain: String, workload: String, cycle: String) throws {
        let a = FileManager.default.contents(atPath: directory + "/" + ltod)
        let b = FileManager.default.contents(atPath: directory + "/" + plain)
        guard let a, a == b else {
            throw BenchError.binaryMismatch(workload: workload, cycle: cycle, ltod: directory + "/" + ltod, plain: directory + "/" + plain)
        }
    }
}
