import Foundation
import LTOSystem

/// Why a benchmark stopped, phrased so the reader knows what to do next.
enum BenchError: Error, CustomStringConvertible {
    case commandFailed(command: String, status: Int32, log: String)
    case missingTool(String)
    case binaryMismatch(workload: String, cycle: String, ltod: String, plain: String)
    case badDaemonReply(String)
    case badRecipe(String)

    var description: String {
        switch self {
        case .commandFailed(let command, let status, let log):
            return "`\(command)` exited \(status); its stderr is at the end of \(log)"
        case .missingTool(let path):
            return "\(path) not found: build with `swift build -c release` first (Benchmarks/run does)"
        case .binaryMismatch(let workload, let cycle, let ltod, let plain):
            return """
                WRONG BINARY: \(workload), \(cycle): \(ltod) (linked through ltod) differs from \(plain) \
                (plain gcc, same flags, -flto-partition=1to1). This is a correctness bug in ltod; both files are \
                kept for inspection (cmp -l \(ltod) \(plain)).
                """
        case .badDaemonReply(let what):
            return "ltod's answer could not be read: \(what)"
        case .badRecipe(let what):
            return what
        }
    }
}

/// Runs programs (posix_spawn through LTOProcess, whose wait returns the moment the child
/// ends), times them, and appends their stderr to one log file.
struct Runner: Sendable {
    /// Every command's stderr goes here, so a failure can be diagnosed after the run.
    let log: String
    private let logDescriptor: Int32

    init(log: String) throws {
        self.log = log
        logDescriptor = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard logDescriptor >= 0 else { throw BenchError.badRecipe("cannot create \(log): \(String(cString: strerror(errno)))") }
    }

    /// Runs `argv` (looked up in PATH) in `dir` to completion; returns its wall time in seconds.
    @discardableResult
    func timed(_ argv: [String], in dir: String, env: [String: String] = [:]) throws -> Double {
        let began = ContinuousClock.now
        try check(LTOSystem.run(command(argv, in: dir, env: env, stdout: .null)), argv)
        return (ContinuousClock.now - began).seconds
    }

