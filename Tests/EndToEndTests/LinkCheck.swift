import Foundation
import LTOTestSupport
import SyntheticC
import Synchronization
import Testing

/// Builds one C program twice, with plain `gcc -flto` and through ltod, with the same
/// flags in the same directory and output name, and checks the binaries are identical.
struct LinkCheck {
    let directory: String
    var compileFlags: [String] = ["-O2"]
    var linkFlags: [String] = ["-O2", "-flto"]
    var objects: [String]
    var libraries: [String] = []
    var output = "app"
    /// What ltod adds to the link (DESIGN.md: `-flto-partition=1to1` unless LTOD_PARTITION=keep);
    /// the plain link gets the same so that both are the same computation.
    var plainExtra: [String] = ["-flto-partition=1to1"]

    init(directory: String, objects: [String]) {
        self.directory = directory
        self.objects = objects
    }

    func compile(_ sources: [String], extra: [String] = []) throws {
        // Two compiler processes at a time: the machine has two cores.
        let half = (sources.count + 1) / 2
        let groups = [Array(sources[..<half]), Array(sources[half...])].filter { !$0.isEmpty }
        let results = Mutex<[Result<Shell.Result, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: groups.count) { i in
            let r = Result { try Shell.run(["gcc", "-flto", "-c"] + compileFlags + extra + groups[i], cwd: directory) }
            results.withLock { $0.append(r) }
        }
        for result in results.withLock({ $0 }) where try result.get().status != 0 {
            Issue.record("compile failed: \(try result.get().stderr)")
            throw TestFailure("compile")
        }
    }

    /// Links with plain gcc; the binary is moved to `<output>.plain`.
    @discardableResult
    func linkPlain() throws -> String {
        try Shell.check(["gcc"] + linkFlags + plainExtra + ["-o", output] + objects + libraries, cwd: directory)
        let plain = directory + "/" + output + ".plain"
        try? FileManager.default.removeItem(atPath: plain)
        try FileManager.default.moveItem(atPath: directory + "/" + output, toPath: plain)
        return plain
    }

    /// Links through ltod (`gcc -B <libexec>`), returning the result for stderr checks.
    @discardableResult
    func linkThroughLtod(_ daemon: Daemon, launcher: Bool = false, env: [String: String] = [:]) throws -> Shell.Result {
        let args = linkFlags + ["-o", output] + objects + libraries
        if launcher {
            return try Shell.check([Products.ltoc, "gcc"] + args, cwd: directory, env: daemon.env.merging(env) { $1 })
        }
        let libexec = try daemon.ltoc("--libexec-dir").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return try Shell.check(["gcc", "-B", libexec + "/"] + args, cwd: directory, env: daemon.env.merging(env) { $1 })
    }

    /// Plain link, ltod link, byte comparison; returns `ltoc explain --json` for the ltod link.
    @discardableResult
    func compareLinks(_ daemon: Daemon, sourceLocation: SourceLocation = #_sourceLocation) throws -> Explain {
        let plain = try linkPlain()
        try linkThroughLtod(daemon)
        let built = directory + "/" + output
        #expect(sameBytes(plain, built), "binary linked through ltod differs from plain gcc's: \(built)", sourceLocation: sourceLocation)
        return try Explain(daemon)
    }

    /// Runs both binaries and checks they print the same and exit 0.
    func runBoth(env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let a = try Shell.run(["./" + output + ".plain"], cwd: directory, env: env)
        let b = try Shell.run(["./" + output], cwd: directory, env: env)
        #expect(a.status == 0 && b.status == 0, "exit \(a.status) / \(b.status): \(b.stderr)", sourceLocation: sourceLocation)
        #expect(a.stdout == b.stdout, sourceLocation: sourceLocation)
        #expect(!b.stdout.isEmpty, sourceLocation: sourceLocation)
    }
}

/// `ltoc explain --json` for the latest link.
struct Explain {
    let total: Int
    let reused: Int
    let rebuilt: Int
    let json: [String: Any]

    init(_ daemon: Daemon, target: String? = nil) throws {
        let out = try daemon.ltoc(["explain", "--json"] + (target.map { [$0] } ?? [])).stdout
        json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] ?? [:]
        let p = json["partitions"] as? [String: Any] ?? [:]
        total = (p["total"] as? Int) ?? -1
        reused = (p["reused"] as? Int) ?? -1
        rebuilt = (p["rebuilt"] as? Int) ?? -1
    }
}


/// A generated program written into a scratch directory, a daemon of its own, and a
/// `LinkCheck` for its objects (not compiled yet: tests set their flags first).
struct ProgramFixture {
    let scratch: TemporaryDirectory
    let daemon: Daemon
    var program: GeneratedProgram
    var check: LinkCheck
    var objects: [String] { program.objects }

    init(_ name: String, spec: ProgramSpec, env: [String: String] = [:]) throws {
        scratch = try TemporaryDirectory(name)
        daemon = try Daemon(in: scratch, extraEnv: env)
        program = SyntheticC.generate(spec)
        let dir = try scratch.sub("src")
        try program.write(to: dir)
        check = LinkCheck(directory: dir, objects: program.objects)
    }

    /// Writes an edited program's changed files and recompiles what they affect (every file
    /// when a header changed).
    mutating func apply(_ edited: GeneratedProgram, changed: [String]) throws {
        try edited.write(changed, to: check.directory)
        let headerChanged = changed.contains { $0.hasSuffix(".h") }
        try check.compile(headerChanged ? edited.cFiles : changed.filter { $0.hasSuffix(".c") })
        program = edited
        check.objects = edited.objects
    }
}

extension GeneratedProgram {
    var objects: [String] { cFiles.map { String($0.dropLast(2)) + ".o" } }
}
