import Foundation
import SyntheticC

/// Which cache keys a benchmark measures. `canonical` is ltod as configured by default;
/// `bytes` adds a second daemon (own socket and cache) with `LTOD_CANONICAL_KEYS=0`, which
/// keys partitions on their bytes, linked in the same cycles.
enum KeyMode: String, CaseIterable, Sendable {
    case canonical, bytes
}

/// A program to benchmark: its sources on disk, how its objects are built, and the edit
/// cycles to run on it. `setUp` writes the unedited program; `edit` makes one cycle's change.
protocol Workload {
    var name: String { get }
    var build: ObjectBuild { get }
    var libraries: [String] { get }
    /// Edit kinds in order, each with its number of cycles.
    var plan: [(kind: String, cycles: Int)] { get }
    var defaultKeyModes: [KeyMode] { get }
    mutating func setUp() throws
    /// Makes cycle `n` (0-based) of `kind`; returns what changed, for the report.
    mutating func edit(_ kind: String, cycle n: Int) throws -> String
}

/// A program from SyntheticC, edited with its edit kinds; each cycle edits another file.
struct SyntheticWorkload: Workload {
    let spec: ProgramSpec
    let edits: [Edit]
    let repeats: Int
    var build: ObjectBuild
    var program: GeneratedProgram
    private var generations: [String: Int] = [:]

    init(files: Int, edits: [Edit], repeats: Int, directory: String, runner: Runner) {
        spec = ProgramSpec(files: files, functionsPerFile: 8, seed: 42)
        program = SyntheticC.generate(spec)
        self.edits = edits
        self.repeats = repeats
        build = ObjectBuild(directory: directory, sources: program.cFiles, cflags: ["-O2"], runner: runner)
    }

    var name: String { "synthetic-\(spec.files)" }
    var libraries: [String] { [] }
    var plan: [(kind: String, cycles: Int)] { edits.map { ($0.rawValue, repeats) } }
    var defaultKeyModes: [KeyMode] { [.canonical] }

    func setUp() throws { try program.write(to: build.directory) }

    /// Cycle n edits the module file `files/3 + 7n` (common.h for `sharedHeader`), one
    /// generation further than the last edit of this kind to that file.
    mutating func edit(_ kind: String, cycle n: Int) throws -> String {
        guard let edit = Edit(rawValue: kind) else { throw BenchError.badRecipe("unknown edit kind \(kind)") }
        let index = spec.files / 3 + 7 * n
        let file = edit == .sharedHeader ? "common.h" : program.moduleFile(index)
        let generation = generations[kind + file, default: 0] + 1
        generations[kind + file] = generation
        let (edited, changed) = SyntheticC.apply(edit, to: program, file: index, generation: generation)
        try edited.write(changed, to: build.directory)
        program = edited
        return "\(changed.joined(separator: " ")) (generation \(generation))"
    }
}

/// Lua 5.4 from lupa's sdist (Tests/Fixtures/fetch-lua.sh), edited by hand-picked text edits:
/// one file per edit kind, each cycle rewriting that file from its pristine text.
struct LuaWorkload: Workload {
    let fixture: String
    let kinds: [Edit]
    let repeats: Int
    var build: ObjectBuild
    var libraries: [String] = []
    private var pristine: [String: String] = [:]

    init(fixture: String, kinds: [Edit], repeats: Int, directory: String, runner: Runner) {
        self.fixture = fixture
        self.kinds = kinds.filter { Self.edits[$0] != nil }
        self.repeats = repeats
        build = ObjectBuild(directory: directory, sources: [], cflags: [], runner: runner)
    }

    var name: String { "lua-5.4" }
    var plan: [(kind: String, cycles: Int)] { kinds.map { ($0.rawValue, repeats) } }
    var defaultKeyModes: [KeyMode] { [.canonical, .bytes] }

    /// Per edit kind: the file, the text it replaces, and its replacement for generation g.
    static let edits: [Edit: (file: String, anchor: String, replacement: @Sendable (Int) -> String)] = [
        .stringLiteral: ("lauxlib.c", "\"bad argument #%d to '%s' (%s)\"", { g in "\"bad argument #%d to '%s' (%s) [\(g)]\"" }),
        .bodySizeChange: ("lstrlib.c", "static int str_len (lua_State *L) {\n  size_t l;\n", { g in
            "static int str_len (lua_State *L) {\n  size_t l;\n"
                + (1...g).map { "  if (lua_gettop(L) > \(100 + $0)) lua_settop(L, \(100 + $0));\n" }.joined()
        }),
        .newStaticFunction: ("ltablib.c", "static int tinsert (lua_State *L) {\n", { g in
            "static lua_Integer bench_added\(g) (lua_Integer n) {\n  lua_Integer i, s = 0;\n"
                + "  for (i = 0; i < n; i++) s += i ^ \(g);\n  return s;\n}\n\n"
                + "static int tinsert (lua_State *L) {\n  if (lua_gettop(L) > 1000 && bench_added\(g)(lua_gettop(L)) == 0) lua_settop(L, 3);\n"
        }),
        .sharedHeader: ("lua.h", "#define LUA_MINSTACK\t20", { g in "#define LUA_MINSTACK\t\(20 + g)" }),
        .touch: ("lapi.c", "", { _ in "" }),
    ]

