// LTOBackend: running a compiler with its output captured.
import Foundation
import LTOSystem

/// A finished child: status, what it printed, how long it took.
public struct ProcessResult: Sendable {
    public let status: ExitStatus
    public let stdout: [UInt8]
    public let stderr: [UInt8]
    public let seconds: Double

    /// The output as the client prints it.
    public var output: JobOutput { JobOutput(exitStatus: status.code, stdout: stdout, stderr: stderr) }
}

/// Runs compilers for the backend: on a scheduler slot, with stdout and stderr captured in
/// private files of the scratch area (no pipes to drain, so a chatty compiler can never block
/// on a full pipe).
public struct ProcessRunner: Sendable {
    public let scratch: ScratchArea
    public let scheduler: Scheduler

    public init(scratch: ScratchArea, scheduler: Scheduler) {
        self.scratch = scratch
        self.scheduler = scheduler
    }

    /// Runs `command` once a scheduler slot is free.
    public func run(_ command: Command) throws -> ProcessResult {
        try scheduler.withSlot { try runCaptured(command) }
    }

    private func runCaptured(_ command: Command) throws -> ProcessResult {
        let base = scratch.newPath("run")
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
        let status = try LTOSystem.run(cmd)
        let seconds = Date().timeIntervalSince(start)
        return ProcessResult(status: status, stdout: readFileBytes(base + ".out") ?? [], stderr: readFileBytes(base + ".err") ?? [],
                             seconds: seconds)
    }
}
