import Foundation
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// Flag sets and input kinds from the GCC-backend issue, each linked plain and through
    /// ltod with identical flags, compared byte for byte, cold and after an edit.
    @Suite struct FlagAndInputTests {
        static let spec = ProgramSpec(files: 20, functionsPerFile: 6, seed: 11)

        func fixture(_ name: String, env: [String: String] = [:]) throws -> ProgramFixture {
            try ProgramFixture(name, spec: Self.spec, env: env)
        }

        /// Cold link, then a body edit in one file and a relink; both compared with plain gcc.
        func coldAndEdit(_ fixture: ProgramFixture) throws {
            var f = fixture
            try f.check.compile(f.program.cFiles)
            try f.check.compareLinks(f.daemon)
            let (edited, changed) = SyntheticC.apply(.bodySizeChange, to: f.program, file: 3, generation: 1)
            try f.apply(edited, changed: changed)
            try f.check.compareLinks(f.daemon)
        }

        @Test(arguments: [
            (["-O2", "-g"], ["-O2", "-g", "-flto"]),
            (["-O2"], ["-O2", "-flto=auto"]),
            (["-O2"], ["-O2", "-flto=2"]),
        ])
        func flagSets(compile: [String], link: [String]) throws {
            var f = try fixture("flags")
            f.check.compileFlags = compile
            f.check.linkFlags = link
            try coldAndEdit(f)
            try f.check.runBoth()
        }

        @Test func sharedLibraryO3PIC() throws {
            var f = try fixture("shared")
            f.check.compileFlags = ["-O3", "-fPIC"]
            f.check.linkFlags = ["-O3", "-fPIC", "-shared", "-flto"]
            f.check.objects = f.objects.filter { $0 != "main.o" }
            f.check.output = "libsyn.so"
            try coldAndEdit(f)
        }

        @Test func staticArchiveWithLTOMembers() throws {
            var f = try fixture("archive")
            try f.check.compile(f.program.cFiles)
            let members = f.objects.filter { $0 != "main.o" }
            try Shell.check(["gcc-ar", "rcs", "libsyn.a"] + members, cwd: f.check.directory)
            f.check.objects = ["main.o"]
            f.check.libraries = ["libsyn.a"]
            try f.check.compareLinks(f.daemon)
            try f.check.runBoth()
        }

        @Test func fatObjectsAndNonLTOObjects() throws {
            var f = try fixture("fat")
            f.check.compileFlags = ["-O2", "-ffat-lto-objects"]
            try f.check.compile(Array(f.program.cFiles.prefix(10)))
            // The rest without -flto: ordinary objects mixed into an LTO link.
            let plainSources = Array(f.program.cFiles.dropFirst(10))
            try Shell.check(["gcc", "-O2", "-c"] + plainSources, cwd: f.check.directory)
            f.check.objects = f.objects
            try f.check.compareLinks(f.daemon)
            try f.check.runBoth()
        }

        @Test func jobserverUnderMake() throws {
            let f = try fixture("jobserver")
            try f.check.compile(f.program.cFiles)
            let libexec = try f.daemon.ltoc("--libexec-dir").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let objs = f.objects.joined(separator: " ")
            let makefile = """
            plain:
            \t+gcc -O2 -flto=jobserver -flto-partition=1to1 -o app.plain \(objs)
            ltod:
            \t+gcc -B \(libexec)/ -O2 -flto=jobserver -o app \(objs)

            """
            try makefile.write(toFile: f.check.directory + "/Makefile", atomically: false, encoding: .utf8)
            try Shell.check(["make", "-j4", "plain"], cwd: f.check.directory)
            let r = try Shell.check(["make", "-j4", "ltod"], cwd: f.check.directory, env: f.daemon.env)
            #expect(!r.stderr.contains("jobserver is not available"), "\(r.stderr)")
            #expect(sameBytes(f.check.directory + "/app.plain", f.check.directory + "/app"))
            try f.check.runBoth()
        }

        @Test func launcherModeAndKeepPartitioning() throws {
            var f = try fixture("keep")
            f.check.plainExtra = []
            try f.check.compile(f.program.cFiles)
            let plain = try f.check.linkPlain()
            // The partition setting is the link's own: read by ltoc for this link.
            try f.check.linkThroughLtod(f.daemon, launcher: true, env: ["LTOD_PARTITION": "keep"])
            #expect(sameBytes(plain, f.check.directory + "/app"))
            // The launcher leaves compiles alone: no -B is added to `gcc -c`.
            try Shell.check([Products.ltoc, "gcc", "-O2", "-flto", "-c", f.program.cFiles[0]], cwd: f.check.directory, env: f.daemon.env)
        }

        @Test func fourTargetsAtOnceStayWithinTheSchedulerLimit() throws {
            let f = try fixture("concurrent", env: ["LTOD_JOBS": "2"])
            try f.check.compile(f.program.cFiles)
            let libexec = try f.daemon.ltoc("--libexec-dir").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let objs = f.objects.joined(separator: " ")
            var makefile = "all: t0 t1 t2 t3\n"
            for t in 0..<4 {
                makefile += "t\(t):\n\tgcc -B \(libexec)/ -O\(t % 2 + 1) -flto -o app\(t) \(objs)\n"
                makefile += "p\(t):\n\tgcc -O\(t % 2 + 1) -flto -flto-partition=1to1 -o app\(t).plain \(objs)\n"
            }
            try makefile.write(toFile: f.check.directory + "/Makefile", atomically: false, encoding: .utf8)
            try Shell.check(["make", "-j4", "t0", "t1", "t2", "t3"], cwd: f.check.directory, env: f.daemon.env)
            try Shell.check(["make", "-j2", "p0", "p1", "p2", "p3"], cwd: f.check.directory)
            for t in 0..<4 {
                #expect(sameBytes(f.check.directory + "/app\(t)", f.check.directory + "/app\(t).plain"), "target \(t)")
            }
            let scheduler = try f.daemon.stats()["scheduler"] as? [String: Any] ?? [:]
            let peak = scheduler["peak_running"] as? Int ?? -1
            #expect(peak >= 1 && peak <= 2, "peak \(peak) with a limit of 2")
        }
    }
}

