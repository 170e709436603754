import Foundation
import LTOTestSupport
import LTOWire
import Testing

extension EndToEnd {
    /// Failures reach the user as GCC reported them, and a bad client cannot disturb the daemon.
    @Suite struct FailureTests {
        @Test func failingWPAShowsGCCsDiagnosticAndStatusAndCachesNothing() throws {
            let scratch = try TemporaryDirectory("wpafail")
            let daemon = try Daemon(in: scratch)
            let dir = try scratch.sub("src")
            // Two files disagree on a global's type: WPA diagnoses it, -Werror makes it fatal.
            try "int shared = 1;\nint get(void) { return shared; }\n".write(toFile: dir + "/a.c", atomically: false, encoding: .utf8)
            try "extern long shared;\nint get(void);\nint main(void) { return get() + (int)shared; }\n".write(toFile: dir + "/b.c", atomically: false, encoding: .utf8)
            var check = LinkCheck(directory: dir, objects: ["a.o", "b.o"])
            check.linkFlags = ["-O2", "-flto", "-Werror=lto-type-mismatch"]
            try check.compile(["a.c", "b.c"])

            let plain = try Shell.run(["gcc"] + check.linkFlags + check.plainExtra + ["-o", "app"] + check.objects, cwd: dir)
            let ltod = try Shell.run(["gcc", "-B", try Products.libexec()] + check.linkFlags + ["-o", "app"] + check.objects,
                                     cwd: dir, env: daemon.env)
            #expect(plain.status != 0)
            #expect(ltod.status == plain.status, "plain exited \(plain.status), ltod \(ltod.status)")
            #expect(ltod.stderr.contains("type of ‘shared’ does not match original declaration")
                    || ltod.stderr.contains("type of 'shared' does not match original declaration"), "\(ltod.stderr)")
            #expect(!ltod.stderr.contains("ltoc:"), "the failure is GCC's, not ltod's: \(ltod.stderr)")
            #expect(try daemon.stat("cache.entries") == 0)
            #expect(try daemon.stat("wpa.failures") == 1)
        }

        @Test func garbageAndStalledClientsDoNotDisturbOthers() throws {
            let scratch = try TemporaryDirectory("garbage")
            let daemon = try Daemon(in: scratch)
            // One client sends garbage, one sends a frame header and stalls, one announces 4 GiB.
            let garbage = try RawClient(daemon.socket)
            garbage.write(Array("GET / HTTP/1.1\r\n\r\n".utf8))
            let stalled = try RawClient(daemon.socket)
            stalled.write([0, 0, 0, 200, 1, 2])
            let huge = try RawClient(daemon.socket)
            huge.write([0xff, 0xff, 0xff, 0xff])
            #expect(huge.readToEnd().count < 4096, "an oversized frame is answered briefly and the connection closed")
            #expect(garbage.readToEnd().count < 4096)
            for _ in 0..<3 { #expect(try daemon.ltoc("status").status == 0) }
            withExtendedLifetime(stalled) {}
        }
    }
}

/// A bare Unix-socket client that writes whatever bytes a test wants.
final class RawClient {
    let fd: Int32

    init(_ path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = try UnixAddress(path)
        let rc = addr.withSockaddr { connect(fd, $0, $1) }
        guard rc == 0 else { throw TestFailure("connect \(path)") }
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    func readToEnd() -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return out }
            out += buf[0..<n]
        }
    }
}
