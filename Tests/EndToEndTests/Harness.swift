// End-to-end support: the built ltod and ltoc, and a real daemon on a private socket.
import Foundation
import LTOTestSupport
import Testing

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
            throw TestFailure(p)
        }
    }
}

/// A real `ltod serve` on a private socket and cache directory.
final class Daemon {
    let socket: String
    let cache: String
    let process = Process()
    var env: [String: String] { ["LTOD_SOCKET": socket, "LTOD_CACHE_DIR": cache] }

    init(in scratch: TemporaryDirectory, extraEnv: [String: String] = [:]) throws {
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
        throw TestFailure("ltod did not start on \(socket)")
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

/// Every end-to-end suite is nested here, so that they run one at a time: each drives
/// real compilers and a daemon, and the machine has two cores.
@Suite(.serialized) enum EndToEnd {}
