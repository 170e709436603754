// LTOTestSupport: running programs from tests.
import Foundation
import Testing

/// Runs programs for the tests: the real gcc, ar, make, the real ltod and ltoc.
public enum Shell {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// Runs `argv` (looked up in PATH) in `cwd` to completion, with `env` over this process's
    /// environment. Output goes through temporary files, so the wait is for the child alone
    /// (a daemon it starts may keep descriptors open) and large outputs cannot block it; a
    /// child that runs longer than `timeout` seconds is killed and reported, so a hang fails
    /// a test, not CI.
    @discardableResult
    public static func run(_ argv: [String], cwd: String, env: [String: String] = [:], timeout: Double = 300) throws -> Result {
        let base = NSTemporaryDirectory() + "ltod-shell-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: base + ".out", contents: nil),
              FileManager.default.createFile(atPath: base + ".err", contents: nil) else { throw TestFailure("cannot create \(base)") }
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

    /// Runs and requires exit status 0: otherwise records the output as an issue and throws.
    @discardableResult
    public static func check(_ argv: [String], cwd: String, env: [String: String] = [:],
                             sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let r = try run(argv, cwd: cwd, env: env)
        if r.status != 0 {
            Issue.record("`\(argv.joined(separator: " "))` exited \(r.status)\n\(r.stdout)\n\(r.stderr)", sourceLocation: sourceLocation)
            throw TestFailure("`\(argv.joined(separator: " "))` exited \(r.status): \(r.stderr)")
        }
        return r
    }
}
