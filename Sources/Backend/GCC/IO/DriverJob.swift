// LTOGCCBackend: one driver invocation lto-wrapper made, as the daemon runs it.
import Foundation
import LTOBackend
import LTOConfig
import LTOGCC
import LTOHash
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
        environment = Self.environment(of: invocation, driver: driver)
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

    /// The environment the real driver runs with: the link's own (COLLECT_GCC the real
    /// driver), and COLUMNS set to the width of the shim's terminal when the link left it
    /// unset: GCC sizes the source lines it quotes to the terminal on its standard input,
    /// and the daemon's jobs have none.
    private static func environment(of invocation: Invocation, driver: String) -> [String] {
        var env = setting("COLLECT_GCC", to: driver, in: ShimEnvironment.restoring(invocation.environment))
        if lookup("COLUMNS", in: env) == nil,
           let columns = invocation.env(ShimEnvironment.terminal).flatMap(ShimTerminal.init(encoded:))?.columns {
            env = setting("COLUMNS", to: String(columns), in: env)
        }
        return env
    }

    /// The digest of the context `printed` (what this job printed) was printed in, read now.
    func diagnosticsContext(of printed: [UInt8]) -> Digest {
        var env: [String: String] = [:]
        for name in DiagnosticsContext.environmentNames { env[name] = lookup(name, in: environment) }
        var sources: [String: Digest?] = [:]
        for file in DiagnosticsContext.sourceFiles(in: printed) { sources[file] = readFileBytes(absolute(file)).map { Digest.of($0) } }
        return DiagnosticsContext(terminal: invocation.env(ShimEnvironment.terminal), environment: env, sources: sources).digest
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

extension DriverJob {
    /// Runs the job as `owner` with `-Wa,--MD,<file>` (which changes nothing in the object) so that the
    /// assembler lists what it read. Returns nil as the second value only when it read
    /// nothing but lto1's output; otherwise the files (or a reason): such a result depends on
    /// files outside every key and is never stored.
    func runListingReads(_ context: BackendContext, for owner: some JobOwner) throws -> (ProcessResult, external: [String]?) {
        // A private TMPDIR, so that lto1's temporary assembler file is known to be the job's own.
        let jobDirectory = try context.scratch.makeDirectory("job")
        defer { try? FileManager.default.removeItem(atPath: jobDirectory) }
        let deps = jobDirectory + "/deps.d"
        guard !deps.contains(",") else { return (try run(context.runner, for: owner), ["(the cache path has a comma)"]) }
        let listing = with(arguments: rawArguments + ["-Wa,--MD," + deps], setting: ["TMPDIR": jobDirectory])
        let result = try listing.run(context.runner, for: owner)
        guard let text = readFileText(deps), let listed = AssemblerDependencies.parse(text) else {
            return (result, ["(no dependency list from the assembler)"])
        }
        let external = AssemblerDependencies.externalInputs(listed, privateDirectory: jobDirectory)
        return (result, external.isEmpty ? nil : external)
    }
}
