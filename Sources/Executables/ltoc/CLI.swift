#if canImport(Glibc)
import Glibc
#endif
import LTOConfig
import LTOGCC
import LTOSystem
import LTOWire

/// The command line: queries and management commands, or launcher mode (`ltoc gcc ...`).
/// Parsed by hand: swift-argument-parser links FoundationEssentials, and the shim must
/// stay Foundation-free; the daemon validates every command's own options.
enum CLI {
    static var usage: String {
        """
        usage: ltoc COMMAND [OPTIONS]
               ltoc CC ARGS...            run a compiler driver; LTO links go through ltod
               gcc -flto -B "$(ltoc --libexec-dir)" ...

        Commands:
          status                      show the daemon's pid, uptime, socket and cache (exit 1 if not running)
          stats [--json | --format text|json|prometheus] [--zero]
                                      cache and link statistics, since start and all-time;
                                      --zero resets the all-time counters
          explain [--json] [TARGET]   what the last link of TARGET (default: the latest) reused and rebuilt, and why
          explain --list [--json]     the targets this daemon knows, with their last link
          gc [--max-size SIZE] [--older-than DURATION]
                                      evict least-recently-used entries (SIZE: 500M, 5G; DURATION: 12h, 7d)
          clear                       empty the cache
          shutdown                    stop the daemon
          config                      the effective configuration and where each value came from
          --libexec-dir               print the directory to pass to gcc -B
          --version, --help

        Settings (environment variable, else config.toml: \(Places.current.configFile)):
        \(Setting.helpText(defaults: Configuration(places: .current)))
        """
    }

    static let daemonCommands: Set<String> = ["status", "stats", "explain", "gc", "clear", "shutdown"]
    /// Commands that need the cache rather than a particular daemon: they start one.
    static let autostarting: Set<String> = ["stats", "gc", "clear"]

    static func run(_ argv: [String]) -> Never {
        guard argv.count > 1 else {
            writeAll(2, Array(usage.utf8))
            exit(2)
        }
        let first = argv[1]
        switch first {
        case "-h", "--help", "help":
            writeAll(1, Array(usage.utf8))
            exit(0)
        case "--version":
            writeAll(1, Array("ltoc \(ltodVersion) (protocol \(Protocol.version))\n".utf8))
            exit(0)
        case "--libexec-dir":
            writeAll(1, Array((libexecDirectory() + "\n").utf8))
            exit(0)
        case "config":
            let ltod = directoryName(executablePath()) + "/ltod"
            do { try exec(Command(executable: ltod, argv: [ltod, "config"])) } catch { fail("\(error)") }
        case _ where daemonCommands.contains(first):
            command(first, Array(argv.dropFirst(2)))
        case _ where first.hasPrefix("-"):
            fail("unknown option \(first); see `ltoc --help`", status: 2)
        default:
            launch(Array(argv.dropFirst()))
        }
    }

    static func command(_ name: String, _ args: [String]) -> Never {
        if args.contains("--help") || args.contains("-h") {
            writeAll(1, Array(usage.utf8))
            exit(0)
        }
        let socket: FrameSocket
        do { socket = try connectToDaemon(autostart: autostarting.contains(name)) } catch {
            fail("ltod is not running on \(Places.current.socket) (\(error))")
        }
        do {
            switch try socket.request(.command(name: name, arguments: args)) {
            case .output(let status, let out, let err):
                writeAll(1, out)
                writeAll(2, err)
                exit(status)
            case let other:
                fail(failureText(other))
            }
        } catch {
            fail("\(name): \(error)")
        }
    }

    /// Launcher mode: run the compiler, adding ltod's `-B` directory to LTO links, and keeping
    /// make's jobserver for the link's wrapper where GCC's driver would drop it from MAKEFLAGS.
    static func launch(_ args: [String]) -> Never {
        let compiler = args[0]
        let rest = Array(args.dropFirst())
        let link = Launcher.isLTOLink(rest)
        let argv = link ? Launcher.arguments(compiler: compiler, args: rest, libexecDir: libexecDirectory()) : args
        if link, let jobserver = lookup("MAKEFLAGS").flatMap(MakeJobserver.init(makeflags:)) {
            setenv(ShimEnvironment.jobserver, jobserver.auth, 1)
        }
        do { try exec(Command(executable: compiler, argv: argv)) } catch { fail("\(error)", status: 127) }
    }
}
