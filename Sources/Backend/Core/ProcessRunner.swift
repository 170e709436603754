// LTOBackend: running a compiler for a link: on a scheduler slot, with its output captured,
// in a process group of its own that is stopped when the link is cancelled.
import Foundation
import LTOSystem
import Synchronization

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

    /// After SIGTERM, how long a cancelled compiler has to end (GCC's driver removes its
    /// temporary files and output then) before it is killed.
    static let termGraceSeconds = 0.3

    public init(scratch: ScratchArea, scheduler: Scheduler) {
        self.scratch = scratch
        self.scheduler = scheduler
    }

    /// Runs `command` for `owner` once a slot is free. If the owner is cancelled, the command's
    /// process group is stopped (SIGTERM, then SIGKILL) and `LinkCancelled` is thrown: the
    /// result of a stopped job is never used.
    public func run(_ command: Command, for owner: some JobOwner) throws -> ProcessResult {
        try scheduler.withSlot(for: owner) { try runCaptured(command, cancellation: owner.cancellation) }
    }

    private func runCaptured(_ command: Command, cancellation: Cancellation) throws -> ProcessResult {
        try cancellation.check()
        let base = scratch.newPath("run")
        var cmd = command
        cmd.stdin = .null
        cmd.stdout = .file(base + ".out")
        cmd.stderr = .file(base + ".err")
        cmd.closeOtherDescriptors = true
        cmd.newProcessGroup = true
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        let start = Date()
        let child = ChildGroup(try spawn(cmd))
        let status = cancellation.whileWatching({ child.stop(grace: Self.termGraceSeconds) }) { child.wait() }
        try cancellation.check()
        let seconds = Date().timeIntervalSince(start)
        return ProcessResult(status: status, stdout: readFileBytes(base + ".out") ?? [], stderr: readFileBytes(base + ".err") ?? [],
                             seconds: seconds)
    }
}

/// A child leading its own process group. It is signalled only while not reaped: waiting
/// leaves the ended child a zombie (which keeps its pid and group id from being reused)
/// until the lock marks it reaped.
private final class ChildGroup: Sendable {
    let pid: pid_t
    private let reaped = Mutex(false)

    init(_ pid: pid_t) { self.pid = pid }

    func wait() -> ExitStatus {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        reaped.withLock { $0 = true }
        return LTOSystem.wait(for: pid)
    }

    /// SIGTERM to the group now, SIGKILL after `grace` seconds if the child has not ended.
    func stop(grace: Double) {
        signal(SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) { [self] in signal(SIGKILL) }
    }

    private func signal(_ number: Int32) {
        reaped.withLock { done in
            if !done { kill(-pid, number) }
        }
    }
}
