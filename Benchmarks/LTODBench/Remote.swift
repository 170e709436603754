// ltod-bench: `run --remote`: the shared cache tier, measured side by side in one run. Two
// daemons with separate local caches share one Redis server the benchmark starts on a Unix
// socket: the first links each program cold, relinks it with nothing changed (WPA runs,
// every partition hits locally, the whole-link answer turned off), then stops, sending its
// pending writes; then fresh second daemons link it cold, from the remote tier. The goal:
// the second daemon's cold link takes at most 1.2 times the relink plus the time to
// transfer the objects, with at least 95% of the partitions from the remote tier and a
// binary identical to plain gcc's.
import Foundation
import LTOSystem

/// What `--remote` measured on one workload. Times in seconds.
struct RemoteResult: Codable, Sendable {
    var name: String
    var partitions: Int
    var coldFirst: Double
    /// The first daemon's relinks with nothing changed and the whole-link answer off.
    var relink: [Double]
    /// Fetching every entry the first daemon stored, one GET after another (redis-cli).
    var transfer: [Double]
    var entries: Int
    var entryBytes: Int
    /// Each second daemon's cold link, its remote hits and the mean latency of a hit.
    var coldSecond: [Double]
    var remoteHits: [Int]
    var meanHitMilliseconds: [Double]

    /// Second daemon's cold link over (relink + transfer), medians.
    var ratio: Double {
        (median(coldSecond) ?? 0) / max(1e-9, (median(relink) ?? 0) + (median(transfer) ?? 0))
    }
    var remoteShare: Double { fraction(remoteHits.min() ?? 0, partitions) }
    var met: Bool { ratio <= RemoteBench.goalRatio && remoteShare >= RemoteBench.goalShare }
}

/// Runs `--remote` on one workload.
struct RemoteBench {
    var workload: any Workload
    let flags: [String]
    let repeats: Int
    let tools: Tools
    let runner: Runner
    let work: String

    static let goalRatio = 1.2
    static let goalShare = 0.95
    /// Turns the whole-link answer off, so that the relink runs WPA and answers every
    /// partition from the local cache: the baseline the goal names.
    static let noWholeLink = ["LTOD_WHOLE_LINK": "0"]

    mutating func run() throws -> RemoteResult {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let redis = try RedisProcess(directory: work + "/redis", runner: runner)
        defer { redis.stop() }
        let remote = ["LTOD_REMOTE_STORAGE": "redis+unix://" + redis.socket].merging(Self.noWholeLink) { $1 }
        try workload.setUp()
        progress("\(workload.name) (remote): compiling \(workload.build.sources.count) files")
        try workload.build.compile()
        let linker = Linker(directory: workload.build.directory, flags: flags, objects: workload.build.objects,
                            libraries: workload.libraries, libexec: tools.libexec, runner: runner)
        _ = try linker.plain(output: "app.1to1", extra: [Linker.ltodPartitioning])

        let first = try tools.startDaemon(in: work + "/daemon-first", extraEnv: remote, runner: runner)
        let coldFirst = try linker.throughLtod(first, output: "app.ltod")
        try linker.requireIdentical("app.ltod", "app.1to1", workload: workload.name, cycle: "remote: first daemon, cold")
        let partitions = try first.explain().total
        var relink: [Double] = []
        for n in 0..<repeats {
            relink.append(try linker.throughLtod(first, output: "app.ltod"))
            try linker.requireIdentical("app.ltod", "app.1to1", workload: workload.name, cycle: "remote: relink #\(n + 1)")
        }
        try first.stopAndWait()
        let keys = try redis.ltodKeys()
        let transfer = try (0..<repeats).map { _ in try redis.timeGettingEach(keys) }

        var result = RemoteResult(name: workload.name, partitions: partitions, coldFirst: coldFirst, relink: relink, transfer: transfer,
                                  entries: keys.count, entryBytes: try redis.bytes(of: keys), coldSecond: [], remoteHits: [],
                                  meanHitMilliseconds: [])
        for n in 0..<repeats {
            let second = try tools.startDaemon(in: work + "/daemon-second-\(n)", extraEnv: remote, runner: runner)
            defer { second.stop() }
            result.coldSecond.append(try linker.throughLtod(second, output: "app.ltod"))
            try linker.requireIdentical("app.ltod", "app.1to1", workload: workload.name, cycle: "remote: second daemon #\(n + 1), cold")
            result.remoteHits.append(Int(try second.stat("remote", "hits")))
            result.meanHitMilliseconds.append(try second.stat("remote", "mean_hit_seconds") * 1000)
        }
        progress(String(format: "%@ (remote): relink %.2f s + transfer %.2f s, second daemon cold %.2f s (%.2fx), %d of %d partitions remote",
                        workload.name, median(relink) ?? 0, median(transfer) ?? 0, median(result.coldSecond) ?? 0, result.ratio,
                        result.remoteHits.min() ?? 0, partitions))
        return result
    }
}

