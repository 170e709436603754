// LTOTestSupport: servers for the remote tier's tests: a real `redis-server` (Debian's
// package) that a test starts on a Unix socket and a loopback port in its own directory,
// stops and starts again; and a fake server of a few lines that answers garbage or
// nothing at all, for the faults a real server does not make on demand.
import Foundation
import LTOSystem
import Testing

/// A real `redis-server` on `socket` (and on a loopback `port`), without persistence,
/// stopped when released.
public final class RedisServer: @unchecked Sendable {
    // @unchecked: `pid` is only touched by the test that owns the server.
    public let directory: String
    public let socket: String
    public let port: Int
    public let password: String?
    private var pid: pid_t?

    /// Starts a server whose files live in `directory`.
    public init(in directory: String, password: String? = nil) throws {
        self.directory = directory
        socket = directory + "/redis.sock"
        port = try freeLoopbackPort()
        self.password = password
        try start()
    }

    deinit { stop() }

    /// `redis+unix://` URL of the socket (with the password, if any).
    public var unixURL: String { "redis+unix://" + (password.map { ":\($0)@" } ?? "") + socket }
    /// `redis://` URL of the loopback port (with the password, if any).
    public var tcpURL: String { "redis://" + (password.map { ":\($0)@" } ?? "") + "127.0.0.1:\(port)" }

    /// The server's command line.
    private var arguments: [String] {
        var args = ["redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--unixsocket", socket, "--unixsocketperm", "700",
                    "--save", "", "--appendonly", "no", "--dir", directory, "--logfile", directory + "/redis.log"]
        if let password { args += ["--requirepass", password] }
        return args
    }

    /// Shell commands that stop the server and start it again, empty, in the background, and
    /// wait until it answers: for a tool a link runs, to restart the server in the middle of it.
    /// `stop` stops the restarted server too.
    public var restartScript: String {
        let cli = "redis-cli -s '\(socket)'" + (password.map { " -a '\($0)' --no-auth-warning" } ?? "")
        let start = arguments.map { "'\($0)'" }.joined(separator: " ") + " --daemonize yes --pidfile '\(pidFile)'"
        return "\(cli) shutdown nosave >/dev/null 2>&1; \(start); until \(cli) ping 2>/dev/null | grep -q PONG; do sleep 0.02; done"
    }

    private var pidFile: String { directory + "/redis.pid" }

    /// Starts (or starts again) the server, empty, and waits until it answers.
    public func start() throws {
        // LTOSystem's spawn, not Process: the child must not inherit the test runner's blocked signals.
        var command = Command(executable: "redis-server", argv: arguments)
        command.stdin = .null
        command.stdout = .null
        command.stderr = .null
        pid = try spawn(command)
        for _ in 0..<500 {
            if (try? cli("PING")) == "PONG" { return }
            usleep(10_000)
        }
        throw TestFailure("redis-server did not answer on \(socket); see \(directory)/redis.log")
    }

    /// Stops the server and waits for it to exit.
    public func stop() {
        if let pid {
            kill(pid, SIGTERM)
            _ = wait(for: pid)
            self.pid = nil
        }
        // A server started again by `restartScript` is not this process's child.
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let restarted = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(restarted, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while kill(restarted, 0) == 0 && Date() < deadline { usleep(10_000) }
            unlink(pidFile)
        }
    }

    /// Runs `redis-cli` on the socket; returns its output without the final newline.
    @discardableResult
    public func cli(_ args: String...) throws -> String {
        let auth = password.map { ["-a", $0, "--no-auth-warning"] } ?? []
        let r = try Shell.run(["redis-cli", "-s", socket] + auth + args, cwd: directory, timeout: 30)
        guard r.status == 0 else { throw TestFailure("redis-cli \(args.joined(separator: " ")): \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .newlines)
    }

    /// The keys ltod wrote (`ltod:*`).
    public func ltodKeys() throws -> [String] {
        try cli("--scan", "--pattern", "ltod:*").split(separator: "\n").map(String.init)
    }
}

/// A fake Redis server on a Unix socket that reads whatever a client sends and answers
/// `garbage` (bytes that are not the Redis protocol), or never answers (`silent`).
public final class FakeRedisServer: @unchecked Sendable {
    // @unchecked: the descriptors are closed once, in `stop`; the threads only use their own.
    public enum Behaviour: Sendable { case garbage, silent }

    public let socket: String
    private let listener: Int32
    private let clients = NSLock()
    private var open: [Int32] = []

    public init(at socket: String, behaviour: Behaviour) throws {
        self.socket = socket
        unlink(socket)
        listener = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socket.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw TestFailure("fake redis: cannot listen on \(socket)") }
        Thread.detachNewThread { [self] in serve(behaviour) }
    }

    deinit { stop() }

    /// `redis+unix://` URL of the socket.
    public var url: String { "redis+unix://" + socket }

    public func stop() {
        clients.lock()
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
        open.removeAll()
        clients.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(socket)
    }

    private func serve(_ behaviour: Behaviour) {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            clients.lock()
            open.append(fd)
            clients.unlock()
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while read(fd, &buffer, buffer.count) > 0 {
                    if behaviour == .garbage { _ = write(fd, "garbage, not RESP\r\n", 19) }
                }
            }
        }
    }
}

/// A loopback TCP port nothing listens on right now (the kernel's choice).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw TestFailure("no free loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
