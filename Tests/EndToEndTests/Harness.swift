import Foundation
import Testing

/// Runs programs for the end-to-end tests: the real gcc, the real ltod and ltoc.
enum Shell {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    @discardableResult
    static func run(_ argv: [String], cwd: String, env: [String: String] = [:], stdin: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes concurrently so neither can fill up and block the child.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
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

    func ltoc(_ args: String...) throws -> Shell.Result { try ltoc(args) }

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
