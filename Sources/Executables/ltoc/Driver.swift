#if canImport(Glibc)
import Glibc
#endif
import LTOConfig
import LTOSystem
import LTOWire

/// Driver mode: lto-wrapper runs ltoc as its compiler driver for WPA and LTRANS.
/// The daemon runs the real command (or answers from the cache) and ltoc prints
/// what it printed and exits with its status. If the daemon is gone, the real
/// driver runs here instead.
enum Driver {
    static func run(_ argv: [String], driver: String, session: String) -> Never {
        let env = currentEnvironment()
        guard invocationIsText() else { runUnchanged(argv, driver: driver) }
        let invocation = Invocation(argv: argv, cwd: currentDirectory(), environment: env + [Wrapper.terminalFacts()])
        do {
            let socket = try connectToDaemon()
            switch try socket.request(.compile(session: session, invocation)) {
            case .output(let status, let out, let err):
                writeAll(1, out)
                writeAll(2, err)
                exit(status)
            case let other:
                runDirectly(argv, driver: driver, env: env, reason: failureText(other))
            }
        } catch {
            runDirectly(argv, driver: driver, env: env, reason: "\(error)")
        }
    }

    /// Runs the real driver with its raw argv and environment bytes (only ltod's variables
    /// removed, GNUMAKEFLAGS as the link had it).
    static func runUnchanged(_ argv: [String], driver: String) -> Never {
        restoreLinkEnvironment()
        setenv("COLLECT_GCC", driver, 1)
        execRaw((try? resolveExecutable(driver, searchPath: lookup("PATH"))) ?? driver, argv0: driver)
    }

    /// Runs the real driver in this process's place, with the environment GCC gave lto-wrapper.
    static func runDirectly(_ argv: [String], driver: String, env: [String], reason: String) -> Never {
        if (try? Configuration.forLink(environment: environmentDictionary(env)))?.strict ?? false { fail("ltod could not run this job (\(reason)) and strict mode is on (LTOD_STRICT or strict in config.toml)") }
        let restored = setting("COLLECT_GCC", to: driver, in: ShimEnvironment.restoring(env))
        do { try exec(Command(executable: driver, argv: [driver] + argv.dropFirst(), environment: restored)) } catch { fail("\(error)") }
    }
}
