// LTODaemon owns the long-running server: the socket listener and its security checks,
// systemd's protocols, reading config.toml, the statistics and the management commands.
// It knows backends and cache tiers only through their protocols (LTOBackend, LTOStorage);
// `ltod`'s main chooses the concrete ones.
import Foundation
import LTOBackend
import LTOConfig
import LTOStorage
import LTOWire
import Logging
import Synchronization

/// The running daemon: accepts connections on its socket, checks each peer's uid,
/// and serves one request/reply exchange after another on a thread per connection
/// (requests block for as long as a compiler runs, so threads are the natural unit).
public final class Server: Sendable {
    public let configuration: Configuration
    let listener: Listener
    let backend: any LinkBackend
    let commands: Commands
    let log: Logger
    private let stopping = Atomic<Bool>(false)
    private let connections = Mutex(0)
    private let lastActivity = Mutex(Date())
    static let maxConnections = 512

    /// A server for `backend`, whose cache's local tier is `local` and whose counters are `stats`.
    public init(configuration: Configuration, listener: Listener, backend: any LinkBackend, local: any LocalStorage,
                stats: Statistics, scheduler: Scheduler, log: Logger) {
        self.configuration = configuration
        self.listener = listener
        self.backend = backend
        self.log = log
        commands = Commands(configuration: configuration, backend: backend, local: local, stats: stats, scheduler: scheduler,
                            socketPath: listener.path, started: Date())
    }

    /// Serves until `stop()`; returns after in-flight requests have finished.
    public func run() {
        log.info("ltod \(ltodVersion) serving", metadata: ["socket": "\(listener.path)", "cache": "\(configuration.cacheDirectory)", "pid": "\(getpid())"])
        commands.stats.importFallbacks(from: Places.fallbackLog(forSocket: listener.path))
        Systemd.notify("READY=1\nSTATUS=serving on \(listener.path)")
        if configuration.idleTimeout > 0 {
            Thread.detachNewThread { [self] in watchIdle() }
        }
        while let client = listener.accept(stopping: { stopping.load(ordering: .acquiring) }) {
            lastActivity.withLock { $0 = Date() }
            let admitted = connections.withLock { n in
                guard n < Self.maxConnections else { return false }
                n += 1
                return true
            }
            guard admitted else {
                try? client.send(Reply.failure("ltod is serving \(Self.maxConnections) connections; try again").encoded())
                continue
            }
            Thread.detachNewThread { [self] in
                serve(client)
                connections.withLock { $0 -= 1 }
                lastActivity.withLock { $0 = Date() }
            }
        }
        drain()
        log.info("ltod stopped")
    }

    /// Stops accepting; `run()` returns once running requests are answered.
    public func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        log.info("stopping")
        Systemd.notify("STOPPING=1")
        listener.withdraw()
    }

    /// Stops the daemon once no connection has been open for the idle timeout. A client that
    /// connects at that moment is not lost: connections already queued are still served before
    /// `run` returns, and under socket activation a later one waits in systemd's socket, which
    /// starts ltod again.
    private func watchIdle() {
        let step = min(5.0, max(0.05, configuration.idleTimeout / 10))
        while !stopping.load(ordering: .acquiring) {
            usleep(UInt32(step * 1_000_000))
            let idle = connections.withLock { $0 } == 0 && Date().timeIntervalSince(lastActivity.withLock { $0 }) >= configuration.idleTimeout
            if idle {
                log.info("idle for \(Int(configuration.idleTimeout)) s")
                stop()
            }
        }
    }

    private func drain() {
        let deadline = Date().addingTimeInterval(60)
        while connections.withLock({ $0 }) > 0 && Date() < deadline { usleep(20_000) }
    }

    private func serve(_ client: FrameSocket) {
        do {
            // The hello is read before the uid check so that the refusal is not lost to a
            // reset (closing a socket with unread data resets it); it is one bounded frame.
            let hello = try Request.decode(try client.receive(limit: 64))
            guard try client.peerUID() == getuid() else {
                log.warning("refused a connection from another user")
                try client.send(Reply.failure("ltod serves only uid \(getuid())").encoded())
                return
            }
            guard case .hello(let version) = hello else {
                try client.send(Reply.failure("expected hello as the first message").encoded())
                return
            }
            guard version == Protocol.version else {
                try client.send(Reply.failure(WireError.unsupportedVersion(version).description).encoded())
                return
            }
            try client.send(Reply.hello(version: Protocol.version, pid: getpid()).encoded())
            var opened: Set<String> = []
            // A wrapper that dies mid-link (killed build, ^C) leaves no session open behind it.
            defer { for id in opened { _ = backend.closeSession(id, exitStatus: -1) } }
            while true {
                let request = try Request.decode(try client.receive())
                let reply = handle(request)
                switch (request, reply) {
                case (.openSession, .session(let id, _)): opened.insert(id)
                case (.closeSession(let id, _, _), _): opened.remove(id)
                default: break
                }
                try client.send(reply.encoded())
            }
        } catch WireError.closed {
            return
        } catch {
            log.debug("connection dropped: \(error)")
            try? client.send(Reply.failure("\(error)").encoded())
        }
    }

    private func handle(_ request: Request) -> Reply {
        switch request {
        case .hello: return .failure("hello was already exchanged")
        case .openSession(let inv):
            switch backend.openSession(inv) {
            case .opened(let id, let option): return .session(id: id, partitionOption: option ?? "")
            case .declined(let reason): return .passThrough(reason: reason)
            case .answered(let out): return .output(exitStatus: out.exitStatus, stdout: out.stdout, stderr: out.stderr)
            }
        case .closeSession(let id, let status, let printed):
            let warning = backend.closeSession(id, exitStatus: status, printed: printed)
            return .output(exitStatus: 0, stdout: [], stderr: warning.map { Array($0.utf8) } ?? [])
        case .compile(let session, let inv):
            switch backend.runJob(inv, session: session) {
            case .finished(let out): return .output(exitStatus: out.exitStatus, stdout: out.stdout, stderr: out.stderr)
            case .refused(let reason): return .failure(reason)
            }
        case .command(let name, let args): return commands.run(name, args, stop: stop)
        }
    }
}
