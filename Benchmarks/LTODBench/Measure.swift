import Foundation
import LTOConfig
import LTOSystem
import LTOWire
import SyntheticC

/// What one link cycle measured. Times in seconds; `nil` when that measurement was off.
struct CycleResult: Codable, Sendable {
    var workload: String
    var kind: String
    var cycle: Int
    var label: String
    var compile: Double
    var plain: Double
    var plain1to1: Double
    var ltod: Double
    var ltodBytes: Double?
    var partitions: Int
    var rebuilt: Int
    var reusedCanonical: Int?
    var rebuiltBytes: Int?
    /// LTRANS outputs of plain `1to1` not byte-identical to any of the previous cycle's.
    var ltransChanged: Int?
    /// Objects new, removed or changed by this cycle's compile (`ObjectChangeTracker`).
    var objectsChanged = 0
    var wpa: Double
    /// Plain `1to1` without `-save-temps`, when `plain1to1` had it (cold and shared-header
    /// cycles with the ceiling measured): what the 1to1 goals compare with.
    var plain1to1Clean: Double?
    /// The machine's load average over the last minute when the cycle began.
    var load: Double?

    var ratio: Double { ltod / plain }
    /// ltod over plain `1to1` with the same flags, without `-save-temps`.
    var ratio1to1: Double { ltod / (plain1to1Clean ?? plain1to1) }
}

/// Everything measured on one workload.
struct WorkloadResult: Codable, Sendable {
    var name: String
    var sources: Int
    var programBytes: Int
    var cycles: [CycleResult] = []
    /// The final link alone (gcc on the LTRANS objects, no LTO), repeated.
    var finalLink: [Double] = []
    /// The LTO link with nothing to compile (`Linker.ltoFloor`), repeated.
    var ltoFloor: [Double] = []
    /// One LTRANS request answered from the cache, end to end through ltoc, in ms.
    var hitMilliseconds: [Double] = []
    /// Starting ltoc for a command that does not reach the daemon, in ms.
    var shimStartMilliseconds: [Double] = []
    var peakRSS = 0
    var peakRSSBytesKey: Int?
    var cacheBytes = 0
    /// No-op relinks through a daemon with the whole-link answer off (`LTOD_WHOLE_LINK=0`,
    /// the same cache): WPA runs and every partition hits.
    var noopWithoutWholeLink: [Double] = []
    /// WPA's time in each of them.
    var noopWithoutWholeLinkWPA: [Double] = []
    /// The audit's counters, when the daemons ran with `--audit`.
    var audit: AuditCounts?
}

/// What ltod's audit did in one workload: `ltrans.audit_runs` and `ltrans.audit_mismatches`
/// of the canonical-key daemon, run with `LTOD_AUDIT=fraction`.
struct AuditCounts: Codable, Sendable {
    var fraction: Double
    var runs: Int
    var mismatches: Int
}

/// Settings shared by every workload of a run.
struct RunSettings: Sendable {
    var flags: [String]
    var keyModes: [KeyMode]?
    var ceiling: Bool
    var repeats: Int
    /// The daemons' audit fraction (`LTOD_AUDIT`); nil leaves their default.
    var audit: Double?
    var hitSamples = 20

    /// The environment that sets the audit fraction, `LTOD_AUDIT_LOCATIONS` too.
    var daemonEnvironment: [String: String] {
        guard let audit else { return [:] }
        return ["LTOD_AUDIT": "\(audit)", "LTOD_AUDIT_LOCATIONS": "\(audit)"]
    }
}

/// Runs one workload: cold link, no-op relinks, then every edit cycle, each through ltod
/// (and the bytes-key daemon) and plain gcc, checking the binaries byte for byte.
struct WorkloadBench {
    var workload: any Workload
    let settings: RunSettings
    let tools: Tools
    let runner: Runner
    let work: String
    private var tracker = LTRANSOutputTracker()
    private var objects = ObjectChangeTracker()

