import Foundation

/// Runs programs and times them.
enum Run {
    static func start(_ argv: [String], in dir: String, env: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return p
    }

    static func finish(_ p: Process) throws {
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ValidationErrorText("`\((p.arguments ?? []).joined(separator: " "))` exited \(p.terminationStatus)")
        }
    }

    /// Runs to completion and returns the wall time in seconds.
    static func timed(_ argv: [String], in dir: String, env: [String: String] = [:]) throws -> Double {
        let began = Date()
        try finish(try start(argv, in: dir, env: env))
        return Date().timeIntervalSince(began)
    }

    static func output(_ argv: [String], env: [String: String] = [:]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        try finish(p)
        return String(decoding: data, as: UTF8.self)
    }
}

struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// ltod and ltoc, next to this executable (all built by `swift build`).
struct Tools {
    let ltod: String
    let ltoc: String

    init() throws {
        let dir = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).deletingLastPathComponent().path
        ltod = dir + "/ltod"
        ltoc = dir + "/ltoc"
        for p in [ltod, ltoc] where !FileManager.default.isExecutableFile(atPath: p) {
            throw ValidationErrorText("\(p) not found: build with `swift build -c release` first")
        }
    }

    func libexec() throws -> String {
        try Run.output([ltoc, "--libexec-dir"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A private daemon for this run (its own socket and cache).
    func startDaemon(in work: String) throws -> Daemon {
        let env = ["LTOD_SOCKET": work + "/run/ltod/socket", "LTOD_CACHE_DIR": work + "/cache"]
        _ = try Run.output([ltod, "start"], env: env)
        return Daemon(tools: self, env: env)
    }
}

struct Daemon {
    let tools: Tools
    let env: [String: String]

    func explain() throws -> (total: Int, reused: Int, rebuilt: Int) {
        let json = try Run.output([tools.ltoc, "explain", "--json"], env: env)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let p = object?["partitions"] as? [String: Int] ?? [:]
        return (p["total"] ?? 0, p["reused"] ?? 0, p["rebuilt"] ?? 0)
    }

    func stop() { _ = try? Run.output([tools.ltoc, "shutdown"], env: env) }
}

/// One link, timed, through ltod or with plain gcc, in the same directory with the same flags.
struct Link {
    let directory: String
    let flags: [String]
    let objects: [String]
    let libexec: String
    let daemon: Daemon

    func throughLtod() throws -> Double {
        try Run.timed(["gcc", "-B", libexec + "/"] + flags + ["-o", "app"] + objects, in: directory, env: daemon.env)
    }

    func plain() throws -> Double {
        try Run.timed(["gcc"] + flags + ["-o", "app.plain"] + objects, in: directory)
    }

    /// ltod adds -flto-partition=1to1; a plain link with it must give the same bytes.
    func identicalToPlain1to1() throws -> Bool {
        try Run.finish(try Run.start(["gcc"] + flags + ["-flto-partition=1to1", "-o", "app.1to1"] + objects, in: directory))
        let a = FileManager.default.contents(atPath: directory + "/app")
        let b = FileManager.default.contents(atPath: directory + "/app.1to1")
        return a != nil && a == b
    }
}
