// ltod: the daemon's command line. `serve` runs in the foreground; `start` detaches, logging
// to <cache>/ltod.log; `offline` answers ltoc's cache commands when no daemon runs; `config`
// shows the settings. This is where the concrete backend (GCC) and cache tiers (SQLite
// locally, Redis when `remote_storage` is set) are chosen.
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
        file), else its default; per-link settings are read by ltoc for every link. LTOD_SOCKET and
        LTOD_CACHE_DIR choose the socket (default $XDG_RUNTIME_DIR/ltod/socket, else
        /tmp/ltod-$UID/socket) and the cache directory (default $XDG_CACHE_HOME/ltod, else
        ~/.cache/ltod). `ltod start` logs to <cache>/ltod.log (appended to, moved to ltod.log.1
        past \(LogFile.defaultLimit >> 20) MiB).

        Settings:
        \(Setting.helpText(defaults: Configuration(places: .current)))
        """,
        version: ltodVersion,
        subcommands: [Serve.self, Start.self, Config.self, Offline.self])
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve in the foreground until SIGTERM, SIGINT, `ltoc shutdown` or the idle timeout.",
        discussion: "Under systemd, takes the listening socket passed by socket activation (LISTEN_FDS) and reports readiness (NOTIFY_SOCKET).")

    @Option(help: "Append standard output and error to this file, kept under \(LogFile.defaultLimit >> 20) MiB by rotation (what `ltod start` passes).")
    var logFile: String?

    @Option(help: .hidden)
    var protocolVersion: UInt16 = Protocol.version

    func run() throws {
        let places = Places.current
        let logFile = try logFile.map { path in
            do { return try LogFile(path: path) } catch { throw StartupError("\(error)") }
        }
        do {
            try serve(places, logFile: logFile)
        } catch let error as StartupError where error.isFailure {
            StartupFailure.record(error.description, places: places)
            throw error
        }
    }

    private func serve(_ places: Places, logFile: LogFile?) throws {
        let config = try loadConfiguration()
        let log = makeLogger(config)
        logFile?.keepBounded()
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
            do { listener = try Listener(path: config.socketPath) } catch ListenerError.alreadyServing(let path) {
                throw StartupError("\(ListenerError.alreadyServing(path))", isFailure: false)
            } catch {
                throw StartupError("\(error)")
            }
        }
        let (server, local, storage) = try makeServer(config, listener: listener, log: log)
        StartupFailure.clear(places: places)
        let signals = stopSignals
        Thread.detachNewThread {
            var received: Int32 = 0
            var set = signals
            sigwait(&set, &received)
            server.stop()
        }
        server.run()
        finishRemoteWrites(storage, log: log)
        local.close()
    }

    /// How long a clean stop waits for the writes still queued for the remote tier.
    static let remoteWriteTimeout = 30.0

    /// The GCC backend over the local SQLite tier (and the remote tier, when configured), with
    /// the counters and the link history kept in the local store.
    private func makeServer(_ config: Configuration, listener: Listener, log: Logger) throws -> (Server, SQLiteStore, TieredStorage) {
        do {
            let local = try SQLiteStore(directory: config.cacheDirectory, limits: CacheLimits(maxBytes: config.maxSizeBytes))
            let stats = Statistics(store: local)
            let history = LinkHistoryLog(store: local, log: log)
            let scheduler = Scheduler(limit: config.jobs)
            let storage = tiers(config, local: local, stats: stats, log: log)
            let backend = try GCCBackend(storage: storage, scheduler: scheduler, stats: stats, configuration: config, reports: history, log: log)
            let server = Server(configuration: config, listener: listener, backend: backend, local: local, history: history, stats: stats,
                                scheduler: scheduler, protocolVersion: protocolVersion, log: log)
            return (server, local, storage)
        } catch {
            throw StartupError("\(error)")
        }
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
    static let configuration = CommandConfiguration(
        abstract: "Start a daemon in the background and return once it accepts connections; it logs to <cache>/ltod.log.")

    func run() throws {
        let places = Places.current
        let config: Configuration
        do { config = try loadConfiguration() } catch let error as StartupError {
            StartupFailure.record(error.description, places: places)
            appendToLog(places.logFile, error.description)
            throw error
        }
        if serving(places) {
            print("ltod is already running on \(config.socketPath)")
            return
        }
        try FileManager.default.createDirectory(atPath: config.cacheDirectory, withIntermediateDirectories: true)
        StartupFailure.clear(places: places)
        let exe = executablePath()
        var cmd = Command(executable: exe, argv: [exe, "serve", "--log-file", places.logFile], directory: "/")
        cmd.stdin = .null
        cmd.stdout = .null
        cmd.stderr = .null
        let pid = try spawnDetached(cmd)
        for _ in 0..<500 {
            if (try? FrameSocket.connect(to: config.socketPath)) != nil {
                print("ltod started (pid \(pid)) on \(config.socketPath)")
                return
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid && OwnerLock.holder(of: places.socketLock) == nil {
                let reason = readFileText(places.startErrorFile)?.split(separator: "\n").first.map(String.init)
                throw StartupError(reason ?? "ltod exited during start-up; see \(places.logFile)")
            }
            usleep(10_000)
        }
        throw StartupError("ltod did not accept connections within 5 s; see \(places.logFile)")
    }

    /// Whether a daemon serves the socket: something answers on it (under systemd, its socket
    /// starts one), or a daemon holds its lock and answers within 5 s (one that is starting).
    private func serving(_ places: Places) -> Bool {
        for _ in 0..<500 {
            if (try? FrameSocket.connect(to: places.socket)) != nil { return true }
            guard OwnerLock.holder(of: places.socketLock) != nil || OwnerLock.isFlocked(places.socketLock) else { return false }
            usleep(10_000)
        }
        return false
    }

    private func appendToLog(_ path: String, _ message: String) {
        try? FileManager.default.createDirectory(atPath: directoryName(path), withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        writeAll(fd, Array("ltod start: \(message)\n".utf8))
        close(fd)
    }
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every setting, its value and where it came from: the per-link ones as a link from here would have them, the daemon-wide ones as the running daemon has them.")

    func run() throws {
        let report = ConfigReport(environment: ProcessInfo.processInfo.environment, running: runningSettings(Places.current))
        print(report.text, terminator: "")
        if report.hasErrors { throw ExitCode(1) }
    }

    /// The running daemon's settings, asked only when one holds the socket's lock (connecting
    /// to a socket-activated socket would start one).
    private func runningSettings(_ places: Places) -> RunningSettings? {
        guard OwnerLock.holder(of: places.socketLock) != nil, let socket = try? FrameSocket.connect(to: places.socket),
              case .accepted = HelloAnswer((try? socket.request(.hello(version: Protocol.version))) ?? .failure("")),
              case .output(0, let json, _)? = try? socket.request(.command(name: "settings", arguments: []))
        else { return nil }
        return RunningSettings(json: json)
    }
}

struct Offline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer one of ltoc's cache commands (stats, explain, gc, clear, max-size) from the cache directory, without a daemon.",
        discussion: "What ltoc runs for these commands when no daemon is running, so that a query never starts one.")

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, as given to ltoc.")
    var words: [String] = []

    func run() throws {
        guard let name = words.first else { throw ValidationError("missing command") }
        var config: Configuration
        do { config = try ConfigFile.load() } catch {
            printError("warning: \(error)")
            config = Configuration(places: .current)
        }
        let local = try SQLiteStore(directory: config.cacheDirectory, limits: CacheLimits(maxBytes: config.maxSizeBytes))
        defer { local.close() }
        var log = Logger(label: "ltod")
        log.logLevel = .warning
        let commands = Commands(configuration: config, local: local, history: LinkHistoryLog(store: local, log: log),
                                stats: Statistics(store: local))
        switch commands.run(name, Array(words.dropFirst())) {
        case .output(let status, let out, let err):
            FileHandle.standardOutput.write(Data(out))
            FileHandle.standardError.write(Data(err))
            if status != 0 { throw ExitCode(status) }
        case .failure(let message):
            printError(message)
            throw ExitCode(1)
        default:
            throw ExitCode(1)
        }
    }

    private func printError(_ message: String) {
        FileHandle.standardError.write(Data("ltoc: \(message)\n".utf8))
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
    /// Whether it is kept as the reason the daemon could not start (not when another
    /// daemon already serves: two starts raced, and one of them serves).
    let isFailure: Bool

    init(_ description: String, isFailure: Bool = true) {
        self.description = description
        self.isFailure = isFailure
    }
}
