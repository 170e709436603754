// LTOGCCBackend: one driver invocation lto-wrapper made, as the daemon runs it.
import LTOBackend
import LTOConfig
import LTOGCC
import LTOSystem

/// One driver invocation to run for a client: the real driver, the client's environment
/// with ltod's own variables removed, its directory and arguments.
struct DriverJob: Sendable {
    /// The driver as lto-wrapper names it (argv[0] of every run).
    let driver: String
    /// The driver's file: found in the client's PATH, relative names taken from the client's directory.
    let executable: String
    let invocation: Invocation
    let environment: [String]
    let rawArguments: [String]
    /// Arguments with response files expanded (what GCC itself will see).
    let arguments: [String]

    init(driver: String, invocation: Invocation) {
        self.driver = driver
        self.invocation = invocation
        executable = (try? resolveExecutable(driver, searchPath: invocation.env("PATH"), directory: invocation.cwd))
            ?? driver
        environment = setting("COLLECT_GCC", to: driver, in: removing(ShimEnvironment.all, from: invocation.environment))
        rawArguments = Array(invocation.argv.dropFirst())
        // A response file that is not valid UTF-8 stays unexpanded: the job is then not
        // recognised as WPA or LTRANS and runs exactly as asked, uncached.
        arguments = ResponseFile.expand(rawArguments) { path in
            readFileBytes(invocation.absolute(path)).flatMap { String(validating: $0, as: UTF8.self) }
        }
    }

    private init(copy: DriverJob, arguments: [String], environment: [String]) {
        driver = copy.driver
        executable = copy.executable
        invocation = copy.invocation
        self.environment = environment
        rawArguments = arguments
        self.arguments = arguments
    }

    /// The same job with other arguments, and environment variables set or replaced.
    func with(arguments: [String], setting extra: [String: String] = [:]) -> DriverJob {
        var env = environment
        for (name, value) in extra.sorted(by: { $0.key < $1.key }) { env = setting(name, to: value, in: env) }
        return DriverJob(copy: self, arguments: arguments, environment: env)
    }

    /// The link session the job belongs to.
    var session: String { invocation.env(ShimEnvironment.session) ?? "" }

    func absolute(_ path: String) -> String { invocation.absolute(path) }

    /// Runs the real driver, exactly as lto-wrapper asked, on a scheduler slot of `owner`.
    func run(_ runner: ProcessRunner, for owner: some JobOwner) throws -> ProcessResult {
        try runner.run(Command(executable: executable, argv: [driver] + rawArguments, environment: environment, directory: invocation.cwd),
                       for: owner)
    }
}
