#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon's socket lives (DESIGN.md, "Default places"):
/// `$LTOD_SOCKET`, else `$XDG_RUNTIME_DIR/ltod/socket`, else `/tmp/ltod-$UID/socket`.
public enum Endpoint {
    public static func socketPath(environment get: (String) -> String? = Endpoint.processEnv) -> String {
        if let explicit = get("LTOD_SOCKET"), !explicit.isEmpty { return explicit }
        if let runtime = get("XDG_RUNTIME_DIR"), runtime.hasPrefix("/") { return runtime + "/ltod/socket" }
        return "/tmp/ltod-\(getuid())/socket"
    }

    /// Reads the calling process's environment.
    public static func processEnv(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Where the shim records links that ran without the daemon, for `sessions.fallbacks`.
    public static func fallbackLog(socketPath: String) -> String {
        directory(of: socketPath) + "/fallbacks"
    }

    /// The parent directory of a socket path.
    public static func directory(of socketPath: String) -> String {
        guard let slash = socketPath.lastIndex(of: "/") else { return "." }
        return slash == socketPath.startIndex ? "/" : String(socketPath[..<slash])
    }
}
