// LTOBackend owns what every toolchain backend shares: the `LinkBackend` protocol the
// daemon serves links through, link sessions and their registry, the reports `explain`
// shows and the sink a backend hands them to, in-flight deduplication of builds, the
// process scheduler with make's jobserver, cancellation, the scratch area and running
// compilers with captured output. The GCC backend (LTOGCCBackend) is one implementation;
// the daemon knows only this protocol.
import LTOSystem

/// A toolchain backend: it takes over a link's LTO step from the toolchain's own wrapper.
public protocol LinkBackend: Sendable {
    /// Opens a link session for the wrapper's invocation (GCC: lto-wrapper's argv, directory
    /// and environment), or declines the link. With `jobserver` (make's, handed over by the
    /// shim), the link's processes run on make's tokens.
    func openSession(_ wrapper: Invocation, jobserver: Jobserver?) -> SessionOpening
    /// Runs one driver job the toolchain's wrapper asked for within session `session`.
    func runJob(_ job: Invocation, session: String) -> JobOutcome
    /// Closes a session with the exit status of the toolchain's wrapper, what it printed on
    /// stdout (for GCC, the objects lto-wrapper hands the linker) and what the link printed on
    /// stderr (nil: not captured). Returns the one warning the user should see about this
    /// link (e.g. results that could not be cached).
    func closeSession(_ session: String, exitStatus: Int32, printed: [UInt8], messages: [UInt8]?) -> String?
    /// Stops a session's work that no other link waits for: its shim went away (Ctrl-C, a
    /// killed build). Jobs of the session then end as refused; the session stays open until closed.
    func cancelSession(_ session: String)
    /// How far an open session is.
    func progress(of session: String) -> LinkProgress?
    /// What the backend keeps in memory between links.
    func memoryUse() -> MemoryUse
}

/// What a backend keeps in memory between links: bounded by the targets it keeps.
public struct MemoryUse: Equatable, Sendable {
    /// Targets whose last link is kept (for `explain` and to compare the next link with).
    public let targets: Int
    /// Input objects whose summaries are kept (those of the kept targets' last links).
    public let inputs: Int

    public init(targets: Int, inputs: Int) {
        self.targets = targets
        self.inputs = inputs
    }
}

extension LinkBackend {
    /// Closes a session whose wrapper printed nothing ltod needs (e.g. it went away).
    public func closeSession(_ session: String, exitStatus: Int32) -> String? {
        closeSession(session, exitStatus: exitStatus, printed: [], messages: nil)
    }
}

/// The answer to a session request.
public enum SessionOpening: Equatable, Sendable {
    /// The session is open; `partitionOption`, when set, is added to the link's options.
    case opened(id: String, partitionOption: String?)
    /// The backend stays out of this link (e.g. offloading); the toolchain's own wrapper runs it.
    case declined(reason: String)
    /// The backend answered the whole link: the wrapper prints this and exits with its
    /// status, without running the toolchain's own wrapper.
    case answered(JobOutput)
}

/// What a job printed and how it ended.
public struct JobOutput: Equatable, Sendable {
    public let exitStatus: Int32
    public let stdout: [UInt8]
    public let stderr: [UInt8]

    public init(exitStatus: Int32, stdout: [UInt8], stderr: [UInt8]) {
        self.exitStatus = exitStatus
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// The answer to a job request.
public enum JobOutcome: Equatable, Sendable {
    /// The job ran (or was answered from the cache): print this and exit with its status.
    case finished(JobOutput)
    /// The backend did not run it; the reason says why. The shim runs the job itself.
    case refused(String)
}

/// An open link's progress: partitions done of the total, how many reused, jobs running.
public struct LinkProgress: Equatable, Sendable {
    public let done: Int
    public let total: Int
    public let reused: Int
    public let running: Int

    public init(done: Int, total: Int, reused: Int, running: Int) {
        self.done = done
        self.total = total
        self.reused = reused
        self.running = running
    }
}
