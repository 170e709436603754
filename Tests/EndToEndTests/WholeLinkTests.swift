import Foundation
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// Unchanged links answered whole, and what jobs print kept with their results: every
    /// binary identical to plain gcc's, every message the one the link printed when it ran.
    @Suite struct WholeLinkTests {
        static let spec = ProgramSpec(files: 8, functionsPerFile: 4, seed: 71)

        /// Links the fixture through ltod twice with `flags`; the second link must be answered
        /// whole (no WPA ran) and both must be plain gcc's binary.
        func answeredWhole(compile: [String], link: [String], output: String = "app") throws -> ProgramFixture {
            var f = try ProgramFixture("whole", spec: Self.spec)
            f.check.compileFlags = compile
            f.check.linkFlags = link
            f.check.output = output
            try f.check.compile(f.program.cFiles)
            let first = try f.check.compareLinks(f.daemon)
            let wpa = try f.daemon.stat("wpa.runs")
            let again = try f.check.compareLinks(f.daemon)
            #expect(try f.daemon.stat("sessions.answered") == 1, "the unchanged link was answered whole")
            #expect(try f.daemon.stat("wpa.runs") == wpa, "no WPA ran for it")
            #expect(again.total == first.total && again.reused == again.total)
            return f
        }

        @Test func anUnchangedLinkIsAnsweredWhole() throws {
            let f = try answeredWhole(compile: ["-O2"], link: ["-O2", "-flto=auto"])
            try f.check.runBoth()
            // Touching an object (same contents) still answers; changing one does not.
            let object = f.check.directory + "/" + f.objects[2]
            try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: object)
            try f.check.compareLinks(f.daemon)
            #expect(try f.daemon.stat("sessions.answered") == 2)
            var edited = f
            let (changed, files) = SyntheticC.apply(.bodySizeChange, to: f.program, file: 2, generation: 1)
            try edited.apply(changed, changed: files)
            let relink = try edited.check.compareLinks(f.daemon)
            #expect(try f.daemon.stat("sessions.answered") == 2 && relink.rebuilt >= 1)
            try edited.check.runBoth()
        }

        @Test func debugObjectsOfGAreRestoredToo() throws {
            let f = try answeredWhole(compile: ["-O2", "-g"], link: ["-O2", "-g", "-flto"])
            try f.check.runBoth()
        }

        @Test func aSharedLibraryIsAnsweredWhole() throws {
            var f = try ProgramFixture("whole-shared", spec: Self.spec)
            f.check.compileFlags = ["-O3", "-fPIC"]
            f.check.linkFlags = ["-O3", "-fPIC", "-shared", "-flto"]
            f.check.objects = f.objects.filter { $0 != "main.o" }
            f.check.output = "libsyn.so"
            try f.check.compile(f.program.cFiles)
            try f.check.compareLinks(f.daemon)
            try f.check.compareLinks(f.daemon)
            #expect(try f.daemon.stat("sessions.answered") == 1)
        }

        @Test func aLinkWithoutPartitionsIsAnsweredWhole() throws {
            var f = try ProgramFixture("whole-none", spec: Self.spec)
            f.check.linkFlags = ["-O2", "-flto", "-flto-partition=none"]
            f.check.plainExtra = []
            try f.check.compile(f.program.cFiles)
            try f.check.compareLinks(f.daemon)
            try f.check.compareLinks(f.daemon)
            #expect(try f.daemon.stat("sessions.answered") == 1)
            #expect(try f.daemon.stat("wpa.runs") == 0)
            try f.check.runBoth()
        }

        @Test func aLinkWhoseAssemblerReadAFileIsNeverAnsweredWhole() throws {
            let scratch = try TemporaryDirectory("whole-incbin")
            let daemon = try Daemon(in: scratch)
            let dir = try scratch.sub("src")
            try """
                __asm__(".section .rodata\\n.globl blob\\nblob: .incbin \\"data.bin\\"\\n.byte 0\\n.previous");
                extern const char blob[];
                int puts(const char *);
                int main(void) { puts(blob); return 0; }

                """.write(toFile: dir + "/a.c", atomically: false, encoding: .utf8)
            for partitioning in [[], ["-flto-partition=none"]] {
                var check = LinkCheck(directory: dir, objects: ["a.o"])
                check.linkFlags = ["-O2", "-flto"] + partitioning
                check.plainExtra = partitioning.isEmpty ? check.plainExtra : []
                try check.compile(["a.c"])
                for version in ["ONE", "TWO"] {
                    try "version-\(version)".write(toFile: dir + "/data.bin", atomically: false, encoding: .utf8)
                    try check.compareLinks(daemon)
                    #expect(try Shell.run(["./app"], cwd: dir).stdout == "version-\(version)\n")
                }
            }
            #expect(try daemon.stat("sessions.answered") == 0)
        }

        /// `gcc -r -flto` writes an LTO object whose section names carry a new random number
        /// every time, so its bytes are compared through the program linked from it.
        @Test func aRelocatableLinkIsAnsweredWhole() throws {
            var f = try ProgramFixture("whole-rel", spec: Self.spec)
            try f.check.compile(f.program.cFiles)
            let dir = f.check.directory
            let relocatable = ["-O2", "-flto", "-r", "-nostdlib", "-flto-partition=1to1"]
            try Shell.check(["gcc"] + relocatable + ["-o", "combined.plain.o"] + f.objects, cwd: dir)
            for _ in 0..<2 {
                try Shell.check(["gcc", "-B", try Products.libexec()] + relocatable + ["-o", "combined.o"] + f.objects, cwd: dir, env: f.daemon.env)
            }
            #expect(try f.daemon.stat("sessions.answered") == 1)
            for object in ["combined.plain.o", "combined.o"] {
                try Shell.check(["gcc", "-O2", "-flto", "-flto-partition=1to1", "-o", object + ".app", object], cwd: dir)
            }
            #expect(sameBytes(dir + "/combined.plain.o.app", dir + "/combined.o.app"))
            f.check.output = "combined.o.app"
            try FileManager.default.copyItem(atPath: dir + "/combined.plain.o.app", toPath: dir + "/combined.o.app.plain")
            try f.check.runBoth()
        }

        @Test func linksThatWriteFilesOfTheirOwnAreNeverAnsweredWhole() throws {
            var f = try ProgramFixture("whole-temps", spec: Self.spec)
            f.check.linkFlags = ["-O2", "-flto", "-save-temps"]
            try f.check.compile(f.program.cFiles)
            for _ in 0..<2 { try f.check.compareLinks(f.daemon) }
            #expect(try f.daemon.stat("sessions.answered") == 0)
            #expect(exists(f.check.directory + "/app.ltrans0.ltrans.o"), "-save-temps keeps lto-wrapper's files")
        }

        /// Two files whose link warns in WPA (a type mismatch) and in LTRANS (a buffer overflow
        /// seen once `fill` is inlined into `main`).
        static func warningProgram(in dir: String) throws -> LinkCheck {
            try """
                void fill(char *p, int n) { __builtin_memset(p, 0, n); }
                long counter = 1;
                int step(int x) { return x * 3 + 1; }

                """.write(toFile: dir + "/a.c", atomically: false, encoding: .utf8)
            try """
                #include <stdio.h>
                char buf[4];
                extern int counter;
                void fill(char *, int);
                int step(int);
                int main(void) { fill(buf, 16); printf("%d %d %d\\n", buf[1], counter, step(2)); return 0; }

                """.write(toFile: dir + "/b.c", atomically: false, encoding: .utf8)
            let check = LinkCheck(directory: dir, objects: ["a.o", "b.o"])
            try check.compile(["a.c", "b.c"])
            return check
        }

        /// GCC's messages without the lines lto-wrapper adds when it runs LTRANS one by one,
        /// which ltod's links never print.
        static func withoutSerialWarning(_ stderr: String) -> String {
            stderr.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.contains("using serial compilation of") && !$0.contains("option documentation for more information") }
                .joined(separator: "\n")
        }

        @Test func warningsAreReplayedWithTheAnswerAndWithEachReusedPartition() throws {
            let scratch = try TemporaryDirectory("replay")
            let daemon = try Daemon(in: scratch)
            var check = try Self.warningProgram(in: try scratch.sub("src"))
            check.linkFlags = ["-O2", "-flto"]
            let plain = try Shell.check(["gcc"] + check.linkFlags + check.plainExtra + ["-o", "app"] + check.objects, cwd: check.directory)
            #expect(plain.stderr.contains("-Wlto-type-mismatch") && plain.stderr.contains("-Wstringop-overflow"), "\(plain.stderr)")
            try FileManager.default.moveItem(atPath: check.directory + "/app", toPath: check.directory + "/app.plain")
            let expected = Self.withoutSerialWarning(plain.stderr)
            for round in 0..<3 {
                let r = try check.linkThroughLtod(daemon)
                #expect(r.stderr == expected, "link \(round) printed:\n\(r.stderr)\nplain gcc printed:\n\(plain.stderr)")
                #expect(r.stdout.isEmpty)
                #expect(sameBytes(check.directory + "/app", check.directory + "/app.plain"))
            }
            #expect(try daemon.stat("sessions.answered") == 2)
            try check.runBoth()

            // With whole links off, WPA runs and every partition is reused with its warnings.
            let partialScratch = try TemporaryDirectory("replay-partial")
            let partial = try Daemon(in: partialScratch, extraEnv: ["LTOD_CACHE_DIR": daemon.cache, "LTOD_WHOLE_LINK": "0"])
            let r = try check.linkThroughLtod(partial)
            #expect(r.stderr == expected, "\(r.stderr)")
            #expect(try Self.sinceStart(partial, "ltrans", "replayed") >= 1 && Self.sinceStart(partial, "ltrans", "rebuilt") == 0)
            #expect(sameBytes(check.directory + "/app", check.directory + "/app.plain"))

            // A quoted source line that changed (the object did not) is printed as it is now.
            let a = check.directory + "/a.c"
            try (try String(contentsOfFile: a, encoding: .utf8)).replacingOccurrences(of: "n); }", with: "n);  }")
                .write(toFile: a, atomically: false, encoding: .utf8)
            let edited = try Shell.check(["gcc"] + check.linkFlags + check.plainExtra + ["-o", "app.plain"] + check.objects, cwd: check.directory)
            for d in [daemon, partial] {
                let r = try check.linkThroughLtod(d)
                #expect(r.stderr == Self.withoutSerialWarning(edited.stderr) && r.stderr.contains("n);  }"), "\(r.stderr)")
            }
            #expect(try daemon.stat("sessions.answered") == 2)
        }

        /// A counter of `daemon` since it started (its all-time counters are the shared cache's).
        static func sinceStart(_ daemon: Daemon, _ group: String, _ name: String) throws -> Double {
            let since = try daemon.stats()["since_start"] as? [String: Any]
            return ((since?[group] as? [String: Any])?[name] as? NSNumber)?.doubleValue ?? 0
        }

        /// lto-wrapper's own warnings (here about assembler options that differ between the
        /// objects) are printed by the real lto-wrapper, not by a job ltod runs: the shim passes
        /// the link's stderr on and to the daemon, and the whole-link answer prints it again.
        @Test func ltoWrappersOwnWarningIsReplayed() throws {
            let scratch = try TemporaryDirectory("wrapper-warning")
            let daemon = try Daemon(in: scratch)
            let dir = try scratch.sub("src")
            try "int f(int x) { return x + 1; }\n".write(toFile: dir + "/a.c", atomically: false, encoding: .utf8)
            try "#include <stdio.h>\nint f(int);\nint main(void) { printf(\"%d\\n\", f(1)); return 0; }\n"
                .write(toFile: dir + "/b.c", atomically: false, encoding: .utf8)
            try Shell.check(["gcc", "-O2", "-flto", "-Wa,--noexecstack", "-c", "a.c"], cwd: dir)
            try Shell.check(["gcc", "-O2", "-flto", "-c", "b.c"], cwd: dir)
            let check = LinkCheck(directory: dir, objects: ["a.o", "b.o"])
            let plain = try Shell.check(["gcc"] + check.linkFlags + check.plainExtra + ["-o", "app.plain"] + check.objects, cwd: dir)
            #expect(plain.stderr.contains("lto-wrapper: warning: Extra option to"), "\(plain.stderr)")
            for round in 0..<2 {
                let r = try check.linkThroughLtod(daemon)
                #expect(r.stderr == Self.withoutSerialWarning(plain.stderr), "link \(round):\n\(r.stderr)")
                #expect(sameBytes(dir + "/app", dir + "/app.plain"))
            }
            #expect(try daemon.stat("sessions.answered") == 1)
            try check.runBoth()
        }

        @Test func aCPlusPlusODRWarningIsReplayed() throws {
            let scratch = try TemporaryDirectory("odr")
            let daemon = try Daemon(in: scratch)
            let dir = try scratch.sub("src")
            try "struct S { int a; int b; };\nint fa(S *s) { return s->a + s->b; }\n".write(toFile: dir + "/a.cc", atomically: false, encoding: .utf8)
            try """
                #include <cstdio>
                struct S { long a; };
                int fa(S *s);
                int main() { S s = {3}; std::printf("%d\\n", fa(&s) > 0); return 0; }

                """.write(toFile: dir + "/b.cc", atomically: false, encoding: .utf8)
            try Shell.check(["g++", "-O2", "-flto", "-c", "a.cc", "b.cc"], cwd: dir)
            let link = ["-O2", "-flto", "-o", "app", "a.o", "b.o"]
            let plain = try Shell.check(["g++", "-flto-partition=1to1"] + link, cwd: dir)
            #expect(plain.stderr.contains("[-Wodr]"), "\(plain.stderr)")
            try FileManager.default.moveItem(atPath: dir + "/app", toPath: dir + "/app.plain")
            for _ in 0..<2 {
                let r = try Shell.check(["g++", "-B", try Products.libexec()] + link, cwd: dir, env: daemon.env)
                #expect(r.stderr == Self.withoutSerialWarning(plain.stderr), "\(r.stderr)")
                #expect(sameBytes(dir + "/app", dir + "/app.plain"))
            }
            #expect(try daemon.stat("sessions.answered") == 1)
        }

        @Test func errorsAreNeverCached() throws {
            let scratch = try TemporaryDirectory("errors")
            let daemon = try Daemon(in: scratch)
            var check = try Self.warningProgram(in: try scratch.sub("src"))
            check.linkFlags = ["-O2", "-flto", "-Werror=stringop-overflow"]
            for _ in 0..<2 {
                try Fault.sameFailure(check.linkFlags + check.plainExtra + ["-o", "app"] + check.objects, dir: check.directory, daemon: daemon)
            }
            #expect(try daemon.stat("sessions.answered") == 0)
            #expect(try daemon.stat("ltrans.failures") >= 2, "the failing partition was compiled again on the second link")
        }
    }
}
