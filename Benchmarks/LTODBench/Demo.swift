// ltod-bench: measurements of ltod against plain `gcc -flto`, side by side in one run.
// `demo` is the README's main command: one generated program, one edit, the figures.
import ArgumentParser
import Foundation
import SyntheticC

@main
struct LTODBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ltod-bench",
        abstract: "Measure ltod against plain gcc -flto on generated C programs.",
        subcommands: [Demo.self])
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a generated program through ltod, edit one file, relink, and compare with plain gcc.")

    @Option(help: "Number of C files in the generated program.") var files = 40
    @Option(help: "Functions per file.") var functions = 8
    @Option(help: "Link flags, as given to gcc (the same for plain gcc and ltod).") var flags = "-O2 -flto=auto"
    @Option(help: "Working directory (default: a new temporary one, removed afterwards).") var workdir: String?

    func run() throws {
        let tools = try Tools()
        let work = workdir ?? NSTemporaryDirectory() + "ltod-demo-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if workdir == nil { try? FileManager.default.removeItem(atPath: work) } }
        let daemon = try tools.startDaemon(in: work)
        defer { daemon.stop() }

        let program = SyntheticC.generate(ProgramSpec(files: files, functionsPerFile: functions, seed: 42))
        let src = work + "/src"
        try program.write(to: src)
        print("Generated \(program.cFiles.count) C files (\(files * (functions + 5) + 1) functions) in \(src)")
        try compile(program.cFiles, in: src)

        let link = Link(directory: src, flags: flags.split(separator: " ").map(String.init),
                        objects: program.cFiles.map { String($0.dropLast(2)) + ".o" }, libexec: try tools.libexec(), daemon: daemon)
        var rows: [(String, plain: Double, ltod: Double, partitions: String)] = []
        func measure(_ label: String) throws {
            let ltod = try link.throughLtod()
            let plain = try link.plain()
            let e = try daemon.explain()
            guard try link.identicalToPlain1to1() else {
                throw ValidationErrorText("\(label): the binary linked through ltod differs from plain gcc's")
            }
            rows.append((label, plain, ltod, "\(e.rebuilt) of \(e.total)"))
        }
        try measure("cold link")
        try measure("no-op relink")
        var current = program
        for (edit, label) in [(Edit.stringLiteral, "string-literal edit"), (.bodySizeChange, "body-size edit")] {
            let (edited, changed) = SyntheticC.apply(edit, to: current, file: files / 2, generation: 1)
            try edited.write(changed, to: src)
            try compile(changed.filter { $0.hasSuffix(".c") }, in: src)
            current = edited
            try measure("relink, \(label)")
        }

        print("")
        print(row("", "plain gcc", "ltod", "ltod/plain", "rebuilt"))
        for r in rows {
            print(row(r.0, seconds(r.plain), seconds(r.ltod), ratio(r.ltod, r.plain), r.partitions))
        }
        print("")
        print("Flags: \(flags) (ltod adds -flto-partition=1to1; every binary was checked byte for byte")
        print("against plain gcc with -flto-partition=1to1).")
    }

    func compile(_ sources: [String], in dir: String) throws {
        let half = (sources.count + 1) / 2
        let groups = [Array(sources[..<half]), Array(sources[half...])].filter { !$0.isEmpty }
        let procs = try groups.map { try Run.start(["gcc", "-O2", "-flto", "-c"] + $0, in: dir) }
        for p in procs { try Run.finish(p) }
    }

    func row(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> String {
        a.padding(toLength: 30, withPad: " ", startingAt: 0) + b.leftPad(11) + c.leftPad(11) + d.leftPad(12) + e.leftPad(13)
    }

    func seconds(_ t: Double) -> String { String(format: "%.2f s", t) }
    func ratio(_ a: Double, _ b: Double) -> String { String(format: "%.2f", a / b) }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
