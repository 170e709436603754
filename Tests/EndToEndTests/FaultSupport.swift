import Foundation
import LTOTestSupport
import SyntheticC
import Testing

/// Helpers for the fault, bad-input and security suites.
enum Fault {
    /// Writes an executable `/bin/sh` script: a stand-in for a GCC tool that fails on purpose.
    static func tool(_ path: String, _ body: String) throws {
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o755)
    }

    /// PATH with `directory` in front of the test's own.
    static func path(prepending directory: String) -> String {
        directory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    }

    /// Whether `pid` names a live process (not gone, not a zombie waiting to be reaped).
    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// A value in kB from /proc/<pid>/status (VmRSS, VmHWM).
    static func memory(_ pid: Int32, _ field: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
    }

    /// The pid `ltoc status` reports.
    static func daemonPID(_ env: [String: String]) throws -> Int32 {
        let status = try Shell.check([Products.ltoc, "status"], cwd: "/", env: env).stdout
        let line = status.split(separator: "\n").first { $0.contains("pid") } ?? ""
        return Int32(line.split(separator: " ").last ?? "") ?? -1
    }

    /// stderr lines with the program lto-wrapper ran (gcc, or ltod's shim) replaced, so that
    /// GCC's messages from a plain link and from one through ltod can be compared.
    static func messages(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map { line in
            String(line.replacing(/fatal error: \S+ returned/, with: "fatal error: DRIVER returned"))
        }
    }

    /// Runs `gcc` with `args` plainly and through ltod in `dir`; checks the same exit status,
    /// and that every line GCC printed in the plain link reaches the user through ltod too.
    @discardableResult
    static func sameFailure(_ args: [String], dir: String, daemon: Daemon, env: [String: String] = [:], ltodArgs: [String] = [],
                            sourceLocation: SourceLocation = #_sourceLocation) throws -> Shell.Result {
        let plain = try Shell.run(["gcc"] + args, cwd: dir, env: env)
        let ltod = try Shell.run(["gcc", "-B", try Products.libexec()] + ltodArgs + args, cwd: dir, env: daemon.env.merging(env) { $1 })
        #expect(plain.status != 0, "the plain link was meant to fail", sourceLocation: sourceLocation)
        #expect(ltod.status == plain.status, "plain exited \(plain.status), ltod \(ltod.status): \(ltod.stderr)", sourceLocation: sourceLocation)
        let seen = Set(messages(ltod.stderr))
        for line in messages(plain.stderr) {
            #expect(seen.contains(line), "GCC's line is missing through ltod: \(line)\n\(ltod.stderr)", sourceLocation: sourceLocation)
        }
        #expect(!ltod.stderr.contains("ltoc:"), "the failure is GCC's, not ltod's: \(ltod.stderr)", sourceLocation: sourceLocation)
        return ltod
    }
}

extension LinkCheck {
    /// A small program of `files` generated files in `scratch`, compiled.
    static func generated(in scratch: TemporaryDirectory, files: Int, seed: UInt64) throws -> LinkCheck {
        let program = SyntheticC.generate(ProgramSpec(files: files, functionsPerFile: 3, seed: seed))
        let dir = try scratch.sub("src")
        try program.write(to: dir)
        let check = LinkCheck(directory: dir, objects: program.objects)
        try check.compile(program.cFiles)
        return check
    }
}