    init(workload: any Workload, settings: RunSettings, tools: Tools, runner: Runner, work: String) {
        self.workload = workload
        self.settings = settings
        self.tools = tools
        self.runner = runner
        self.work = work
    }

    mutating func run() throws -> WorkloadResult {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let modes = settings.keyModes ?? workload.defaultKeyModes
        let env = settings.daemonEnvironment
        let main = try tools.startDaemon(in: work + "/daemon-canonical", extraEnv: env, runner: runner)
        defer { main.stop() }
        let bytes = modes.contains(.bytes)
            ? try tools.startDaemon(in: work + "/daemon-bytes", extraEnv: env.merging(["LTOD_CANONICAL_KEYS": "0"]) { $1 }, runner: runner) : nil
        defer { bytes?.stop() }

        try workload.setUp()
        progress("\(workload.name): compiling \(workload.build.sources.count) files")
        var result = WorkloadResult(name: workload.name, sources: workload.build.sources.count, programBytes: 0)
        let cold = try cycle(kind: "cold", n: 0, label: "cold link", main: main, bytes: bytes)
        result.cycles.append(cold)
        try baseline(into: &result, main: main)
        for n in 0..<settings.repeats {
            result.cycles.append(try cycle(kind: "noop", n: n, label: "no change", main: main, bytes: bytes))
        }
        try noopsWithoutWholeLink(into: &result, cache: work + "/daemon-canonical/cache")
        for (kind, count) in workload.plan {
            for n in 0..<count {
                let label = try workload.edit(kind, cycle: n)
                result.cycles.append(try cycle(kind: kind, n: n, label: label, main: main, bytes: bytes))
            }
        }
        for n in 1..<max(1, settings.repeats) { result.cycles.append(try coldAgain(n)) }
        result.peakRSS = try main.peakRSS()
        result.peakRSSBytesKey = try bytes?.peakRSS()
        result.cacheBytes = try main.cacheBytes()
        if let fraction = settings.audit {
            progress("\(workload.name): waiting for the audits to end")
            let (runs, mismatches) = try main.auditCounts()
            result.audit = AuditCounts(fraction: fraction, runs: runs, mismatches: mismatches)
        }
        return result
    }

    /// After the cold link: the final link alone, one cache hit, the shim's start, the program's size.
    private mutating func baseline(into result: inout WorkloadResult, main: Daemon) throws {
        let linker = makeLinker()
        let ltrans = try linker.ltransOutputs()
        for _ in 0..<settings.repeats {
            result.finalLink.append(try linker.finalLinkOnly(ltrans))
            result.ltoFloor.append(try linker.ltoFloor(ltrans, scratch: work + "/floor"))
        }
        result.programBytes = (try FileManager.default.attributesOfItem(atPath: workload.build.directory + "/app.ltod")[.size] as? Int) ?? 0
        let hits = HitProbe(tools: tools, runner: runner, daemon: main, linker: linker, flags: settings.flags)
        result.hitMilliseconds = try hits.hits(settings.hitSamples)
        result.shimStartMilliseconds = try hits.shimStarts(settings.hitSamples)
    }

    /// No-op relinks through a second daemon on the same cache with whole-link answers off,
    /// after one link that fills its memory of the inputs (as a running daemon's is).
    private mutating func noopsWithoutWholeLink(into result: inout WorkloadResult, cache: String) throws {
        let partial = try tools.startDaemon(in: work + "/daemon-partial", extraEnv: ["LTOD_WHOLE_LINK": "0", "LTOD_CACHE_DIR": cache],
                                            runner: runner)
        defer { partial.stop() }
        let linker = makeLinker()
        for n in 0...settings.repeats {
            let seconds = try linker.throughLtod(partial, output: "app.ltod")
            let explained = try partial.explain()
            guard explained.rebuilt == 0, explained.reused == explained.total else {
                throw BenchError.badDaemonReply("a no-op relink with whole-link answers off rebuilt \(explained.rebuilt) of \(explained.total)")
            }
            if n > 0 {
                result.noopWithoutWholeLink.append(seconds)
                result.noopWithoutWholeLinkWPA.append(explained.wpaSeconds)
            }
        }
        try linker.requireIdentical("app.ltod", Linker.savedTemps, workload: workload.name, cycle: "no-op without whole-link answers")
        progress(String(format: "%@ no-op without whole-link answers: median %.2f s, WPA %.2f s", workload.name,
                        median(result.noopWithoutWholeLink) ?? 0, median(result.noopWithoutWholeLinkWPA) ?? 0))
    }

