import Foundation
import LTOTestSupport
import LTOWire
import Testing

extension EndToEnd {
    /// systemd integration with systemd's own tools: socket activation, readiness
    /// notification, idle exit, unit verification, and the install script.
    @Suite struct SystemdTests {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

        @Test func socketActivationNotifiesAndExitsWhenIdle() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("activate")
            let socket = scratch.path + "/socket"
            let notify = try NotifyListener(path: scratch.path + "/notify")
            let manager = Process()
            manager.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-socket-activate")
            manager.arguments = ["-l", socket, "-E", "LTOD_CACHE_DIR", "-E", "LTOD_IDLE_TIMEOUT", "-E", "NOTIFY_SOCKET", Products.ltod, "serve"]
            manager.environment = ProcessInfo.processInfo.environment.merging([
                "LTOD_CACHE_DIR": scratch.path + "/cache", "LTOD_IDLE_TIMEOUT": "1s", "NOTIFY_SOCKET": notify.path,
            ]) { $1 }
            manager.standardError = FileHandle.nullDevice
            try manager.run()
            defer { if manager.isRunning { manager.terminate() } }
            for _ in 0..<500 where !FileManager.default.fileExists(atPath: socket) { usleep(10_000) }
            // The first connection starts ltod (as a link's would; `ltoc status` never connects
            // when no daemon holds the socket's lock, so that a query starts nothing).
            do {
                let first = try FrameSocket.connect(to: socket)
                guard case .hello = try first.request(.hello(version: Protocol.version)) else { throw TestFailure("no hello") }
            }
            var status: Shell.Result?
            for _ in 0..<100 where status?.status != 0 {
                status = try Shell.run([Products.ltoc, "status"], cwd: "/", env: ["LTOD_SOCKET": socket])
                if status?.status != 0 { usleep(20_000) }
            }
            // systemd-socket-activate execs ltod in its own process on the first connection.
            let pid = status?.stdout.split(separator: "\n").first { $0.hasPrefix("  pid ") }?.split(separator: " ").last
            #expect(pid == "\(manager.processIdentifier)"[...], "\(status?.stdout ?? "")")
            #expect(notify.receive()?.hasPrefix("READY=1") == true)
            #expect(Self.waitForExit(manager, seconds: 30), "ltod did not exit after its 1 s idle timeout")
            #expect(manager.terminationStatus == 0)
            #expect(notify.receive() == "STOPPING=1")
        }

        @Test func unitsVerify() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("units")
            let runtime = try scratch.sub("runtime")
            chmod(runtime, 0o700)
            let service = try String(contentsOfFile: Self.repository + "/systemd/ltod.service", encoding: .utf8)
                .replacingOccurrences(of: "@BINDIR@", with: Products.directory)
            try service.write(toFile: scratch.path + "/ltod.service", atomically: false, encoding: .utf8)
            try FileManager.default.copyItem(atPath: Self.repository + "/systemd/ltod.socket", toPath: scratch.path + "/ltod.socket")
            let r = try Shell.run(["systemd-analyze", "verify", "--user", "./ltod.socket", "./ltod.service"], cwd: scratch.path,
                                  env: ["XDG_RUNTIME_DIR": runtime])
            #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(r.stdout)\(r.stderr)")
        }

        @Test func installAndUninstallIntoDestdir() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("install")
            let env = ["DESTDIR": scratch.path]
            try Shell.check(["bash", Self.repository + "/systemd/install", "--prefix", "/opt/ltod", "--from", Products.directory],
                            cwd: Self.repository, env: env)
            let root = scratch.path + "/opt/ltod"
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/libexec/ltod/lto-wrapper") == "../../bin/ltoc")
            #expect(FileManager.default.isExecutableFile(atPath: root + "/bin/ltod"))
            let libexec = try Shell.check([root + "/bin/ltoc", "--libexec-dir"], cwd: "/").stdout
            #expect(libexec == root + "/libexec/ltod\n")
            let service = try String(contentsOfFile: root + "/lib/systemd/user/ltod.service", encoding: .utf8)
            #expect(service.contains("ExecStart=/opt/ltod/bin/ltod serve"))
            try Shell.check(["bash", Self.repository + "/systemd/install", "--prefix", "/opt/ltod", "--uninstall"], cwd: Self.repository, env: env)
            #expect(!FileManager.default.fileExists(atPath: root + "/bin/ltoc"))
            #expect(!FileManager.default.fileExists(atPath: root + "/lib/systemd/user/ltod.service"))
        }

        static func waitForExit(_ p: Process, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            return !p.isRunning
        }
    }
}

/// A datagram socket standing in for systemd's NOTIFY_SOCKET.
final class NotifyListener {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = try UnixAddress(path)
        let rc = addr.withSockaddr { bind(fd, $0, $1) }
        guard rc == 0 else { throw TestFailure("bind \(path)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// The next message, or nil after 10 s without one.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }
}
