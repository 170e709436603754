import ArgumentParser
import Foundation
import SyntheticC

/// `ltod-bench run`: every workload's edit cycles through ltod and plain gcc, reported as
/// Markdown on stdout and, with `--out`, as results.md and summary.json.
struct RunBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Measure relinks through ltod against plain gcc -flto on generated programs, Lua and a git history.",
        discussion: """
            The replay follows first parents: the commits of `git rev-list --first-parent REF`, so a
            merge counts as one commit, the whole merged branch at once.
            Replay example (Lua's own history; any repository and recipe work the same way):
              ltod-bench run --workloads replay --repo /tmp/lua --commits 30 --sources '*.c' \\
                --exclude 'onelua.c,ltests.c' --cflags '-O2 -std=c99 -DLUA_USE_LINUX' --libs '-lm -ldl'
            """)

    @Flag(help: "A reduced set: one cycle per edit kind, the 50-file program, Lua, 3 commits with --repo.") var quick = false
    @Option(help: "Workloads, comma-separated: synthetic, lua, replay (default: synthetic,lua, and replay with --repo).")
    var workloads: String?
    @Option(help: "Sizes of the generated programs, in files (default 50,200,800; --quick: 50).") var sizes: String?
    @Option(help: "Edit kinds (SyntheticC's names).") var edits = "stringLiteral,bodySizeChange,newStaticFunction,sharedHeader,touch"
    @Option(help: "Cycles per edit kind, and no-op relinks per workload (default 3; --quick: 1).") var repeats: Int?
    @Option(parsing: .unconditional, help: "Link flags, the same for ltod and plain gcc (compiles use -flto plus --cflags).") var flags = "-O2 -flto=auto"
    @Option(help: "Cache keys to measure: canonical (always) and bytes (a second daemon with LTOD_CANONICAL_KEYS=0). Default: canonical,bytes for lua and replay, canonical for synthetic.")
    var keyModes: String?
    @Flag(inversion: .prefixedNo, help: "Count the LTRANS outputs of plain 1to1 that really changed (the 1to1 link runs with -save-temps).")
    var ceiling = true
    @Option(help: "Lua 5.4 sources prepared by Tests/Fixtures/fetch-lua.sh.") var lua = "/tmp/ltod-fixtures/lua54"
    @Option(help: "Git repository to replay (a path; it is cloned, never changed).") var repo: String?
    @Option(help: "Commits to replay: the last N first-parent commits of --ref, after a cold link of the one before (default 30; --quick: 3).")
    var commits: Int?
    @Option(help: "Branch or commit whose history is replayed.") var ref = "HEAD"
    @Option(help: "Replay: comma-separated patterns of the .c files to build, over git ls-files (`*` stops at `/`).") var sources = "*.c"
    @Option(help: "Replay: comma-separated patterns of files to leave out (e.g. other programs' mains).") var exclude = ""
    @Option(parsing: .unconditional, help: "Replay: compile flags (-flto is added).") var cflags = "-O2"
    @Option(parsing: .unconditional, help: "Replay: libraries and other link inputs after the objects.") var libs = ""
    @Flag(help: "Measure the remote tier instead: two daemons with separate local caches sharing one Redis (results-remote.md, remote.json).")
    var remote = false
    @Option(help: "Run the daemons with this audit fraction (LTOD_AUDIT, and LTOD_AUDIT_LOCATIONS) and report their audit counters; not with --remote.")
    var audit: Double?
    @Option(help: "Write results.md and summary.json here.") var out: String?
    @Option(help: "Working directory (default: a new one under /tmp for this run alone, removed after a successful run).")
    var workdir: String?

    func validate() throws {
        if let audit, !(0...1).contains(audit) { throw ValidationError("--audit: \(audit) is not a fraction from 0 to 1") }
        if audit != nil && remote { throw ValidationError("--audit does not apply to --remote") }
    }

    func run() throws {
        // Absolute: links run in each workload's directory and name files under it.
        let work = URL(fileURLWithPath: try workdir ?? newTemporaryDirectory()).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let runner = try Runner(log: work + "/commands.log")
        let tools = try Tools(runner: runner)
        let settings = try settings()
        if remote {
            try runRemote(work: work, runner: runner, tools: tools, settings: settings)
            return
        }
        var results: [WorkloadResult] = []
        for workload in try chosenWorkloads(work: work, runner: runner) {
            let dir = URL(fileURLWithPath: workload.build.directory).deletingLastPathComponent().path
            var bench = WorkloadBench(workload: workload, settings: settings, tools: tools, runner: runner, work: dir)
            results.append(try bench.run())
            // After every workload, so that a long run stopped part way keeps what it measured.
            try write(Summary(results: results, flags: flags, command: CommandLine.arguments.joined(separator: " ")))
        }
        print(Summary(results: results, flags: flags, command: CommandLine.arguments.joined(separator: " ")).markdown())
        if workdir == nil { try? FileManager.default.removeItem(atPath: work) }
    }

    /// `--remote`: every workload through `RemoteBench`, written after each.
    private func runRemote(work: String, runner: Runner, tools: Tools, settings: RunSettings) throws {
        var results: [RemoteResult] = []
        for workload in try chosenWorkloads(work: work, runner: runner) {
            let dir = URL(fileURLWithPath: workload.build.directory).deletingLastPathComponent().path
            var bench = RemoteBench(workload: workload, flags: settings.flags, repeats: settings.repeats, tools: tools, runner: runner, work: dir)
            results.append(try bench.run())
            if let out {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try Data(remoteMarkdown(results, flags: flags).utf8).write(to: URL(fileURLWithPath: out + "/results-remote.md"))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(results).write(to: URL(fileURLWithPath: out + "/remote.json"))
            }
        }
        print(remoteMarkdown(results, flags: flags))
        if workdir == nil { try? FileManager.default.removeItem(atPath: work) }
    }

    private func write(_ summary: Summary) throws {
        guard let out else { return }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data(summary.markdown().utf8).write(to: URL(fileURLWithPath: out + "/results.md"))
        try summary.json().write(to: URL(fileURLWithPath: out + "/summary.json"))
    }

    private func settings() throws -> RunSettings {
        let modes = try keyModes.map { try list($0).map { name in
            guard let m = KeyMode(rawValue: name) else { throw ValidationError("--key-modes: \(name) is not canonical or bytes") }
            return m
        } }
        return RunSettings(flags: words(flags), keyModes: modes, ceiling: ceiling, repeats: repeats ?? (quick ? 1 : 3), audit: audit)
    }

    /// A directory of this run's own under the temporary directory (mkdtemp).
    private func newTemporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "ltod-bench-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else {
            throw BenchError.badRecipe("cannot create a directory under \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func chosenWorkloads(work: String, runner: Runner) throws -> [any Workload] {
        let names = list(workloads ?? (repo == nil ? "synthetic,lua" : "synthetic,lua,replay"))
        let kinds = try list(edits).map { name in
            guard let e = Edit(rawValue: name) else {
                throw ValidationError("--edits: \(name) is not one of \(Edit.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return e
        }
        let n = repeats ?? (quick ? 1 : 3)
        var chosen: [any Workload] = []
        for name in names {
            switch name {
            case "synthetic":
                for size in try list(sizes ?? (quick ? "50" : "50,200,800")).map(number) {
                    chosen.append(SyntheticWorkload(files: size, edits: kinds, repeats: n, directory: "\(work)/synthetic-\(size)/src", runner: runner))
                }
            case "lua":
                chosen.append(LuaWorkload(fixture: lua, kinds: kinds, repeats: n, directory: work + "/lua/src", runner: runner))
            case "replay":
                chosen.append(try replay(work: work, runner: runner))
            default:
                throw ValidationError("--workloads: \(name) is not synthetic, lua or replay")
            }
        }
        return chosen
    }

    private func replay(work: String, runner: Runner) throws -> ReplayWorkload {
        guard let repo else { throw ValidationError("the replay workload needs --repo PATH (a git repository)") }
        let path = URL(fileURLWithPath: repo).standardizedFileURL.path
        let recipe = ReplayRecipe(ref: ref, sources: list(sources), exclude: list(exclude), cflags: words(cflags), libraries: words(libs))
        return ReplayWorkload(repository: path, commits: commits ?? (quick ? 3 : 30), recipe: recipe, directory: work + "/replay/src", runner: runner)
    }

    private func list(_ s: String) -> [String] { s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    private func words(_ s: String) -> [String] { s.split(whereSeparator: \.isWhitespace).map(String.init) }
    private func number(_ s: String) throws -> Int {
        guard let n = Int(s), n > 0 else { throw ValidationError("--sizes: \(s) is not a positive number of files") }
        return n
    }
}
