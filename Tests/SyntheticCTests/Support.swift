// Test support for SyntheticCTests: running programs, temporary directories,
// and building a generated program with gcc through make.

import Foundation
import Testing

@testable import SyntheticC

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

struct CommandFailed: Error, CustomStringConvertible {
    var command: [String]
    var result: CommandResult
    var description: String {
        "\(command.joined(separator: " ")) exited \(result.status)\n\(result.stdout)\n\(result.stderr)"
    }
}

/// Runs `argv` (looked up in PATH) in `cwd`; output goes through files, so
/// large outputs cannot block the child.
@discardableResult
func run(_ argv: [String], in cwd: String, environment: [String: String] = [:], check: Bool = true) throws
    -> CommandResult
{
    let tmp = FileManager.default.temporaryDirectory
    let outURL = tmp.appendingPathComponent("syntheticc-out-\(UUID().uuidString)")
    let errURL = tmp.appendingPathComponent("syntheticc-err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = argv
    process.currentDirectoryURL = URL(fileURLWithPath: cwd)
    var env = ProcessInfo.processInfo.environment
    env["LC_ALL"] = "C"
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let outHandle = try FileHandle(forWritingTo: outURL)
    let errHandle = try FileHandle(forWritingTo: errURL)
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try outHandle.close()
    try errHandle.close()
    let result = CommandResult(
        status: process.terminationStatus,
        stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    if check && result.status != 0 { throw CommandFailed(command: argv, result: result) }
    return result
}

/// A fresh directory under the system's temporary directory, removed by `cleanup`.
struct TempDir {
    let path: String
    init(_ label: String) throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("syntheticc-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

/// A makefile that compiles every `.c` in its directory to an LTO object
/// (`-j2` keeps two cores busy); objects depend on common.h.
func writeMakefile(in dir: String, cflags: String) throws {
    let text = """
        SRCS := $(sort $(wildcard *.c))
        OBJS := $(SRCS:.c=.o)
        all: $(OBJS)
        %.o: %.c common.h
        \tgcc \(cflags) -c $< -o $@

        """
    try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/Makefile"))
}

func compileObjects(in dir: String) throws {
    try run(["make", "-s", "-j2", "all"], in: dir)
}

/// Names of WPA's partition files (`app.ltransK.o`, not LTRANS outputs
/// `app.ltransK.ltrans.o`) left by `-save-temps`.
func partitionFiles(in dir: String, output: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir).filter { name in
        guard name.hasPrefix(output + ".ltrans"), name.hasSuffix(".o") else { return false }
        let middle = name.dropFirst(output.count + ".ltrans".count).dropLast(2)
        return !middle.isEmpty && middle.allSatisfy(\.isNumber)
    }
}

let gccAvailable: Bool = {
    (try? run(["gcc", "--version"], in: "/", check: false).status) == 0
}()
