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

/// The bytes of a file, or nil if it cannot be read. Plain read(2): FileManager's
/// `contents(atPath:)` leaks about 2 KB per call of an empty file (swift-foundation in
/// Swift 6.3), and the daemon reads two mostly empty output files for every job it runs.
func readBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { return nil }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

func readText(_ path: String) -> String? {
    readBytes(path).map { String(decoding: $0, as: UTF8.self) }
}