    /// Another cold link: a fresh daemon and cache, beside plain gcc with and without `1to1`.
    private func coldAgain(_ n: Int) throws -> CycleResult {
        let linker = makeLinker()
        let load = loadAverage()
        let dir = work + "/daemon-cold-\(n)"
        let fresh = try tools.startDaemon(in: dir, runner: runner)
        let ltod: Double
        do {
            defer {
                fresh.stop()
                try? FileManager.default.removeItem(atPath: dir)
            }
            ltod = try linker.throughLtod(fresh, output: "app.ltod")
        }
        var r = CycleResult(workload: workload.name, kind: "cold", cycle: n, label: "cold link (fresh cache)", compile: 0,
                            plain: try linker.plain(output: "app.plain"), plain1to1: 0, ltod: ltod, partitions: 0, rebuilt: 0, wpa: 0)
        r.plain1to1 = try linker.plain(output: "app.1to1", extra: [Linker.ltodPartitioning])
        r.load = load
        try linker.requireIdentical("app.ltod", "app.1to1", workload: workload.name, cycle: "cold #\(n + 1)")
        progress(String(format: "%@ cold #%d: plain 1to1 %.2f s, ltod %.2f s", workload.name, n + 1, r.plain1to1, r.ltod))
        return r
    }

    private func makeLinker() -> Linker {
        Linker(directory: workload.build.directory, flags: settings.flags, objects: workload.build.objects,
               libraries: workload.libraries, libexec: tools.libexec, runner: runner)
    }

    private mutating func cycle(kind: String, n: Int, label: String, main: Daemon, bytes: Daemon?) throws -> CycleResult {
        let load = loadAverage()
        let compile = try workload.build.compile()
        let changedObjects = try objects.changed(workload.build.objects.map { workload.build.directory + "/" + $0 })
        let linker = makeLinker()
        let ltod = try linker.throughLtod(main, output: "app.ltod")
        let explained = try main.explain()
        var r = CycleResult(workload: workload.name, kind: kind, cycle: n, label: label, compile: compile, plain: 0, plain1to1: 0,
                            ltod: ltod, partitions: explained.total, rebuilt: explained.rebuilt,
                            reusedCanonical: explained.reusedCanonical, objectsChanged: changedObjects, wpa: explained.wpaSeconds)
        r.load = load
        if let bytes {
            r.ltodBytes = try linker.throughLtod(bytes, output: "app.ltod-bytes")
            r.rebuiltBytes = try bytes.explain().rebuilt
        }
        r.plain = try linker.plain(output: "app.plain")
        // The plain 1to1 link: with -save-temps when its LTRANS objects are needed (the
        // ceiling; the cold link's for the final-link and cache-hit probes).
        let reference: String
        if settings.ceiling || kind == "cold" {
            let saved = try linker.savingTemps()
            (r.plain1to1, reference) = (saved.seconds, Linker.savedTemps)
            let changed = try tracker.changed(saved.ltrans)
            if settings.ceiling { r.ltransChanged = changed }
            if kind == "cold" || kind == Edit.sharedHeader.rawValue {
                r.plain1to1Clean = try linker.plain(output: "app.1to1", extra: [Linker.ltodPartitioning])
            }
        } else {
            (r.plain1to1, reference) = (try linker.plain(output: "app.1to1", extra: [Linker.ltodPartitioning]), "app.1to1")
        }
        let name = "\(kind) #\(n + 1) (\(label))"
        try linker.requireIdentical("app.ltod", reference, workload: workload.name, cycle: name)
        if bytes != nil { try linker.requireIdentical("app.ltod-bytes", reference, workload: workload.name, cycle: name) }
        progress(String(format: "%@ %@: plain %.2f s, ltod %.2f s, rebuilt %d of %d, floor %@, objects changed %d", workload.name, name,
                        r.plain, r.ltod, r.rebuilt, r.partitions, r.ltransChanged.map(String.init) ?? "-", r.objectsChanged))
        return r
    }
}

