// ltod: the daemon's command line. `serve` runs in the foreground; `start` detaches.
// This is where the concrete backend (GCC) and cache tiers (SQLite locally, Redis when
// `remote_storage` is set) are chosen.
import ArgumentParser
import Foundation
import LTOBackend
import LTOConfig
import LTODaemon
import LTOGCCBackend
import LTOLocalStorage
import LTORedisStorage
import LTOStorage
import LTOSystem
import LTOWire
import Logging

@main
struct LTOD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ltod",
        abstract: "Incremental caching compile server for GCC link-time optimization.",
        discussion: """
        Builds reach ltod through `ltoc` (see `ltoc --help`). Each setting comes from its environment
        variable, else from config.toml ($XDG_CONFIG_HOME/ltod/config.toml; LTOD_CONFIG names another
        file), else its default. LTOD_SOCKET and LTOD_CACHE_DIR choose the socket (default
        $XDG_RUNTIME_DIR/ltod/socket, else /tmp/ltod-$UID/socket) and the cache directory (default
        $XDG_CACHE_HOME/ltod, else ~/.cache/ltod).

        Settings:
        \(Setting.helpText(defaults: Configuration(places: .current)))
        """,
        version: ltodVersion,
        subcommands: [Serve.self, Start.self, Config.self])
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve in the foreground until SIGTERM, SIGINT, `ltoc shutdown` or the idle timeout.",
        discussion: "Under systemd, takes the listening socket passed by socket activation (LISTEN_FDS) and reports readiness (NOTIFY_SOCKET).")

    func run() throws {
        let config = try loadConfiguration()
        let log = makeLogger(config)
        signal(SIGPIPE, SIG_IGN)
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
        let listener: Listener
        if let inherited = Systemd.inheritedListener() {
            listener = Listener(inheritedFD: inherited.fd, path: inherited.path)
        } else {
            do { listener = try Listener(path: config.socketPath) } catch {
                throw StartupError("\(error)")
            }
        }
        let (server, storage) = try makeServer(config, listener: listener, log: log)
        let signals = stopSignals
        Thread.detachNewThread {
            var received: Int32 = 0
            var set = signals
            sigwait(&set, &received)
            server.stop()
        }
        server.run()
        finishRemoteWrites(storage, log: log)
    }

    /// How long a clean stop waits for the writes still queued for the remote tier.
    static let remoteWriteTimeout = 30.0

    /// The GCC backend over the local SQLite tier (and the remote tier, when configured), with
    /// the counters kept in the local store.
    private func makeServer(_ config: Configuration, listener: Listener, log: Logger) throws -> (Server, TieredStorage) {
        let local = try SQLiteStore(directory: config.cacheDirectory, limits: CacheLimits(maxBytes: config.maxSizeBytes))
        let stats = Statistics(store: local)
        let scheduler = Scheduler(limit: config.jobs)
        let storage = tiers(config, local: local, stats: stats, log: log)
        let backend = try GCCBackend(storage: storage, scheduler: scheduler, stats: stats, configuration: config, log: log)
        let server = Server(configuration: config, listener: listener, backend: backend, local: local, stats: stats, scheduler: scheduler, log: log)
        return (server, storage)
    }

    /// The local tier, over a Redis tier when `remote_storage` names one.
    private func tiers(_ config: Configuration, local: SQLiteStore, stats: Statistics, log: Logger) -> TieredStorage {
        guard let url = config.remoteStorage else { return TieredStorage(local: local) }
        log.info("remote cache tier", metadata: ["url": "\(url)", "read_only": "\(config.remoteReadOnly)"])
        return TieredStorage(local: local, remote: RedisStorage(url: url, timeout: config.remoteTimeout),
                             settings: RemoteTierSettings(readOnly: config.remoteReadOnly, maxEntryBytes: config.remoteMaxEntryBytes),
                             stats: stats, onFault: { log.warning("remote cache tier skipped: \($0)") })
    }

    /// After the last request: sends what is still queued for the remote tier, within
    /// `remoteWriteTimeout`, so that a CI job that links and stops the daemon has filled it.
    private func finishRemoteWrites(_ storage: TieredStorage, log: Logger) {
        let pending = storage.pendingRemoteWrites
        guard pending > 0 else { return }
        log.info("sending \(pending) entries to the remote tier before stopping")
        let left = storage.finishRemoteWrites(timeout: Self.remoteWriteTimeout)
        if left > 0 { log.warning("\(left) entries were not sent to the remote tier within \(Int(Self.remoteWriteTimeout)) s") }
    }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a daemon in the background and return once it accepts connections.")

    func run() throws {
        let config = try loadConfiguration()
        if (try? FrameSocket.connect(to: config.socketPath)) != nil {
            print("ltod is already running on \(config.socketPath)")
            return
        }
        try FileManager.default.createDirectory(atPath: config.cacheDirectory, withIntermediateDirectories: true)
        let logPath = Places.current.logFile
        let exe = executablePath()
        var cmd = Command(executable: exe, argv: [exe, "serve"], directory: "/")
        cmd.stdin = .null
        cmd.stdout = .file(logPath)
        cmd.stderr = .file(logPath)
        let pid = try spawnDetached(cmd)
        for _ in 0..<500 {
            if (try? FrameSocket.connect(to: config.socketPath)) != nil {
                print("ltod started (pid \(pid)) on \(config.socketPath)")
                return
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let tail = readFileText(logPath)?.split(separator: "\n").suffix(3).joined(separator: "\n") ?? ""
                throw StartupError("ltod exited during start-up:\n\(tail)")
            }
            usleep(10_000)
        }
        throw StartupError("ltod did not accept connections within 5 s; see \(logPath)")
    }
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the effective configuration and where each value came from.")

    func run() throws {
        print(try loadConfiguration().report, terminator: "")
    }
}

func loadConfiguration() throws -> Configuration {
    do { return try ConfigFile.load() } catch { throw StartupError("\(error)") }
}

func makeLogger(_ config: Configuration) -> Logger {
    let level = Logger.Level(rawValue: config.logLevel.lowercased()) ?? .info
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: "ltod")
}

/// A reason ltod cannot start or do what was asked (printed without a usage line).
struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
