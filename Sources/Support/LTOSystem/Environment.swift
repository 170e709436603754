// LTOSystem: environments: this process's, and the lists of `NAME=value` entries that
// invocations carry between the shim, the daemon and the compilers it runs.
#if canImport(Glibc)
import Glibc
#endif

/// This process's environment as `NAME=value` entries.
public func currentEnvironment() -> [String] {
    var out: [String] = []
    var p = environ
    while let entry = p.pointee {
        out.append(String(cString: entry))
        p += 1
    }
    return out
}

/// The value of `name` in an environment list (in this process's environment when nil);
/// the last entry wins, as in `getenv` of a process started with that list.
public func lookup(_ name: String, in environment: [String]? = nil) -> String? {
    guard let environment else { return getenv(name).map { String(cString: $0) } }
    let prefix = name + "="
    return environment.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.utf8.count)) }
}

/// `environment` with `name` set to `value`, replacing every earlier entry of it.
public func setting(_ name: String, to value: String, in environment: [String]) -> [String] {
    removing([name], from: environment) + [name + "=" + value]
}

/// `environment` without the entries of `names`.
public func removing(_ names: [String], from environment: [String]) -> [String] {
    environment.filter { entry in !names.contains { entry.hasPrefix($0 + "=") } }
}

/// One process invocation as a client saw it: its arguments, directory and environment.
public struct Invocation: Equatable, Sendable {
    public var argv: [String]
    public var cwd: String
    public var environment: [String]

    public init(argv: [String], cwd: String, environment: [String]) {
        self.argv = argv
        self.cwd = cwd
        self.environment = environment
    }

    /// The value of one environment variable, as the client had it.
    public func env(_ name: String) -> String? { lookup(name, in: environment) }

    /// `path` made absolute against the invocation's directory.
    public func absolute(_ path: String) -> String { absolutePath(path, relativeTo: cwd) }
}
