// ltod-bench: measurements of ltod against plain `gcc -flto`, side by side in one run.
// `demo` is the README's first command (one program, two edits); `run` is the benchmark
// behind Benchmarks/run (workloads, edit kinds, repeats, summary.json).
import ArgumentParser

@main
struct LTODBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ltod-bench",
        abstract: "Measure ltod against plain gcc -flto.",
        subcommands: [Demo.self, RunBench.self])
}
