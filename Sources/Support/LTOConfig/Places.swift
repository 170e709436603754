// LTOConfig owns what both binaries know about ltod's settings, as pure logic: the
// settings table (key, environment variable, valid values, help, scope), the default
// places (socket, cache, config file, log), the names the shim and the daemon pass each
// other, and the version. Foundation-free: the shim links it. Reading config.toml with a
// TOML library is the daemon's (LTODaemon.ConfigFile).
#if canImport(Glibc)
import Glibc
#endif
import LTOSystem

/// The version of ltod and ltoc.
public let ltodVersion = "0.1.0"

/// Environment variables the shim sets for GCC's lto-wrapper, which runs the shim again as
/// its driver: the real driver to run and the link session the jobs belong to; and the one
/// the launcher sets for the link: make's jobserver as MAKEFLAGS named it (GCC 12's driver
/// drops from MAKEFLAGS a jobserver it cannot use itself, such as make 4.4's FIFO).
public enum ShimEnvironment {
    public static let driver = "LTOD_DRIVER"
    public static let session = "LTOD_SESSION"
    public static let jobserver = "LTOD_JOBSERVER"
    /// What the shim saw of its terminal (LTOGCC's `ShimTerminal`); only in the invocations it
    /// sends the daemon, never in a process's environment.
    public static let terminal = "LTOD_TERMINAL"
    /// `GNUMAKEFLAGS` as the link had it: `=VALUE`, or empty when it was unset. The shim adds
    /// `-s` to it for lto-wrapper, whose make would otherwise print "Nothing to be done" among
    /// the objects it hands the linker when every object is already finished.
    public static let makeFlags = "LTOD_GNUMAKEFLAGS"
    /// Every one, for removing them before a real compiler runs.
    public static let all = [driver, session, jobserver, terminal, makeFlags]

    /// `GNUMAKEFLAGS` for lto-wrapper, and the value of `makeFlags` that remembers the link's own.
    public static func silencingMake(_ original: String?) -> (gnuMakeFlags: String, remembered: String) {
        ((original.map { $0 + " " } ?? "") + "-s", original.map { "=" + $0 } ?? "")
    }

    /// `environment` as the link had it: the shim's variables removed, `GNUMAKEFLAGS` restored.
    public static func restoring(_ environment: [String]) -> [String] {
        let remembered = lookup(makeFlags, in: environment)
        let cleaned = removing(all, from: environment)
        switch remembered {
        case nil: return cleaned
        case let value? where value.hasPrefix("="): return setting("GNUMAKEFLAGS", to: String(value.dropFirst()), in: cleaned)
        case _?: return removing(["GNUMAKEFLAGS"], from: cleaned)
        }
    }
}

/// Where ltod keeps its files, from the environment (a lookup function, so that the daemon
/// can resolve them for another environment than its own).
public struct Places: Sendable {
    public let socket: String
    public let cacheDirectory: String
    public let configFile: String

    public init(environment get: (String) -> String?) {
        func value(_ name: String) -> String? { get(name).flatMap { $0.isEmpty ? nil : $0 } }
        let home = value("HOME") ?? Places.passwordHome()
        socket = value("LTOD_SOCKET")
            ?? value("XDG_RUNTIME_DIR").flatMap { $0.hasPrefix("/") ? $0 + "/ltod/socket" : nil }
            ?? "/tmp/ltod-\(getuid())/socket"
        cacheDirectory = value("LTOD_CACHE_DIR") ?? value("XDG_CACHE_HOME").map { $0 + "/ltod" } ?? home + "/.cache/ltod"
        configFile = value("LTOD_CONFIG") ?? (value("XDG_CONFIG_HOME") ?? home + "/.config") + "/ltod/config.toml"
    }

    /// The places for this process's environment.
    public static var current: Places { Places { getenv($0).map { String(cString: $0) } } }

    /// Where the shim records links that ran without the daemon, for `sessions.fallbacks`.
    public var fallbackLog: String { Places.fallbackLog(forSocket: socket) }

    /// The fallback log beside the socket at `socket`, in the socket's directory (0700).
    public static func fallbackLog(forSocket socket: String) -> String {
        directoryName(socket) + "/fallbacks"
    }

    /// The daemon's log when it runs detached (`ltod start`).
    public var logFile: String { cacheDirectory + "/ltod.log" }

    /// The lock file a serving daemon holds beside its socket (see LTOWire's `DaemonLock`).
    public var socketLock: String { socket + ".lock" }

    /// Why the last daemon start failed, beside the socket: written by a daemon that could
    /// not start, removed by one that serves; `ltoc status` shows it.
    public var startErrorFile: String { directoryName(socket) + "/start-error" }

    private static func passwordHome() -> String {
        guard let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir else { return "/" }
        return String(cString: dir)
    }
}
