import ArgumentParser
import Foundation
import SyntheticC

/// `ltod-bench demo`: one generated program linked through ltod and with plain gcc, cold,
/// unchanged, and after two one-file edits; every ltod binary is checked byte for byte.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a generated program through ltod, edit one file, relink, and compare with plain gcc.")

    @Option(help: "Number of C files in the generated program.") var files = 40
    @Option(help: "Functions per file.") var functions = 8
    @Option(help: "Link flags, as given to gcc (the same for plain gcc and ltod).") var flags = "-O2 -flto=auto"
    @Option(help: "Working directory (default: a new temporary one, removed afterwards).") var workdir: String?

    func run() throws {
        let work = URL(fileURLWithPath: workdir ?? NSTemporaryDirectory() + "ltod-demo-\(getpid())").standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if workdir == nil { try? FileManager.default.removeItem(atPath: work) } }
        let runner = try Runner(log: work + "/commands.log")
        let tools = try Tools(runner: runner)
        let daemon = try tools.startDaemon(in: work, runner: runner)
        defer { daemon.stop() }

        var program = SyntheticC.generate(ProgramSpec(files: files, functionsPerFile: functions, seed: 42))
        let build = ObjectBuild(directory: work + "/src", sources: program.cFiles, cflags: ["-O2"], runner: runner)
        try program.write(to: build.directory)
        print("Generated \(program.cFiles.count) C files (\(files * (functions + 5) + 1) functions) in \(build.directory)")
        try build.compile()
        let linker = Linker(directory: build.directory, flags: flags.split(separator: " ").map(String.init), objects: build.objects,
                            libraries: [], libexec: tools.libexec, runner: runner)

        var rows = [try measure("cold link", linker, daemon), try measure("no-op relink", linker, daemon)]
        for (edit, label) in [(Edit.stringLiteral, "string-literal edit"), (.bodySizeChange, "body-size edit")] {
            let (edited, changed) = SyntheticC.apply(edit, to: program, file: files / 2, generation: 1)
            try edited.write(changed, to: build.directory)
            try build.compile()
            program = edited
            rows.append(try measure("relink, \(label)", linker, daemon))
        }
        print("")
        print(row("", "plain gcc", "ltod", "ltod/plain", "rebuilt"))
        for r in rows { print(row(r.label, seconds(r.plain), seconds(r.ltod), String(format: "%.2f", r.ltod / r.plain), r.partitions)) }
        print("")
        print("Flags: \(flags) (ltod adds -flto-partition=1to1; every binary was checked byte for byte")
        print("against plain gcc with -flto-partition=1to1).")
    }

    private func measure(_ label: String, _ linker: Linker, _ daemon: Daemon) throws -> (label: String, plain: Double, ltod: Double, partitions: String) {
        let ltod = try linker.throughLtod(daemon, output: "app")
        let plain = try linker.plain(output: "app.plain")
        let e = try daemon.explain()
        _ = try linker.plain(output: "app.1to1", extra: [Linker.ltodPartitioning])
        try linker.requireIdentical("app", "app.1to1", workload: "demo", cycle: label)
        return (label, plain, ltod, "\(e.rebuilt) of \(e.total)")
    }

    private func row(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> String {
        a.padding(toLength: 30, withPad: " ", startingAt: 0) + b.leftPad(11) + c.leftPad(11) + d.leftPad(12) + e.leftPad(13)
    }

    private func seconds(_ t: Double) -> String { String(format: "%.2f s", t) }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
