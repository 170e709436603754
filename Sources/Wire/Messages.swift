import LTOSystem

/// Protocol constants shared by both ends.
public enum Protocol {
    /// Bumped on any incompatible change to the message set, its encoding or its meaning.
    /// 2: the link-scope settings travel in the link's environment; a daemon answers a
    /// `hello` of another version with its own, then accepts only `shutdown`.
    /// 3: `openSession` may be answered with the link's output (a whole-link answer), and
    /// `closeSession` carries what lto-wrapper printed on stdout and what the link printed on stderr.
    public static let version: UInt16 = 3
    /// The largest frame either side accepts (argv and environment of a link, or a rendered report).
    public static let maxFrameBytes: UInt32 = 16 << 20
    /// The magic that opens every `hello`, so that a stray byte stream is refused at once.
    static let magic: [UInt8] = Array("LTOD".utf8)
    static let maxListCount = 1 << 16
    static let maxSessionID = 64
    /// The most descriptors a frame carries: make's jobserver, its read end and its write end.
    public static let maxDescriptors = 2
}

/// What a client asks of the daemon. The first frame of every connection is `hello`.
public enum Request: Equatable, Sendable {
    case hello(version: UInt16)
    /// A management or query command (`stats`, `explain`, `gc`, ...), answered with `output`.
    case command(name: String, arguments: [String])
    /// The wrapper announces a link: GCC's lto-wrapper invocation. When the link runs under
    /// make's jobserver, its frame carries the jobserver as two descriptors (SCM_RIGHTS): the
    /// read end and the write end (for make 4.4's FIFO, one descriptor of it opened for both).
    case openSession(Invocation)
    /// The wrapper reports how the real lto-wrapper ended, what it printed on stdout, and
    /// what the link (lto-wrapper and every job it ran) printed on stderr: nil when the
    /// wrapper did not capture it whole.
    case closeSession(id: String, exitStatus: Int32, printed: [UInt8], messages: [UInt8]?)
    /// A driver invocation (WPA, LTRANS or other) made by lto-wrapper within a session.
    case compile(session: String, Invocation)
}

/// What a daemon's answer to `hello` means for the client.
public enum HelloAnswer: Equatable, Sendable {
    case accepted(pid: Int32)
    /// The daemon speaks another protocol version (an older or newer ltod). It accepts only
    /// `shutdown` on this connection, sent after a `hello` of its own version.
    case otherVersion(UInt16, pid: Int32?)
    case refused(String)

    public init(_ reply: Reply) {
        switch reply {
        case .hello(let version, let pid) where version == Protocol.version: self = .accepted(pid: pid)
        case .hello(let version, let pid): self = .otherVersion(version, pid: pid)
        case .failure(let message): self = Self.versionOne(message).map { .otherVersion($0, pid: nil) } ?? .refused(message)
        default: self = .refused("unexpected reply to hello")
        }
    }

    /// The version a protocol 1 daemon names in its refusal ("... (this build speaks 1); ...").
    private static func versionOne(_ message: String) -> UInt16? {
        let marker = "(this build speaks "
        guard message.hasPrefix("protocol version ") else { return nil }
        var rest = Substring(message)
        while !rest.isEmpty && !rest.hasPrefix(marker) { rest = rest.dropFirst() }
        return rest.isEmpty ? nil : UInt16(rest.dropFirst(marker.count).prefix { $0.isNumber })
    }
}

/// The daemon's answer to one request.
public enum Reply: Equatable, Sendable {
    case hello(version: UInt16, pid: Int32)
    /// `partitionOption` is appended to COLLECT_GCC_OPTIONS by the wrapper; empty means keep the user's.
    case session(id: String, partitionOption: String)
    /// What the client prints and the status it exits with. To `openSession`: the daemon
    /// answered the whole link; the wrapper prints this instead of running lto-wrapper.
    case output(exitStatus: Int32, stdout: [UInt8], stderr: [UInt8])
    /// The request was refused; the message says why and what to do.
    case failure(String)
    /// ltod stays out of this link (e.g. offloading); the wrapper runs GCC's lto-wrapper unchanged.
    case passThrough(reason: String)
}

private enum RequestType: UInt8 { case hello = 1, command, openSession, closeSession, compile }
private enum ReplyType: UInt8 { case hello = 1, session, output, failure, passThrough }

extension WireWriter {
    mutating func invocation(_ i: Invocation) {
        strings(i.argv)
        string(i.cwd)
        strings(i.environment)
    }
}

