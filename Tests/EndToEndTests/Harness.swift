import Foundation
import Testing

/// Runs programs for the end-to-end tests: the real gcc, the real ltod and ltoc.
enum Shell {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs a program to completion. Output goes through temporary files, so the wait is for
    /// the child alone (a daemon it starts may keep descriptors open), and a child that runs
    /// longer than `timeout` seconds is killed and reported, so a hang fails a test, not CI.
    @discardableResult
    static func run(_ argv: [String], cwd: String, env: [String: String] = [:], timeout: Double = 300) throws -> Result {
        let base = NSTemporaryDirectory() + "ltod-shell-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: base + ".out", contents: nil),
              FileManager.default.createFile(atPath: base + ".err", contents: nil) else { throw HarnessError.failed("cannot create \(base)") }
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        p.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        p.standardError = FileHandle(forWritingAtPath: base + ".err")
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(2_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            Issue.record("`\(argv.joined(separator: " "))` did not finish within \(Int(timeout)) s; killed")
        }
        p.waitUntilExit()
        let read = { (path: String) in String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        return Result(status: p.terminationStatus, stdout: read(base + ".out"), stderr: read(base + ".err"))
    }

    /// Runs and requires exit status 0, recording the output otherwise.
    @discardableResult
    static func check(_ argv: [String], cwd: String, env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let r = try run(argv, cwd: cwd, env: env)
        if r.status != 0 {
            Issue.record("`\(argv.joined(separator: " "))` exited \(r.status)\n\(r.stderr)", sourceLocation: sourceLocation)
            throw HarnessError.failed(argv.joined(separator: " "))
        }
        return r
    }
}

enum HarnessError: Error { case failed(String), missing(String) }

/// The built ltod and ltoc, next to the test bundle in the build products directory.
enum Products {
    static let directory: String = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: dir.appendingPathComponent("ltod").path) {
            dir = dir.deletingLastPathComponent()
        }
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("ltod").path) {
            let bundle = Bundle.allBundles.map(\.bundleURL).first { $0.pathExtension == "xctest" }
            dir = bundle?.deletingLastPathComponent() ?? dir
        }
        return dir.path
    }()

    static var ltod: String { directory + "/ltod" }
    static var ltoc: String { directory + "/ltoc" }

    /// `ltoc --libexec-dir`: the directory for `gcc -B`.
    static func libexec() throws -> String {
        try Shell.check([ltoc, "--libexec-dir"], cwd: "/").stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/"
    }

    static func require() throws {
        for p in [ltod, ltoc] where !FileManager.default.isExecutableFile(atPath: p) {
            Issue.record("\(p) is missing: run `swift build` before `swift test`")
            throw HarnessError.missing(p)
        }
    }
}

/// A scratch directory removed at the end of a test.
final class Scratch {
    let path: String

    init(_ name: String) throws {
        path = NSTemporaryDirectory() + "ltod-e2e-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func sub(_ name: String) throws -> String {
        let p = path + "/" + name
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}

/// A real `ltod serve` on a private socket and cache directory.
final class Daemon {
    let socket: String
    let cache: String
    let process = Process()
    var env: [String: String] { ["LTOD_SOCKET": socket, "LTOD_CACHE_DIR": cache] }

    init(in scratch: Scratch, extraEnv: [String: String] = [:]) throws {
        try Products.require()
        socket = try scratch.sub("run") + "/ltod/socket"
        cache = scratch.path + "/cache"
        process.executableURL = URL(fileURLWithPath: Products.ltod)
        process.arguments = ["serve"]
        process.environment = ProcessInfo.processInfo.environment.merging(env.merging(extraEnv) { $1 }) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        try waitUntilServing()
    }

    func waitUntilServing() throws {
        for _ in 0..<500 {
            if try Shell.run([Products.ltoc, "status"], cwd: "/", env: env).status == 0 { return }
            usleep(10_000)
        }
        throw HarnessError.failed("ltod did not start on \(socket)")
    }

    @discardableResult
    func ltoc(_ args: String...) throws -> Shell.Result { try ltoc(args) }

    @discardableResult
    func ltoc(_ args: [String]) throws -> Shell.Result {
        try Shell.check([Products.ltoc] + args, cwd: "/", env: env)
    }

    func stats() throws -> [String: Any] {
        let out = try ltoc("stats", "--json").stdout
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] ?? [:]
    }

    func stat(_ path: String) throws -> Double {
        let parts = path.split(separator: ".").map(String.init)
        let group = try stats()[parts[0]] as? [String: Any]
        return (group?[parts[1]] as? NSNumber)?.doubleValue ?? .nan
    }

    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// Compares two files byte for byte.
func sameBytes(_ a: String, _ b: String) -> Bool {
    guard let x = FileManager.default.contents(atPath: a), let y = FileManager.default.contents(atPath: b) else { return false }
    return x == y
}

/// Every end-to-end suite is nested here, so that they run one at a time: each drives
/// real compilers and a daemon, and the machine has two cores.
@Suite(.serialized) enum EndToEnd {}
