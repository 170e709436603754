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
/// A client that goes away cancels its link's work: while a request is served, a watcher
/// notices the hang-up; a connection that ends leaves no session of its own open.
public final class Server: Sendable, DaemonControl {
    public let configuration: Configuration
    let listener: Listener
    let backend: any LinkBackend
    let commands: Commands
    let log: Logger
    /// The protocol version this server speaks (`ltod serve --protocol-version` to test upgrades).
    let protocolVersion: UInt16
    private let hangups = HangupWatcher()
    private let openSessions = Mutex(0)
    private let stopWhenIdleAsked = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let connections = Mutex(0)
    private let lastActivity = Mutex(Date())
    static let maxConnections = 512

    /// A server for `backend`, whose cache's local tier is `local`, whose counters are `stats`
    /// and whose finished links are kept by `history`.
    public init(configuration: Configuration, listener: Listener, backend: any LinkBackend, local: any LocalStorage,
                history: LinkHistoryLog, stats: Statistics, scheduler: Scheduler, protocolVersion: UInt16 = Protocol.version,
                log: Logger) {
        self.configuration = configuration
        self.listener = listener
        self.backend = backend
        self.log = log
        self.protocolVersion = protocolVersion
        commands = Commands(configuration: configuration, local: local, history: history, stats: stats,
                            live: LiveDaemon(backend: backend, scheduler: scheduler, socketPath: listener.path, started: Date()))
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

    /// Stops once no link is open: at once if none is, else when the last one closes.
    public func stopWhenIdle() {
        stopWhenIdleAsked.store(true, ordering: .releasing)
        log.info("asked to stop once no link is open")
        stopIfIdle()
    }

    private func stopIfIdle() {
        if stopWhenIdleAsked.load(ordering: .acquiring) && openSessions.withLock({ $0 }) == 0 { stop() }
    }

    /// Counts a link session opened (+1) or closed (-1) on any connection.
    private func countSession(_ delta: Int) {
        openSessions.withLock { $0 += delta }
        if delta < 0 { stopIfIdle() }
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
            guard let version = try greet(client) else { return }
            guard version == protocolVersion else { return try serveOtherVersion(client, version) }
            let opened = OpenSessions()
            // A wrapper that dies mid-link (killed build, ^C) leaves no session open behind it.
            defer {
                let ids = opened.ids
                for id in ids {
                    backend.cancelSession(id)
                    _ = backend.closeSession(id, exitStatus: -1)
                }
                countSession(-ids.count)
            }
            while true { try serveRequest(client, opened: opened) }
        } catch WireError.closed {
            return
        } catch {
            log.debug("connection dropped: \(error)")
            try? client.send(Reply.failure("\(error)").encoded())
        }
    }

    /// The hello exchange: the client's protocol version when it may go on (answered with
    /// this daemon's own, so that a client of another version knows what it met).
    private func greet(_ client: FrameSocket) throws -> UInt16? {
        // The hello is read before the uid check so that the refusal is not lost to a
        // reset (closing a socket with unread data resets it); it is one bounded frame.
        let hello = try Request.decode(try client.receive(limit: 64))
        guard try client.peerUID() == getuid() else {
            log.warning("refused a connection from another user")
            try client.send(Reply.failure("ltod serves only uid \(getuid())").encoded())
            return nil
        }
        guard case .hello(let version) = hello else {
            try client.send(Reply.failure("expected hello as the first message").encoded())
            return nil
        }
        try client.send(Reply.hello(version: protocolVersion, pid: getpid()).encoded())
        return version
    }

    /// A client of another protocol version (a newer ltoc meeting this daemon, or an older
    /// one) may only ask it to stop; anything else is refused, saying what to do.
    private func serveOtherVersion(_ client: FrameSocket, _ version: UInt16) throws {
        log.info("a client of protocol \(version) connected; this daemon speaks \(protocolVersion)")
        while true {
            let reply: Reply
            if case .command("shutdown", let arguments) = try Request.decode(try client.receive()) {
                reply = commands.run("shutdown", arguments, control: self)
            } else {
                reply = .failure("this ltoc speaks protocol \(version) and ltod (pid \(getpid())) speaks \(protocolVersion); "
                    + "stop the daemon with `ltoc shutdown` and the next link starts the one beside this ltoc")
            }
            try client.send(reply.encoded())
        }
    }

    /// Serves one request of a connection whose open sessions are `opened`. If the client hangs
    /// up meanwhile, the sessions it opened and the one the request names are cancelled.
    private func serveRequest(_ client: FrameSocket, opened: OpenSessions) throws {
        let (payload, descriptors) = try client.receiveWithDescriptors()
        let request: Request
        do { request = try Request.decode(payload) } catch {
            for d in descriptors { close(d) }
            throw error
        }
        let named = request.session
        let reply = hangups.whileWatching(client.fd, onHangup: { [self] in
            for id in opened.ids.union(named.map { [$0] } ?? []) { backend.cancelSession(id) }
        }) {
            handle(request, jobserver: jobserver(request, descriptors))
        }
        switch (request, reply) {
        case (.openSession, .session(let id, _)):
            opened.insert(id)
            countSession(1)
        case (.closeSession(let id, _, _, _), _):
            if opened.remove(id) { countSession(-1) }
        default: break
        }
        try client.send(reply.encoded())
    }

    /// make's jobserver, from the descriptors a session request carried; any other request's
    /// descriptors, and unusable ones, are closed.
    private func jobserver(_ request: Request, _ descriptors: [Int32]) -> Jobserver? {
        guard case .openSession = request, descriptors.count == 2 else {
            for d in descriptors { close(d) }
            return nil
        }
        do {
            return try Jobserver(readEnd: descriptors[0], writeEnd: descriptors[1])
        } catch {
            log.warning("link runs on ltod's own job limit: \(error)")
            return nil
        }
    }

    private func handle(_ request: Request, jobserver: Jobserver?) -> Reply {
        switch request {
        case .hello: return .failure("hello was already exchanged")
        case .openSession(let inv):
            switch backend.openSession(inv, jobserver: jobserver) {
            case .opened(let id, let option): return .session(id: id, partitionOption: option ?? "")
            case .declined(let reason): return .passThrough(reason: reason)
            case .answered(let out): return .output(exitStatus: out.exitStatus, stdout: out.stdout, stderr: out.stderr)
            }
        case .closeSession(let id, let status, let printed, let messages):
            let warning = backend.closeSession(id, exitStatus: status, printed: printed, messages: messages)
            return .output(exitStatus: 0, stdout: [], stderr: warning.map { Array($0.utf8) } ?? [])
        case .compile(let session, let inv):
            switch backend.runJob(inv, session: session) {
            case .finished(let out): return .output(exitStatus: out.exitStatus, stdout: out.stdout, stderr: out.stderr)
            case .refused(let reason): return .failure(reason)
            }
        case .command(let name, let args): return commands.run(name, args, control: self)
        }
    }
}

/// The sessions a connection opened and has not closed.
private final class OpenSessions: Sendable {
    private let state = Mutex<Set<String>>([])

    var ids: Set<String> { state.withLock { $0 } }
    func insert(_ id: String) { _ = state.withLock { $0.insert(id) } }
    /// Removes `id`; true if it was there.
    func remove(_ id: String) -> Bool { state.withLock { $0.remove(id) != nil } }
}

extension Request {
    /// The link session a request names, if any.
    fileprivate var session: String? {
        switch self {
        case .compile(let session, _): return session
        case .closeSession(let id, _, _, _): return id
        default: return nil
        }
    }
}