extension WireReader {
    /// An invocation, checked: argv not empty, directory absolute, bounded lists, `NAME=value` entries.
    mutating func invocation() throws(WireError) -> Invocation {
        let i = Invocation(argv: try strings(), cwd: try string(), environment: try strings())
        guard !i.argv.isEmpty else { throw .invalidField("argv is empty") }
        guard i.cwd.hasPrefix("/") else { throw .invalidField("working directory '\(i.cwd)' is not absolute") }
        guard i.argv.count <= Protocol.maxListCount, i.environment.count <= Protocol.maxListCount else {
            throw .invalidField("too many arguments or environment entries")
        }
        for entry in i.environment where !entry.contains("=") {
            throw .invalidField("environment entry '\(entry.prefix(40))' has no '='")
        }
        return i
    }

    mutating func sessionID() throws(WireError) -> String {
        let id = try string()
        guard !id.isEmpty, id.utf8.count <= Protocol.maxSessionID else { throw .invalidField("session id '\(id.prefix(80))'") }
        return id
    }
}

extension Request {
    public func encoded() -> [UInt8] {
        var w = WireWriter()
        switch self {
        case .hello(let version):
            w.u8(RequestType.hello.rawValue)
            for b in Protocol.magic { w.u8(b) }
            w.u32(UInt32(version))
        case .command(let name, let arguments):
            w.u8(RequestType.command.rawValue)
            w.string(name)
            w.strings(arguments)
        case .openSession(let inv):
            w.u8(RequestType.openSession.rawValue)
            w.invocation(inv)
        case .closeSession(let id, let status, let printed, let messages):
            w.u8(RequestType.closeSession.rawValue)
            w.string(id)
            w.i64(Int64(status))
            w.blob(printed)
            w.u8(messages == nil ? 0 : 1)
            w.blob(messages ?? [])
        case .compile(let session, let inv):
            w.u8(RequestType.compile.rawValue)
            w.string(session)
            w.invocation(inv)
        }
        return w.bytes
    }

    /// Decodes and validates one request frame's payload.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> Request {
        var r = WireReader(bytes)
        let raw = try r.u8()
        guard let type = RequestType(rawValue: raw) else { throw .unknownMessage(raw) }
        let request: Request
        switch type {
        case .hello:
            var magic: [UInt8] = []
            for _ in Protocol.magic { magic.append(try r.u8()) }
            guard magic == Protocol.magic else { throw .malformed("bad magic in hello") }
            let v = try r.u32()
            guard v <= UInt16.max else { throw .unsupportedVersion(UInt16.max) }
            request = .hello(version: UInt16(v))
        case .command:
            request = .command(name: try r.string(), arguments: try r.strings())
        case .openSession:
            request = .openSession(try r.invocation())
        case .closeSession:
            let id = try r.sessionID()
            let status = try r.i64()
            guard let s = Int32(exactly: status) else { throw .invalidField("exit status \(status)") }
            let printed = try r.blob()
            let captured = try r.u8()
            guard captured <= 1 else { throw .invalidField("messages flag \(captured)") }
            let messages = try r.blob()
            request = .closeSession(id: id, exitStatus: s, printed: printed, messages: captured == 1 ? messages : nil)
        case .compile:
            request = .compile(session: try r.sessionID(), try r.invocation())
        }
        guard r.isAtEnd else { throw .malformed("trailing bytes after message") }
        return request
    }
}

extension Reply {
    public func encoded() -> [UInt8] {
        var w = WireWriter()
        switch self {
        case .hello(let version, let pid):
            w.u8(ReplyType.hello.rawValue)
            w.u32(UInt32(version))
            w.i64(Int64(pid))
        case .session(let id, let option):
            w.u8(ReplyType.session.rawValue)
            w.string(id)
            w.string(option)
        case .output(let status, let out, let err):
            w.u8(ReplyType.output.rawValue)
            w.i64(Int64(status))
            w.blob(out)
            w.blob(err)
        case .failure(let message):
            w.u8(ReplyType.failure.rawValue)
            w.string(message)
        case .passThrough(let reason):
            w.u8(ReplyType.passThrough.rawValue)
            w.string(reason)
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(WireError) -> Reply {
        var r = WireReader(bytes)
        let raw = try r.u8()
        guard let type = ReplyType(rawValue: raw) else { throw .unknownMessage(raw) }
        let reply: Reply
        switch type {
        case .hello:
            let v = try r.u32()
            let pid = try r.i64()
            guard v <= UInt16.max, let p = Int32(exactly: pid) else { throw .malformed("hello reply fields out of range") }
            reply = .hello(version: UInt16(v), pid: p)
        case .session:
            reply = .session(id: try r.sessionID(), partitionOption: try r.string())
        case .output:
            let status = try r.i64()
            guard let s = Int32(exactly: status) else { throw .invalidField("exit status \(status)") }
            reply = .output(exitStatus: s, stdout: try r.blob(), stderr: try r.blob())
        case .failure:
            reply = .failure(try r.string())
        case .passThrough:
            reply = .passThrough(reason: try r.string())
        }
        guard r.isAtEnd else { throw .malformed("trailing bytes after message") }
        return reply
    }
}
