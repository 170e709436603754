import Foundation
import LTOConfig
import LTOSystem
import LTOTestSupport
import LTOWire
import Testing

extension EndToEnd {
    /// The real `ltod` and `ltoc` over a real socket: start, refuse, replace, stop.
    @Suite struct DaemonLifecycleTests {
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }

        @Test func statusReportsTheDaemonAndPermissionsArePrivate() throws {
            let scratch = try TemporaryDirectory("status")
            let daemon = try Daemon(in: scratch)
            let status = try daemon.ltoc("status").stdout
            for field in ["ltod \(ltodVersion) is running", "uptime", daemon.socket, daemon.cache] {
                #expect(status.contains(field), "status lacks \(field):\n\(status)")
            }
            #expect(try Fault.daemonPID(daemon.env) == daemon.process.processIdentifier)
            #expect(try mode(daemon.socket) == 0o600)
            #expect(try mode(directoryName(daemon.socket)) == 0o700)
        }

        @Test func statusWithoutDaemonExitsOneWithOneLine() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("nodaemon")
            let r = try Shell.run([Products.ltoc, "status"], cwd: "/", env: ["LTOD_SOCKET": scratch.path + "/none/socket"])
            #expect(r.status == 1)
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("not running"), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }

        @Test func aSecondDaemonOnTheSameSocketIsRefused() throws {
            let scratch = try TemporaryDirectory("second")
            let daemon = try Daemon(in: scratch)
            let second = try Shell.run([Products.ltod, "serve"], cwd: "/", env: daemon.env)
            #expect(second.status != 0)
            #expect(second.stderr.contains("already serving on \(daemon.socket)"), "\(second.stderr)")
            #expect(try daemon.ltoc("status").status == 0, "the first daemon must keep serving")
        }

        @Test func aStaleSocketFromAKilledDaemonIsReplaced() throws {
            let scratch = try TemporaryDirectory("stale")
            let first = try Daemon(in: scratch)
            first.kill()
            #expect(FileManager.default.fileExists(atPath: first.socket), "SIGKILL leaves the socket file behind")
            let second = try Daemon(in: scratch)
            #expect(second.socket == first.socket)
            #expect(try Fault.daemonPID(second.env) == second.process.processIdentifier)
        }

        @Test func aNonSocketAtTheSocketPathIsNotRemoved() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("notsocket")
            let dir = try scratch.sub("run")
            let path = dir + "/socket"
            try "precious".write(toFile: path, atomically: false, encoding: .utf8)
            let r = try Shell.run([Products.ltod, "serve"], cwd: "/", env: ["LTOD_SOCKET": path, "LTOD_CACHE_DIR": scratch.path + "/cache"])
            #expect(r.status != 0)
            #expect(r.stderr.contains("is not a socket"), "\(r.stderr)")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
        }

        @Test func aBadConfigFileStopsTheDaemonWithFileAndLine() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("badconfig")
            let config = scratch.path + "/config.toml"
            try "max_size = \"1G\"\npartition = \"fastest\"\n".write(toFile: config, atomically: false, encoding: .utf8)
            let env = ["LTOD_CONFIG": config, "LTOD_SOCKET": try scratch.sub("run") + "/ltod/socket", "LTOD_CACHE_DIR": scratch.path + "/cache"]
            let r = try Shell.run([Products.ltod, "serve"], cwd: "/", env: env)
            #expect(r.status != 0)
            #expect(r.stderr.contains("\(config):2: partition = \"fastest\" is not valid; expected 1to1, balanced, max, keep"), "\(r.stderr)")
            try "max_size = \"1G\"\n".write(toFile: config, atomically: false, encoding: .utf8)
            let shown = try Shell.check([Products.ltoc, "config"], cwd: "/", env: env.merging(["LTOD_JOBS": "3"]) { $1 })
            let rows = shown.stdout.split(separator: "\n")
            #expect(rows.contains { $0.hasPrefix("  max_size ") && $0.contains(" 1.0 GiB ") && $0.hasSuffix("\(config):1") }, "\(shown.stdout)")
            #expect(rows.contains { $0.hasPrefix("  jobs ") && $0.contains(" 3 ") && $0.hasSuffix("environment (LTOD_JOBS)") }, "\(shown.stdout)")
        }

        @Test func sigtermAndShutdownStopCleanly() throws {
            let scratch = try TemporaryDirectory("stop")
            let a = try Daemon(in: scratch)
            a.process.terminate()
            a.process.waitUntilExit()
            #expect(a.process.terminationStatus == 0)
            #expect(!FileManager.default.fileExists(atPath: a.socket), "a clean stop removes the socket")

            let b = try Daemon(in: scratch)
            #expect(try b.ltoc("shutdown").stdout.contains("stopping"))
            b.process.waitUntilExit()
            #expect(b.process.terminationStatus == 0)
            #expect(try Shell.run([Products.ltoc, "status"], cwd: "/", env: b.env).status == 1)
        }

        @Test func startDetachesAndReturnsOnceServing() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("start")
            let env = ["LTOD_SOCKET": try scratch.sub("run") + "/socket", "LTOD_CACHE_DIR": scratch.path + "/cache"]
            let started = try Shell.check([Products.ltod, "start"], cwd: "/", env: env)
            #expect(started.stdout.contains("ltod started"))
            #expect(try Shell.run([Products.ltoc, "status"], cwd: "/", env: env).status == 0)
            #expect(try Shell.check([Products.ltod, "start"], cwd: "/", env: env).stdout.contains("already running"))
            try Shell.check([Products.ltoc, "shutdown"], cwd: "/", env: env)
        }

        @Test func statisticsPersistAcrossRestarts() throws {
            let scratch = try TemporaryDirectory("persist")
            let first = try Daemon(in: scratch)
            let dir = try scratch.sub("src")
            try "int main(void) { return 0; }\n".write(toFile: dir + "/m.c", atomically: false, encoding: .utf8)
            var check = LinkCheck(directory: dir, objects: ["m.o"])
            check.compileFlags = ["-O2"]
            try check.compile(["m.c"])
            try check.compareLinks(first)
            let rebuilt = try first.stat("ltrans.rebuilt")
            let links = try first.stat("sessions.total")
            #expect(rebuilt >= 1 && links == 1)
            first.process.terminate()
            first.process.waitUntilExit()

            let second = try Daemon(in: scratch)
            #expect(try second.stat("ltrans.rebuilt") == rebuilt)
            #expect(try second.stat("sessions.total") == links)
            let since = try second.stats()["since_start"] as? [String: Any]
            #expect((since?["sessions"] as? [String: Any])?["total"] as? Int == 0)
            try second.ltoc("stats", "--zero")
            #expect(try second.stat("sessions.total") == 0)
        }

        @Test(.enabled(if: getuid() == 0, "needs root to act as another user"))
        func anotherUserIsRefused() throws {
            let scratch = try TemporaryDirectory("peer")
            let daemon = try Daemon(in: scratch)
            // Open the way on purpose (0755 directory, 0666 socket), so that only the uid check stands.
            chmod(scratch.path, 0o755)
            chmod(directoryName(daemon.socket), 0o755)
            chmod(daemon.socket, 0o666)
            let r = try Shell.run(["runuser", "-u", "nobody", "--", Products.ltoc, "status"], cwd: "/", env: daemon.env)
            #expect(r.status == 1)
            #expect(r.stderr.contains("serves only uid 0"), "\(r.stderr)")
        }
    }
}
