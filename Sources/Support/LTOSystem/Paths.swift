// LTOSystem: paths: making them absolute, finding programs in PATH, the current and
// real directory of this process.
#if canImport(Glibc)
import Glibc
#endif

/// `path` made absolute against `directory` (unchanged when it already is absolute).
public func absolutePath(_ path: String, relativeTo directory: String) -> String {
    if path.hasPrefix("/") { return path }
    return directory.hasSuffix("/") ? directory + path : directory + "/" + path
}

/// Finds a program the way `execvp` does: a name with a slash is taken as it is, a bare
/// name is searched in `searchPath` (an empty entry means the current directory). Relative
/// results are made absolute against `directory` when one is given.
public func resolveExecutable(_ name: String, searchPath: String?, directory: String? = nil) throws(SpawnError) -> String {
    let anchored = { (p: String) in directory.map { absolutePath(p, relativeTo: $0) } ?? p }
    if name.contains("/") { return anchored(name) }
    for entry in (searchPath ?? defaultSearchPath).split(separator: ":", omittingEmptySubsequences: false) {
        let candidate = anchored((entry.isEmpty ? "." : String(entry)) + "/" + name)
        if access(candidate, X_OK) == 0 { return candidate }
    }
    throw .notFound(name)
}

/// The search path used when `PATH` is unset.
public let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

/// The canonical path of `path` (symlinks resolved), or nil when it does not exist.
public func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

/// This process's working directory ("/" if it cannot be determined).
public func currentDirectory() -> String {
    guard let p = getcwd(nil, 0) else { return "/" }
    defer { free(p) }
    return String(cString: p)
}

/// The running executable's real path (through symlinks such as `lto-wrapper`).
public func executablePath() -> String {
    realPath("/proc/self/exe") ?? CommandLine.arguments[0]
}

/// The last component of a path.
public func baseName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}

/// The parent directory of a path ("." for a bare name, "/" for a file at the root).
public func directoryName(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// An absolute `path` with `.` and empty components removed and `..` applied, without
/// looking at the filesystem (symlinks are left as named).
public func normalizedPath(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/") {
        switch part {
        case ".": continue
        case "..": if !parts.isEmpty { parts.removeLast() }
        default: parts.append(part)
        }
    }
    return "/" + parts.joined(separator: "/")
}
