import Foundation
import LTOProcess

/// A finished child: status, what it printed, how long it took.
struct ProcessResult: Sendable {
    let status: ExitStatus
    let stdout: [UInt8]
    let stderr: [UInt8]
    let seconds: Double
}

/// Runs a program with stdout and stderr captured in private temporary files
/// (no pipes to drain, so a chatty compiler can never block on a full pipe).
func runCaptured(_ command: Command, tempDirectory: String) throws -> ProcessResult {
    let base = tempDirectory + "/run-\(getpid())-\(UUID().uuidString)"
    var cmd = command
    cmd.stdin = .null
    cmd.stdout = .file(base + ".out")
    cmd.stderr = .file(base + ".err")
    cmd.closeOtherDescriptors = true
    defer {
        unlink(base + ".out")
        unlink(base + ".err")
    }
    let start = Date()
    let status = try run(cmd)
    let seconds = Date().timeIntervalSince(start)
    return ProcessResult(status: status, stdout: readBytes(base + ".out") ?? [], stderr: readBytes(base + ".err") ?? [], seconds: seconds)
}

func readBytes(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}

func readText(_ path: String) -> String? {
    readBytes(path).map { String(decoding: $0, as: UTF8.self) }
}
