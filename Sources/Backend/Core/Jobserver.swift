// LTOBackend: the daemon's side of make's jobserver: the descriptors a link's shim handed
// over, checked, and taking and giving back tokens ("Job Slots" in make's manual: one byte
// read from the jobserver per job beyond the first, the same byte written back when it ends).
#if canImport(Glibc)
import Glibc
#endif
import LTOSystem

/// Why descriptors handed over as make's jobserver cannot be used.
public enum JobserverError: Error, CustomStringConvertible {
    case notAPipe
    case notOnePipe
    case wrongDirection
    case cannotReopen(String)

    public var description: String {
        switch self {
        case .notAPipe: return "the descriptors handed over as make's jobserver are not pipes or FIFOs"
        case .notOnePipe: return "the jobserver's read and write descriptors are not the two ends of one pipe"
        case .wrongDirection: return "the jobserver's read end cannot be read or its write end cannot be written"
        case .cannotReopen(let why): return "cannot open the jobserver for reading: \(why)"
        }
    }
}

/// make's jobserver as the daemon uses it for one link. It owns the descriptors it was given.
/// Tokens are read through a description of its own, non-blocking (opened anew through
/// /proc/self/fd), so that waiting for one never changes the flags make's own reads see.
public final class Jobserver: Sendable {
    private let readFD: Int32
    private let writeFD: Int32

    /// Takes ownership of `readEnd` and `writeEnd` (closed here on failure, else when released).
    public init(readEnd: Int32, writeEnd: Int32) throws(JobserverError) {
        defer { if readEnd != writeEnd { close(readEnd) } }
        do {
            try Self.check(readEnd: readEnd, writeEnd: writeEnd)
        } catch {
            close(writeEnd)
            throw error
        }
        let own = open("/proc/self/fd/\(readEnd)", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard own >= 0 else {
            let why = errnoText()
            close(writeEnd)
            throw .cannotReopen(why)
        }
        readFD = own
        writeFD = writeEnd
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// A token if one is there now.
    func take() -> UInt8? {
        var token: UInt8 = 0
        return read(readFD, &token, 1) == 1 ? token : nil
    }

    /// Waits up to `milliseconds` for a token to be there (another client may still take it first).
    func waitForToken(milliseconds: Int32) {
        var ready = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        _ = poll(&ready, 1, milliseconds)
    }

    /// Gives a token back. If make has gone (no reader left), there is nobody to give it to.
    func give(_ token: UInt8) {
        var byte = token
        while write(writeFD, &byte, 1) < 0 && errno == EINTR {}
    }

    /// Both descriptors must be the two ends of one pipe or FIFO, readable and writable.
    private static func check(readEnd: Int32, writeEnd: Int32) throws(JobserverError) {
        var r = stat(), w = stat()
        guard fstat(readEnd, &r) == 0, fstat(writeEnd, &w) == 0,
              r.st_mode & S_IFMT == S_IFIFO, w.st_mode & S_IFMT == S_IFIFO
        else { throw .notAPipe }
        guard r.st_dev == w.st_dev, r.st_ino == w.st_ino else { throw .notOnePipe }
        let readMode = fcntl(readEnd, F_GETFL) & O_ACCMODE, writeMode = fcntl(writeEnd, F_GETFL) & O_ACCMODE
        guard readMode == O_RDONLY || readMode == O_RDWR, writeMode == O_WRONLY || writeMode == O_RDWR else {
            throw .wrongDirection
        }
    }
}