/// The `--remote` results as Markdown.
func remoteMarkdown(_ results: [RemoteResult], flags: String) -> String {
    func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |\n" }
    func secs(_ values: [Double]) -> String { String(format: "%.2f s", median(values) ?? 0) }
    var out = "## Remote tier (flags: `\(flags)`)\n\n"
    out += "Two daemons with separate local caches share one Redis (Unix socket). Medians over the repeats.\n"
    out += "\"relink\": the first daemon relinks with nothing changed, whole-link answer off (WPA runs, every partition\n"
    out += "hits locally). \"transfer\": one client GETs every entry the first daemon stored, one after another.\n"
    out += "\"second cold\": a fresh daemon (empty local cache) links cold from the remote tier; each binary is\n"
    out += "checked byte for byte against plain `gcc -flto-partition=1to1`.\n\n"
    out += row(["workload", "partitions", "first cold", "relink", "transfer (entries, MB)", "second cold", "second / (relink + transfer)",
                "from remote", "mean remote hit", "goal met"])
    out += row(Array(repeating: "---", count: 10))
    for r in results {
        out += row([r.name, "\(r.partitions)", String(format: "%.2f s", r.coldFirst), secs(r.relink),
                    secs(r.transfer) + String(format: " (%d, %.1f)", r.entries, Double(r.entryBytes) / 1_048_576),
                    secs(r.coldSecond), String(format: "%.2f (goal ≤ %.1f)", r.ratio, RemoteBench.goalRatio),
                    String(format: "%.1f%% (goal ≥ %.0f%%)", r.remoteShare * 100, RemoteBench.goalShare * 100),
                    String(format: "%.2f ms", median(r.meanHitMilliseconds) ?? 0), r.met ? "yes" : "**no**"])
    }
    return out
}

/// A `redis-server` for the benchmark, on a Unix socket in its own directory, without persistence.
struct RedisProcess {
    let socket: String
    let pid: pid_t
    let runner: Runner

    init(directory: String, runner: Runner) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socket = directory + "/redis.sock"
        self.runner = runner
        var command = Command(executable: "redis-server", argv: [
            "redis-server", "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
            "--dir", directory, "--logfile", directory + "/redis.log",
        ])
        command.stdin = .null
        command.stdout = .null
        pid = try spawn(command)
        for _ in 0..<500 {
            if (try? runner.output(["redis-cli", "-s", socket, "PING"]))?.hasPrefix("PONG") == true { return }
            usleep(10_000)
        }
        throw BenchError.badRecipe("redis-server did not answer on \(socket); see \(directory)/redis.log (Benchmarks/run installs redis-server)")
    }

    func stop() {
        kill(pid, SIGTERM)
        _ = LTOSystem.wait(for: pid)
    }

    func ltodKeys() throws -> [String] {
        try runner.output(["redis-cli", "-s", socket, "--scan", "--pattern", "ltod:*"]).split(separator: "\n").map(String.init)
    }

    /// Wall time of one client fetching every key, one GET after another, the replies thrown away.
    func timeGettingEach(_ keys: [String]) throws -> Double {
        let commands = NSTemporaryDirectory() + "ltod-bench-gets-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: commands) }
        try Data(keys.map { "GET \($0)\n" }.joined().utf8).write(to: URL(fileURLWithPath: commands))
        return try runner.timed(["bash", "-c", "redis-cli -s \(shellQuoted(socket)) < \(shellQuoted(commands)) > /dev/null"], in: "/")
    }

    func bytes(of keys: [String]) throws -> Int {
        try keys.reduce(0) { sum, key in sum + (Int(try runner.output(["redis-cli", "-s", socket, "STRLEN", key]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) }
    }
}