extension EndToEnd {
    /// A build never fails because ltod is down (unless LTOD_STRICT=1).
    @Suite struct FallbackTests {
        @Test func killedDaemonStillLinksTheSameBinary() throws {
            let f = try ProgramFixture("fallback", spec: ProgramSpec(files: 20, functionsPerFile: 4, seed: 3))
            let (scratch, daemon, program, dir) = (f.scratch, f.daemon, f.program, f.check.directory)
            let check = f.check
            try check.compile(program.cFiles)
            // Without the daemon ltoc adds -flto-partition=1to1 as ltod would: the binary ltod links.
            let plain = try check.linkPlain()
            daemon.kill()

            // The socket's directory is a file, so the shim cannot start a new daemon either.
            let blocked = scratch.path + "/blocked"
            #expect(FileManager.default.createFile(atPath: blocked, contents: Data()))
            let deadEnv = ["LTOD_SOCKET": blocked + "/socket", "LTOD_CACHE_DIR": daemon.cache]
            let r = try Shell.run(["gcc", "-B", try Products.libexec()] + check.linkFlags + ["-o", "app"] + check.objects,
                                  cwd: dir, env: deadEnv)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("linking without the cache"))
            #expect(sameBytes(plain, dir + "/app"))

            let strict = try Shell.run(["gcc", "-B", try Products.libexec()] + check.linkFlags + ["-o", "app2"] + check.objects,
                                       cwd: dir, env: deadEnv.merging(["LTOD_STRICT": "1"]) { $1 })
            #expect(strict.status != 0)
            #expect(strict.stderr.contains("strict mode is on"))

            let config = scratch.path + "/config.toml"
            try "strict = true\n".write(toFile: config, atomically: false, encoding: .utf8)
            let fromFile = try Shell.run(["gcc", "-B", try Products.libexec()] + check.linkFlags + ["-o", "app3"] + check.objects,
                                         cwd: dir, env: deadEnv.merging(["LTOD_CONFIG": config]) { $1 })
            #expect(fromFile.status != 0 && fromFile.stderr.contains("strict mode is on"), "\(fromFile.stderr)")
        }

        @Test func fallbacksAreCountedWhenADaemonRunsAgain() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("fallcount")
            let socket = try scratch.sub("run") + "/socket"
            let dir = try scratch.sub("src")
            try "int main(void) { return 0; }\n".write(toFile: dir + "/m.c", atomically: false, encoding: .utf8)
            try Shell.check(["gcc", "-O2", "-flto", "-c", "m.c"], cwd: dir)
            // The cache directory is a file: the shim's attempt to start a daemon fails.
            let notADirectory = scratch.path + "/file"
            #expect(FileManager.default.createFile(atPath: notADirectory, contents: Data()))
            for _ in 0..<2 {
                let r = try Shell.run([Products.ltoc, "gcc", "-O2", "-flto", "-o", "app", "m.o"], cwd: dir,
                                      env: ["LTOD_SOCKET": socket, "LTOD_CACHE_DIR": notADirectory + "/cache"])
                #expect(r.status == 0 && r.stderr.contains("linking without the cache"), "\(r.stderr)")
            }
            let env = ["LTOD_SOCKET": socket, "LTOD_CACHE_DIR": scratch.path + "/cache"]
            try Shell.check([Products.ltod, "start"], cwd: "/", env: env)
            let stats = try Shell.check([Products.ltoc, "stats", "--json"], cwd: "/", env: env)
            let json = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
            #expect((json?["sessions"] as? [String: Any])?["fallbacks"] as? Int == 2)
            try Shell.check([Products.ltoc, "shutdown"], cwd: "/", env: env)
        }

        @Test func shimStartsTheDaemonWhenItIsNotRunning() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("autostart")
            let env = ["LTOD_SOCKET": try scratch.sub("run") + "/socket", "LTOD_CACHE_DIR": scratch.path + "/cache"]
            #expect(try Shell.run([Products.ltoc, "status"], cwd: "/", env: env).status == 1)
            let program = SyntheticC.generate(ProgramSpec(files: 20, functionsPerFile: 3, seed: 5))
            let dir = try scratch.sub("src")
            try program.write(to: dir)
            let check = LinkCheck(directory: dir, objects: program.cFiles.map { String($0.dropLast(2)) + ".o" })
            try check.compile(program.cFiles)
            let plain = try check.linkPlain()
            let r = try Shell.run([Products.ltoc, "gcc"] + check.linkFlags + ["-o", "app"] + check.objects, cwd: dir, env: env)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(!r.stderr.contains("without the cache"), "\(r.stderr)")
            #expect(sameBytes(plain, dir + "/app"))
            #expect(try Shell.run([Products.ltoc, "status"], cwd: "/", env: env).status == 0)
            try Shell.check([Products.ltoc, "shutdown"], cwd: "/", env: env)
        }
    }
}
