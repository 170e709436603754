// ltod: the daemon's command line. `serve` runs in the foreground; `start` detaches.
import ArgumentParser
import Foundation
import LTODaemon
import LTOProcess
import LTOWire
import Logging

@main
struct LTOD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ltod",
        abstract: "Incremental caching compile server for GCC link-time optimization.",
        discussion: """
        Builds reach ltod through `ltoc` (see `ltoc --help`). Settings come from the environment,
        else from $XDG_CONFIG_HOME/ltod/config.toml (LTOD_CONFIG names another file; keys max_size,
        partition, jobs, idle_timeout, log_level, strict, prefetch), else the defaults:
          LTOD_SOCKET     socket path (default $XDG_RUNTIME_DIR/ltod/socket, else /tmp/ltod-$UID/socket)
          LTOD_CACHE_DIR  cache directory (default $XDG_CACHE_HOME/ltod, else ~/.cache/ltod)
          LTOD_MAX_SIZE   cache size limit, e.g. 500M, 5G (default 5G)
          LTOD_PARTITION  1to1 (default), balanced, max, keep
          LTOD_JOBS       concurrent WPA/LTRANS processes (default: number of cores)
          LTOD_PREFETCH   0: do not build missed partitions in parallel when lto-wrapper runs LTRANS serially
          LTOD_IDLE_TIMEOUT  exit after this long without a connection, e.g. 30m (default), 0 = never
          LTOD_LOG        trace, debug, info (default), notice, warning, error
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
        let server = try Server(configuration: config, listener: listener, log: log)
        let signals = stopSignals
        Thread.detachNewThread {
            var received: Int32 = 0
            var set = signals
            sigwait(&set, &received)
            server.stop()
        }
        server.run()
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
        let logPath = config.cacheDirectory + "/ltod.log"
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
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
                let tail = (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").suffix(3).joined(separator: "\n") ?? ""
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
    do { return try Configuration.load() } catch { throw StartupError("\(error)") }
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
