// LTOWire: make's jobserver as the shim finds it and hands it to the daemon: what MAKEFLAGS
// names (make 4.3's pipe `--jobserver-auth=R,W`, make 4.4's `--jobserver-auth=fifo:PATH`,
// make 4.1's `--jobserver-fds=R,W`), and the descriptors to send with the session request.
#if canImport(Glibc)
import Glibc
#endif

/// make's jobserver as MAKEFLAGS names it ("Job Slots" in make's manual). make passes the
/// pipe's descriptors only to recipes it knows run make (`+` or `$(MAKE)`); elsewhere MAKEFLAGS
/// still names them, but they are closed or something else, which `descriptors()` detects.
public enum MakeJobserver: Equatable, Sendable {
    case pipe(read: Int32, write: Int32)
    case fifo(path: String)

    /// The jobserver in `makeflags`: the last `--jobserver-auth=` (or `--jobserver-fds=`) wins,
    /// as make's manual asks of clients. Nil when there is none (`-j` alone, or no make).
    public init?(makeflags: String) {
        var found: MakeJobserver?
        for word in makeflags.split(separator: " ") {
            for option in ["--jobserver-auth=", "--jobserver-fds="] where word.hasPrefix(option) {
                found = MakeJobserver(auth: String(word.dropFirst(option.count)))
            }
        }
        guard let found else { return nil }
        self = found
    }

    /// A jobserver from the value of `--jobserver-auth=`: `R,W` or `fifo:PATH`.
    public init?(auth: String) {
        if auth.hasPrefix("fifo:"), auth.count > 5 {
            self = .fifo(path: String(auth.dropFirst(5)))
            return
        }
        let ends = auth.split(separator: ",", omittingEmptySubsequences: false)
        guard ends.count == 2, let r = Int32(ends[0]), let w = Int32(ends[1]), r >= 0, w >= 0 else { return nil }
        self = .pipe(read: r, write: w)
    }

    /// The value of `--jobserver-auth=` that names this jobserver.
    public var auth: String {
        switch self {
        case .pipe(let r, let w): return "\(r),\(w)"
        case .fifo(let path): return "fifo:" + path
        }
    }

    /// A jobserver's descriptors as the shim hands them over.
    public struct Descriptors: Equatable, Sendable {
        public let read: Int32
        public let write: Int32
        /// Opened by the shim (a FIFO: one descriptor for both ends), to close once sent.
        public let opened: Bool
    }

    /// The descriptors to hand to the daemon, read end then write end, or nil when they are
    /// not a usable jobserver (the pipe's descriptors are not the two ends of one pipe, as
    /// where make did not pass them; the FIFO cannot be opened).
    public func descriptors() -> Descriptors? {
        switch self {
        case .pipe(let r, let w):
            var rs = stat(), ws = stat()
            guard fstat(r, &rs) == 0, fstat(w, &ws) == 0, rs.st_mode & S_IFMT == S_IFIFO, ws.st_mode & S_IFMT == S_IFIFO,
                  rs.st_dev == ws.st_dev, rs.st_ino == ws.st_ino
            else { return nil }
            return Descriptors(read: r, write: w, opened: false)
        case .fifo(let path):
            // Read-write, so that opening never waits for a writer.
            let fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { return nil }
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else {
                close(fd)
                return nil
            }
            return Descriptors(read: fd, write: fd, opened: true)
        }
    }
}