    /// Runs to completion and returns its standard output.
    func output(_ argv: [String], in dir: String = "/", env: [String: String] = [:]) throws -> String {
        let file = NSTemporaryDirectory() + "ltod-bench-out-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try check(LTOSystem.run(command(argv, in: dir, env: env, stdout: .file(file))), argv)
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    private func command(_ argv: [String], in dir: String, env: [String: String], stdout: Redirect) -> Command {
        let environment = ProcessInfo.processInfo.environment.merging(env) { $1 }.map { "\($0.key)=\($0.value)" }
        var c = Command(executable: argv[0], argv: argv, environment: environment, directory: dir)
        c.stdin = .null
        c.stdout = stdout
        c.stderr = .descriptor(logDescriptor)
        return c
    }

    private func check(_ status: ExitStatus, _ argv: [String]) throws {
        guard status.succeeded else {
            throw BenchError.commandFailed(command: argv.joined(separator: " "), status: status.code, log: log)
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// ltod and ltoc, next to this executable (all built by `swift build -c release`).
struct Tools: Sendable {
    let ltod: String
    let ltoc: String
    let libexec: String

    init(runner: Runner) throws {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let dir = URL(fileURLWithPath: exe).deletingLastPathComponent().path
        ltod = dir + "/ltod"
        ltoc = dir + "/ltoc"
        for p in [ltod, ltoc] where !FileManager.default.isExecutableFile(atPath: p) { throw BenchError.missingTool(p) }
        libexec = try runner.output([ltoc, "--libexec-dir"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A private daemon (its own socket, cache and an absent config file), started now.
    func startDaemon(in dir: String, extraEnv: [String: String] = [:], runner: Runner) throws -> Daemon {
        let env = ["LTOD_SOCKET": dir + "/run/socket", "LTOD_CACHE_DIR": dir + "/cache",
                   "LTOD_CONFIG": dir + "/no-config.toml"].merging(extraEnv) { $1 }
        _ = try runner.output([ltod, "start"], env: env)
        return Daemon(ltoc: ltoc, env: env, runner: runner)
    }
}

/// What `ltoc explain --json` says about the last link.
struct Explanation: Sendable {
    var total = 0
    var reused = 0
    var rebuilt = 0
    /// Partitions reused only thanks to canonical keys; nil when this ltod does not report it.
    var reusedCanonical: Int?
    var wpaSeconds = 0.0
}

/// A daemon started for one benchmark, reached through `ltoc` with its environment.
struct Daemon: Sendable {
    let ltoc: String
    let env: [String: String]
    let runner: Runner

    func explain() throws -> Explanation {
        let object = try json([ltoc, "explain", "--json"])
        guard let p = object["partitions"] as? [String: Any] else { throw BenchError.badDaemonReply("explain --json has no partitions") }
        return Explanation(total: p["total"] as? Int ?? 0, reused: p["reused"] as? Int ?? 0, rebuilt: p["rebuilt"] as? Int ?? 0,
                           reusedCanonical: p["reused_canonical"] as? Int, wpaSeconds: object["wpa_seconds"] as? Double ?? 0)
    }

    /// `cache.bytes` of `ltoc stats --json`.
    func cacheBytes() throws -> Int {
        let cache = try json([ltoc, "stats", "--json"])["cache"] as? [String: Any]
        guard let bytes = cache?["bytes"] as? Int else { throw BenchError.badDaemonReply("stats --json has no cache.bytes") }
        return bytes
    }

    /// The daemon's peak resident set (VmHWM of /proc/PID/status), in bytes.
    func peakRSS() throws -> Int {
        let status = try runner.output([ltoc, "status"], env: env)
        guard let pid = field("pid", in: status),
              let proc = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let kib = field("VmHWM:", in: proc).flatMap({ Int($0) })
        else { throw BenchError.badDaemonReply("no pid or VmHWM for the daemon in `ltoc status`:\n\(status)") }
        return kib * 1024
    }

    func stop() { _ = try? runner.output([ltoc, "shutdown"], env: env) }

    /// Stops the daemon and waits for its process to exit (it sends its pending remote writes first).
    func stopAndWait() throws {
        let status = try runner.output([ltoc, "status"], env: env)
        guard let pid = field("pid", in: status).flatMap({ pid_t($0) }) else { throw BenchError.badDaemonReply("no pid in `ltoc status`") }
        stop()
        let deadline = Date().addingTimeInterval(120)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(10_000) }
    }

    /// `ltrans.audit_runs` and `ltrans.audit_mismatches` once every audit the daemon sampled has
    /// ended: an audit keeps its evidence in `<cache>/audit/` while it runs, and afterwards only
    /// after a mismatch. Throws when audits are still running after `timeout`.
    func auditCounts(timeout: Duration = .seconds(900)) throws -> (runs: Int, mismatches: Int) {
        let evidence = (env["LTOD_CACHE_DIR"] ?? "") + "/audit"
        let deadline = ContinuousClock.now + timeout
        while true {
            let kept = (try? FileManager.default.contentsOfDirectory(atPath: evidence).count) ?? 0
            let mismatches = Int(try stat("ltrans", "audit_mismatches"))
            if kept <= mismatches { return (Int(try stat("ltrans", "audit_runs")), mismatches) }
            guard ContinuousClock.now < deadline else {
                throw BenchError.badDaemonReply("\(kept - mismatches) audits still running in \(evidence) after \(timeout)")
            }
            usleep(200_000)
        }
    }

    /// One number of `ltoc stats --json`: `group.name`; 0 when it is null.
    func stat(_ group: String, _ name: String) throws -> Double {
        guard let groupValues = try json([ltoc, "stats", "--json"])[group] as? [String: Any] else {
            throw BenchError.badDaemonReply("stats --json has no \(group)")
        }
        return (groupValues[name] as? NSNumber)?.doubleValue ?? 0
    }

    private func json(_ argv: [String]) throws -> [String: Any] {
        let text = try runner.output(argv, env: env)
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw BenchError.badDaemonReply("`\(argv.joined(separator: " "))` printed no JSON object")
        }
        return object
    }

    /// The first word after `name` on the line that starts with it.
    private func field(_ name: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: \.isWhitespace)
            if words.count >= 2, words[0] == name { return String(words[1]) }
        }
        return nil
    }
}