    mutating func setUp() throws {
        func lines(_ name: String) throws -> [String] {
            try String(contentsOfFile: fixture + "/" + name, encoding: .utf8).split(whereSeparator: \.isWhitespace).map(String.init)
        }
        guard FileManager.default.fileExists(atPath: fixture + "/src/lua.c") else {
            throw BenchError.badRecipe("no Lua sources in \(fixture): run `bash Tests/Fixtures/fetch-lua.sh \(fixture)` (Benchmarks/run does)")
        }
        let fm = FileManager.default
        try fm.createDirectory(atPath: build.directory, withIntermediateDirectories: true)
        for file in try fm.contentsOfDirectory(atPath: fixture + "/src") {
            try Data(contentsOf: URL(fileURLWithPath: fixture + "/src/" + file)).write(to: URL(fileURLWithPath: build.directory + "/" + file))
        }
        build = ObjectBuild(directory: build.directory, sources: try lines("files.txt"), cflags: ["-O2"] + (try lines("cflags.txt")), runner: build.runner)
        libraries = try lines("libs.txt")
        for (_, e) in Self.edits { pristine[e.file] = try String(contentsOfFile: build.directory + "/" + e.file, encoding: .utf8) }
    }

    func edit(_ kind: String, cycle n: Int) throws -> String {
        guard let edit = Edit(rawValue: kind), let e = Self.edits[edit], let text = pristine[e.file] else {
            throw BenchError.badRecipe("no Lua edit for \(kind)")
        }
        guard e.anchor.isEmpty || text.contains(e.anchor) else {
            throw BenchError.badRecipe("\(e.file) of this Lua no longer contains \(e.anchor.debugDescription); update LuaWorkload.edits")
        }
        let edited = e.anchor.isEmpty ? text : text.replacingOccurrences(of: e.anchor, with: e.replacement(n + 1))
        try Data(edited.utf8).write(to: URL(fileURLWithPath: build.directory + "/" + e.file))
        return "\(e.file) (generation \(n + 1))"
    }
}

/// The last N first-parent commits of a git repository (a merge is one commit), replayed one
/// by one: a local clone is checked out at each commit, make rebuilds what changed, and the
/// program is relinked.
struct ReplayWorkload: Workload {
    let repository: String
    let commits: Int
    let recipe: ReplayRecipe
    var build: ObjectBuild
    private var history: [String] = []

    init(repository: String, commits: Int, recipe: ReplayRecipe, directory: String, runner: Runner) {
        self.repository = repository
        self.commits = commits
        self.recipe = recipe
        build = ObjectBuild(directory: directory, sources: [], cflags: recipe.cflags, runner: runner)
    }

    var name: String { "replay-" + URL(fileURLWithPath: repository).lastPathComponent }
    var libraries: [String] { recipe.libraries }
    var plan: [(kind: String, cycles: Int)] { [("commit", history.count - 1)] }
    var defaultKeyModes: [KeyMode] { [.canonical, .bytes] }

    mutating func setUp() throws {
        let runner = build.runner
        try? FileManager.default.removeItem(atPath: build.directory)
        try runner.timed(["git", "clone", "--quiet", "--no-checkout", repository, build.directory], in: "/")
        let revs = try runner.output(["git", "-C", build.directory, "rev-list", "--first-parent", "-n", "\(commits + 1)", recipe.ref])
        history = revs.split(separator: "\n").map(String.init).reversed()
        guard history.count >= 2 else { throw BenchError.badRecipe("\(repository) has fewer than 2 commits on \(recipe.ref)") }
        try checkout(history[0])
    }

    mutating func edit(_ kind: String, cycle n: Int) throws -> String {
        try checkout(history[n + 1])
        return try build.runner.output(["git", "-C", build.directory, "log", "-1", "--format=%h %s"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private mutating func checkout(_ commit: String) throws {
        try build.runner.timed(["git", "-C", build.directory, "checkout", "--quiet", "--detach", commit], in: "/")
        let files = try build.runner.output(["git", "-C", build.directory, "ls-files"]).split(separator: "\n").map(String.init)
        build.sources = recipe.select(files)
        guard !build.sources.isEmpty else {
            throw BenchError.badRecipe("no .c file of \(commit) matches --sources \(recipe.sources.joined(separator: ",")) minus --exclude")
        }
    }
}

/// How to build a replayed repository: which sources, with which flags, linked with which libraries.
struct ReplayRecipe: Sendable {
    var ref = "HEAD"
    /// Shell-style patterns (fnmatch, `*` stops at `/`) over `git ls-files`; only `.c` files are taken.
    var sources: [String]
    var exclude: [String]
    var cflags: [String]
    var libraries: [String]

    func select(_ files: [String]) -> [String] {
        files.filter { f in
            f.hasSuffix(".c") && sources.contains { fnmatch($0, f, FNM_PATHNAME) == 0 }
                && !exclude.contains { fnmatch($0, f, FNM_PATHNAME) == 0 }
        }
    }
}
