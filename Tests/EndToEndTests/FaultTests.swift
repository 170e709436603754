import Foundation
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// Faults in the daemon, its cache and the tools it runs: the link still succeeds with plain
    /// gcc's binary, or fails exactly as plain gcc's does, and nothing wrong is ever cached.
    @Suite struct FaultTests {
        @Test func daemonKilledMidColdLinkStillLinksAndLeavesAConsistentCache() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("sigkill")
            let env = ["LTOD_SOCKET": try scratch.sub("run") + "/ltod/socket", "LTOD_CACHE_DIR": scratch.path + "/cache"]
            try Shell.check([Products.ltod, "start"], cwd: "/", env: env)
            let pid = try Fault.daemonPID(env)
            let check = try LinkCheck.generated(in: scratch, files: 12, seed: 11)
            let plain = try check.linkPlain()
            // The first assembler run of the link (an LTRANS job inside the daemon) SIGKILLs the
            // daemon's process group: the daemon and the compilers it runs (`ltod start` makes it
            // a group leader). Later runs are the real assembler.
            let tools = try scratch.sub("tools")
            try Fault.tool(tools + "/as", """
                if mkdir "\(scratch.path)/killed" 2>/dev/null; then kill -9 -\(pid); exit 1; fi
                exec /usr/bin/as "$@"
                """)
            let r = try Shell.run(["gcc", "-B", try Products.libexec()] + check.linkFlags + ["-o", "app"] + check.objects,
                                  cwd: check.directory, env: env.merging(["PATH": Fault.path(prepending: tools)]) { $1 })
            #expect(r.status == 0, "\(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: scratch.path + "/killed") && !Fault.alive(pid), "the daemon was killed mid-link")
            #expect(r.stderr.contains("ltod went away during this link"), "\(r.stderr)")
            #expect(sameBytes(plain, check.directory + "/app"))
            try check.runBoth()

            // A new daemon on the same socket and cache: the dead one's scratch files are gone,
            // every entry it committed is intact, and the links are plain gcc's.
            let daemon = try Daemon(in: scratch)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: daemon.cache + "/tmp").filter { $0.contains("-\(pid)-") }
            #expect(leftovers.isEmpty, "\(leftovers)")
            try check.compareLinks(daemon)
            let relink = try check.compareLinks(daemon)
            #expect(relink.rebuilt == 0 && relink.reused == relink.total && relink.total > 0)
            #expect(try daemon.stat("cache.corrupt") == 0)
        }

        @Test func damagedPayloadsAreDetectedRebuiltAndCounted() throws {
            let scratch = try TemporaryDirectory("corrupt")
            let daemon = try Daemon(in: scratch)
            let dir = try scratch.sub("src")
            // 100 KB of data in each big*.c gives large LTRANS objects; main's is small. All are payload files.
            for (i, name) in ["big1", "big2"].enumerated() {
                let values = (0..<100_000).map { String(($0 * (7 + i)) % 251) }.joined(separator: ",")
                try "const unsigned char \(name)[100000] = {\(values)};\n".write(toFile: "\(dir)/\(name).c", atomically: false, encoding: .utf8)
            }
            try """
                #include <stdio.h>
                extern const unsigned char big1[], big2[];
                int main(int argc, char **argv) { (void)argv; printf("%d\\n", big1[argc * 7] + big2[argc * 11]); return 0; }

                """.write(toFile: dir + "/main.c", atomically: false, encoding: .utf8)
            let check = LinkCheck(directory: dir, objects: ["big1.o", "big2.o", "main.o"])
            try check.compile(["big1.c", "big2.c", "main.c"])
            #expect(try check.compareLinks(daemon).rebuilt == 3)

            // The LTRANS objects, not the provenance entries canonical keys keep beside them
            // (target "(provenance)", inside the index) nor the record of the whole link.
            let objects = try Shell.check(["sqlite3", daemon.cache + "/index.sqlite",
                                           "SELECT key FROM entries WHERE inline IS NULL AND target NOT LIKE '(%' ORDER BY size"],
                                          cwd: "/").stdout.split(separator: "\n").map { key in
                "\(daemon.cache)/objects/\(key.prefix(2))/\(key)"
            }
            #expect(objects.count == 3, "\(objects)")
            #expect(truncate(objects[2], 50_000) == 0)
            for (path, offset) in [(objects[1], 4321), (objects[0], 1000)] {
                chmod(path, 0o600)
                let fd = open(path, O_RDWR)
                var byte: UInt8 = 0
                #expect(pread(fd, &byte, 1, off_t(offset)) == 1)
                byte ^= 0x04
                #expect(pwrite(fd, &byte, 1, off_t(offset)) == 1)
                close(fd)
            }

            let relink = try check.compareLinks(daemon)
            #expect(relink.rebuilt == 3 && relink.reused == 0, "every damaged entry is rebuilt: \(relink.json)")
            #expect(try daemon.stat("cache.corrupt") == 3)
            try check.runBoth()
            let again = try check.compareLinks(daemon)
            #expect(again.rebuilt == 0 && again.reused == 3)
            #expect(try daemon.stat("cache.corrupt") == 3)
        }

        @Test func indexDeletedOrReplacedWhileTheDaemonRunsIsRecreated() throws {
            let scratch = try TemporaryDirectory("index")
            let daemon = try Daemon(in: scratch)
            let check = try LinkCheck.generated(in: scratch, files: 6, seed: 21)
            try check.compareLinks(daemon)
            let index = daemon.cache + "/index.sqlite"
            let garbage = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            let damage: [(String, () throws -> Void)] = [
                ("deleted", { try FileManager.default.removeItem(atPath: index) }),
                ("replaced by a garbage file", {
                    try garbage.write(to: URL(fileURLWithPath: index + ".new"))
                    #expect(rename(index + ".new", index) == 0)
                }),
                ("overwritten in place with garbage", {
                    let handle = try #require(FileHandle(forWritingAtPath: index))
                    try handle.write(contentsOf: garbage)
                    try handle.close()
                }),
            ]
            for (what, damageIndex) in damage {
                try damageIndex()
                let link = try check.compareLinks(daemon)
                #expect(link.total > 0, "\(what)")
                try check.runBoth()
                #expect(try daemon.ltoc("status").status == 0, "\(what)")
                #expect(try daemon.stat("cache.entries") >= 0, "\(what): stats still answer")
                let relink = try check.compareLinks(daemon)
                #expect(relink.rebuilt == 0 && relink.reused == relink.total, "\(what): the recreated cache serves again")
            }
        }

        @Test(.enabled(if: getuid() == 0, "needs root to mount a small filesystem"))
        func fullDiskLinksWithoutCachingAndWarnsOnce() throws {
            let scratch = try TemporaryDirectory("fulldisk")
            let cache = try scratch.sub("cache")
            try Shell.check(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", cache], cwd: "/")
            defer { _ = try? Shell.run(["umount", "-l", cache], cwd: "/") }
            let daemon = try Daemon(in: scratch)
            defer { daemon.kill() }
            var check = try LinkCheck.generated(in: scratch, files: 8, seed: 31)
            check.linkFlags = ["-O2", "-flto=auto"]  // no lto-wrapper warning about serial LTRANS
            let plain = try check.linkPlain()
            // Fill the filesystem: dd stops with "No space left on device".
            _ = try Shell.run(["dd", "if=/dev/zero", "of=\(cache)/filler", "bs=64k"], cwd: "/")

            let full = try check.linkThroughLtod(daemon)
            #expect(sameBytes(plain, check.directory + "/app"))
            let warnings = full.stderr.split(separator: "\n").filter { $0.contains("ltod did not cache this link's results") }
            #expect(warnings.count == 1 && full.stderr.split(separator: "\n").count == 1, "exactly one warning: \(full.stderr)")
            #expect(warnings.first?.contains("full") ?? false, "the warning says why: \(full.stderr)")
            #expect(try daemon.stat("cache.entries") == 0)
            try check.runBoth()

            try FileManager.default.removeItem(atPath: cache + "/filler")
            let freed = try check.linkThroughLtod(daemon)
            #expect(freed.stderr.isEmpty, "\(freed.stderr)")
            #expect(sameBytes(plain, check.directory + "/app"))
            #expect(try daemon.stat("cache.entries") > 0, "with space again, results are cached")
        }

        /// A tool fails or crashes during the link: the same messages and status as plain gcc's,
        /// nothing cached, and the next link (with working tools) is plain gcc's binary.
        @Test(arguments: [
            ("as exits 1 in LTRANS", "as", "echo 'fake as: refusing' >&2; exit 1"),
            ("as crashes in LTRANS", "as", "kill -SEGV $$"),
            ("lto1 crashes in WPA", "lto1", "case \"$*\" in *-fwpa*) kill -SEGV $$;; esac; exec \"$REAL_LTO1\" \"$@\""),
            ("lto1 exits 1 in LTRANS", "lto1", "case \"$*\" in *-fltrans*) echo 'fake lto1: refusing' >&2; exit 1;; esac; exec \"$REAL_LTO1\" \"$@\""),
        ])
        func failingToolShowsGCCsMessageAndCachesNothing(what: String, tool: String, script: String) throws {
            let scratch = try TemporaryDirectory("toolfail")
            let daemon = try Daemon(in: scratch)
            let check = try LinkCheck.generated(in: scratch, files: 4, seed: 41)
            let tools = try scratch.sub("tools")
            try Fault.tool("\(tools)/\(tool)", script)
            let realLTO1 = try Shell.check(["gcc", "-print-prog-name=lto1"], cwd: "/").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            // `as` is found in PATH, lto1 in a -B directory (the driver looks there first).
            let env = tool == "as" ? ["PATH": Fault.path(prepending: tools)] : ["REAL_LTO1": realLTO1]
            let bDir = tool == "as" ? [] : ["-B", tools + "/"]
            try Fault.sameFailure(bDir + check.linkFlags + check.plainExtra + ["-o", "app"] + check.objects, dir: check.directory,
                                  daemon: daemon, env: env)
            #expect(try daemon.stat("cache.entries") == 0, "\(what): nothing cached")
            #expect(try daemon.stat("wpa.failures") + daemon.stat("ltrans.failures") >= 1, "\(what)")
            try check.compareLinks(daemon)
            try check.runBoth()
        }

        @Test func badLinkInputsGetGCCsErrorNamingTheFile() throws {
            let scratch = try TemporaryDirectory("badinput")
            let daemon = try Daemon(in: scratch)
            let check = try LinkCheck.generated(in: scratch, files: 3, seed: 51)
            let dir = check.directory
            let link = check.linkFlags + check.plainExtra
            try "this is not an object file\n".write(toFile: dir + "/text.o", atomically: false, encoding: .utf8)
            try Data([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]).write(to: URL(fileURLWithPath: dir + "/short.o"))
            // An LTO object whose bytecode is damaged: valid ELF, garbage in its sections.
            var damaged = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + check.objects[0])))
            for i in stride(from: 64, to: damaged.count / 2, by: 3) { damaged[i] ^= 0x5a }
            try Data(damaged).write(to: URL(fileURLWithPath: dir + "/damaged.o"))

            let cases: [(String, [String])] = [
                ("missing.o", link + ["-o", "app"] + check.objects + ["missing.o"]),
                ("text.o", link + ["-o", "app"] + check.objects + ["text.o"]),
                ("short.o", link + ["-o", "app"] + check.objects + ["short.o"]),
                ("damaged.o", link + ["-o", "app"] + ["damaged.o"] + check.objects.dropFirst()),
                ("ro/app", link + ["-o", "ro/app"] + check.objects),
            ]
            let readOnly = try scratch.sub("src/ro")
            if getuid() == 0 {
                try Shell.check(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", readOnly], cwd: "/")
            } else {
                chmod(readOnly, 0o555)
            }
            defer { if getuid() == 0 { _ = try? Shell.run(["umount", "-l", readOnly], cwd: "/") } }
            for (file, args) in cases {
                let r = try Fault.sameFailure(args, dir: dir, daemon: daemon)
                #expect(r.stderr.contains(file) || file == "damaged.o", "the error names \(file): \(r.stderr)")
            }
            #expect(try daemon.ltoc("status").status == 0)
            #expect(try daemon.stat("cache.entries") == 0)
        }

        @Test func twoDaemonsStartedAtOnceOnOneSocketLeaveExactlyOneServing() throws {
            let scratch = try TemporaryDirectory("race")
            let stale = try Daemon(in: scratch)
            stale.kill()
            for round in 0..<3 {
                #expect(round > 0 || FileManager.default.fileExists(atPath: stale.socket), "a stale socket is in the way")
                let pair = try (0..<2).map { _ in try startServe(stale.env) }
                let loser = try waitForOneToExit(pair)
                let winner = pair[1 - loser.index]
                try? FileManager.default.removeItem(atPath: winner.stderr)
                try waitUntilServing(stale.env)
                #expect(loser.status != 0, "round \(round)")
                #expect(loser.stderr.contains("already serving"), "round \(round): \(loser.stderr)")
                #expect(winner.process.isRunning, "round \(round)")
                #expect(try Fault.daemonPID(stale.env) == winner.process.processIdentifier, "round \(round)")
                Foundation.kill(winner.process.processIdentifier, SIGKILL)
                winner.process.waitUntilExit()
            }
        }

        func waitUntilServing(_ env: [String: String]) throws {
            for _ in 0..<500 where try Shell.run([Products.ltoc, "status"], cwd: "/", env: env).status != 0 { usleep(10_000) }
        }

        struct Serving {
            let process: Process
            let stderr: String
        }

        func startServe(_ env: [String: String]) throws -> Serving {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Products.ltod)
            p.arguments = ["serve"]
            p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            let log = NSTemporaryDirectory() + "ltod-race-\(UUID().uuidString).err"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            p.standardError = FileHandle(forWritingAtPath: log)
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return Serving(process: p, stderr: log)
        }

        /// Waits (up to 60 s) until one of two daemons exits; returns which, its status and stderr.
        func waitForOneToExit(_ pair: [Serving]) throws -> (index: Int, status: Int32, stderr: String) {
            for _ in 0..<6000 {
                if let i = pair.firstIndex(where: { !$0.process.isRunning }) {
                    let text = (try? String(contentsOfFile: pair[i].stderr, encoding: .utf8)) ?? ""
                    try? FileManager.default.removeItem(atPath: pair[i].stderr)
                    return (i, pair[i].process.terminationStatus, text)
                }
                usleep(10_000)
            }
            throw TestFailure("neither of two daemons started at once exited")
        }
    }
}