/// Counts LTRANS outputs that are new: not byte-identical to any output of the previous
/// link (a multiset match, so renumbered partitions still count as unchanged).
struct LTRANSOutputTracker {
    private var previous: [Data: Int] = [:]

    mutating func changed(_ paths: [String]) throws -> Int {
        var remaining = previous
        var current: [Data: Int] = [:]
        var changed = 0
        for path in paths {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            current[bytes, default: 0] += 1
            if let left = remaining[bytes], left > 0 { remaining[bytes] = left - 1 } else { changed += 1 }
        }
        previous = current
        return changed
    }
}

/// Times one LTRANS request answered from the cache: ltoc in driver mode, as lto-wrapper
/// runs it, on a partition file WPA wrote (kept by the `-save-temps` link).
struct HitProbe {
    let tools: Tools
    let runner: Runner
    let daemon: Daemon
    let linker: Linker
    let flags: [String]

    /// The first request builds the entry (a miss); the next `samples` are hits. In ms.
    /// The requests belong to a link session opened here, as lto-wrapper's would: the
    /// daemon answers driver requests only inside sessions it opened.
    func hits(_ samples: Int) throws -> [Double] {
        let partition = try medianPartition()
        let output = linker.directory + "/hit-probe.o"
        let argv = [tools.ltoc, "-xlto", "-c"] + flags.filter { !$0.hasPrefix("-flto") }
            + [Linker.ltodPartitioning, "-fltrans", "-o", output, partition]
        guard let path = daemon.env["LTOD_SOCKET"] else { throw BenchError.badRecipe("the daemon has no socket") }
        let socket = try FrameSocket.connect(to: path)
        guard case .hello = try socket.request(.hello(version: Protocol.version)),
              case .session(let id, _) = try socket.request(.openSession(Invocation(
                  argv: ["lto-wrapper"], cwd: linker.directory, environment: ["COLLECT_GCC_OPTIONS='-o' 'hit-probe'"])))
        else { throw BenchError.badRecipe("the daemon did not open a session for the hit probe") }
        defer { _ = try? socket.request(.closeSession(id: id, exitStatus: 0, printed: [], messages: nil)) }
        let env = daemon.env.merging([ShimEnvironment.driver: "gcc", ShimEnvironment.session: id]) { $1 }
        try runner.timed(argv, in: linker.directory, env: env)
        return try (0..<samples).map { _ in try runner.timed(argv, in: linker.directory, env: env) * 1000 }
    }

    /// `ltoc --libexec-dir`: the cost of starting the shim, without the daemon. In ms.
    func shimStarts(_ samples: Int) throws -> [Double] {
        try (0..<samples).map { _ in try runner.timed([tools.ltoc, "--libexec-dir"], in: "/") * 1000 }
    }

    /// The WPA output `app.st.ltransN.o` of median size.
    private func medianPartition() throws -> String {
        let sized = try linker.ltransOutputs().map { String($0.dropLast(".ltrans.o".count)) + ".o" }.map { path in
            (path, (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
        guard !sized.isEmpty else { throw BenchError.badRecipe("the -save-temps link left no partition files") }
        return sized.sorted { $0.1 < $1.1 }[sized.count / 2].0
    }
}

/// The load average over the last minute (`/proc/loadavg`); nil where there is none.
func loadAverage() -> Double? {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.flatMap { Double($0) }
}

/// One line on stderr, so stdout keeps only the report.
func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
