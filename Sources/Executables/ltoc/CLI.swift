// ltoc: the command line in ccache's habits: management and query commands (and ccache's
// option spellings for them), strict about what it does not know, or launcher mode
// (`ltoc gcc ...`). Queries never start a daemon: with none running, the cache's commands
// are answered by `ltod offline` from the cache directory.
#if canImport(Glibc)
import Glibc
#endif
import LTOConfig
import LTOGCC
import LTOSystem
import LTOWire

/// The command line, parsed by hand: swift-argument-parser links FoundationEssentials, and
/// the shim must stay Foundation-free. The commands and their options are LTOWire's
/// `CommandSpec` table, which the daemon parses with too.
enum CLI {
    static var usage: String {
        var out = """
        usage: ltoc COMMAND [OPTIONS]
               ltoc CC ARGS...            run a compiler driver; LTO links go through ltod
               gcc -flto -B "$(ltoc --libexec-dir)" ...

        Commands:

        """
        for spec in CommandSpec.all where spec.listed {
            out += line(String(spec.synopsis.dropFirst("ltoc ".count)), spec.help)
        }
        out += "\nccache's options:\n"
        for alias in CommandSpec.aliases {
            let spec = CommandSpec.named(alias.command)
            let value = spec?.operandRequired == true ? " " + (spec?.operand ?? "") : ""
            out += line(alias.spellings.joined(separator: ", ") + value, "= " + ([alias.command] + alias.arguments).joined(separator: " "))
        }
        out += line("-V, --version", "ltoc's version and protocol")
        out += line("-h, --help", "this help")
        out += line("--libexec-dir", "the directory to pass to gcc -B")
        out += "\nSettings (environment variable, else config.toml: \(Places.current.configFile)):\n"
        out += Setting.helpText(defaults: Configuration(places: .current))
        return out
    }

    /// One entry of the help: a name column, with the text beside it or under it.
    private static func line(_ name: String, _ text: String) -> String {
        name.count < 30 ? "  " + name.padded(to: 32) + text + "\n" : "  " + name + "\n  " + "".padded(to: 32) + text + "\n"
    }

    static func run(_ argv: [String]) -> Never {
        guard argv.count > 1 else { fail("missing command\nusage: ltoc COMMAND [OPTIONS] | ltoc CC ARGS... (see `ltoc --help`)", status: 2) }
        let first = argv[1], rest = Array(argv.dropFirst(2))
        switch first {
        case "-h", "--help", "help":
            writeAll(1, Array(usage.utf8))
            exit(0)
        case "-V", "--version":
            writeAll(1, Array("ltoc \(ltodVersion) (protocol \(Protocol.version))\n".utf8))
            exit(0)
        case "--libexec-dir":
            writeAll(1, Array((libexecDirectory() + "\n").utf8))
            exit(0)
        default: break
        }
        if let (name, arguments) = CommandSpec.alias(first) { runCommand(name, arguments + rest) }
        if let spec = CommandSpec.named(first), spec.listed { runCommand(first, rest) }
        if first.hasPrefix("-") { fail("unknown option \(first)\nusage: ltoc COMMAND [OPTIONS] | ltoc CC ARGS... (see `ltoc --help`)", status: 2) }
        let suggestions = CommandSpec.suggestions(for: first)
        if !suggestions.isEmpty && !Launcher.namesCompiler(first) {
            let names = suggestions.map { "'\($0)'" }.joined(separator: " or ")
            fail("unknown command '\(first)'; did you mean \(names)? (to run a program called \(first), give its path)", status: 2)
        }
        launch(Array(argv.dropFirst()))
    }

    /// Runs command `name`: checks its arguments, then asks the running daemon, or (for the
    /// cache's commands) `ltod offline` when none runs.
    static func runCommand(_ name: String, _ arguments: [String]) -> Never {
        guard let spec = CommandSpec.named(name) else { fail("unknown command '\(name)'", status: 2) }
        if arguments.contains("--help") || arguments.contains("-h") {
            writeAll(1, Array("usage: \(spec.synopsis)\n  \(spec.help)\n".utf8))
            exit(0)
        }
        let parsed: ParsedCommand
        do { parsed = try spec.parse(arguments) } catch { fail("\(error)", status: 2) }
        let sent = withAbsoluteTarget(arguments, parsed, spec)
        switch spec.answerer {
        case .configReport:
            execLtod(["config"])
        case .daemon:
            guard daemonServes() else { notRunning(name) }
            request(name, sent)
        case .cache:
            if daemonServes() { request(name, sent) }
            execLtod(["offline", name] + sent)
        }
    }

    /// The arguments with a TARGET that names an existing file made absolute, so that
    /// `ltoc explain ./app` means this directory's `app`.
    private static func withAbsoluteTarget(_ arguments: [String], _ parsed: ParsedCommand, _ spec: CommandSpec) -> [String] {
        guard spec.operand == "TARGET", let target = parsed.operand, !target.hasPrefix("/"), access(target, F_OK) == 0,
              let index = arguments.lastIndex(of: target)
        else { return arguments }
        var out = arguments
        out[index] = normalizedPath(absolutePath(target, relativeTo: currentDirectory()))
        return out
    }

    /// Sends the command to the running daemon and exits as it says.
    private static func request(_ name: String, _ arguments: [String]) -> Never {
        let socket: FrameSocket
        do { socket = try connectToDaemon() } catch DaemonUnavailable.otherVersion(let version, let pid) where name == "shutdown" {
            retire(version: version, pid: pid, arguments: arguments)
        } catch DaemonUnavailable.notRunning {
            if CommandSpec.named(name)?.answerer == .cache { execLtod(["offline", name] + arguments) }
            notRunning(name)
        } catch {
            fail("\(error)")
        }
        do {
            switch try socket.request(.command(name: name, arguments: arguments)) {
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

    /// `ltoc shutdown` to a daemon of another protocol version: asked in its own version.
    private static func retire(version: UInt16, pid: Int32?, arguments: [String]) -> Never {
        guard askToStop(version: version, arguments: arguments) else { fail("cannot ask ltod (protocol \(version)) to stop") }
        writeAll(1, Array("ltod\(pid.map { " (pid \($0))" } ?? "") speaks protocol \(version); asked it to stop\n".utf8))
        exit(0)
    }

    private static func notRunning(_ name: String) -> Never {
        let places = Places.current
        if name == "shutdown" {
            writeAll(1, Array("ltod is not running on \(places.socket)\n".utf8))
            exit(0)
        }
        var message = "ltod is not running on \(places.socket)"
        if let reason = readFileText(places.startErrorFile, limit: 1 << 16)?.split(separator: "\n").first {
            message += "\nltoc: its last start failed: \(reason)"
        }
        fail(message)
    }

    /// Replaces this process with `ltod` (beside this binary) and `arguments`.
    private static func execLtod(_ arguments: [String]) -> Never {
        let ltod = directoryName(executablePath()) + "/ltod"
        do { try exec(Command(executable: ltod, argv: [ltod] + arguments)) } catch { fail("\(error)") }
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
