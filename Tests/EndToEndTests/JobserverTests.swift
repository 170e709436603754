import Foundation
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// One machine, one job limit: links under make's jobserver run their compilers on make's
    /// tokens only; without one, the daemon's own limit holds. Compilers are counted exactly
    /// (an lto1 that counts itself), and every binary matches plain gcc's.
    @Suite struct JobserverTests {
        static let spec = ProgramSpec(files: 10, functionsPerFile: 4, seed: 21)

        /// Three links in `+` recipes under make 4.3's `-j2` (the pipe jobserver): never more
        /// than two compilers at once though the daemon would run eight; make gets every token
        /// back (it reports a lost one as INTERNAL).
        @Test func makeJobserverBoundsTheCompilersOfSeveralLinks() throws {
            let f = try ProgramFixture("jobserver-pipe", spec: Self.spec, env: ["LTOD_JOBS": "8"])
            try f.check.compile(f.program.cFiles)
            let lto1 = try CountedLTO1()
            let libexec = try Products.libexec()
            let objects = f.objects.joined(separator: " ")
            var makefile = ""
            for t in 1...3 {
                makefile += "app\(t):\n\t+gcc -B \(libexec) \(lto1.option) -O2 -flto -o app\(t) \(objects)\n"
                makefile += "app\(t).plain:\n\tgcc \(lto1.option) -O2 -flto -flto-partition=1to1 -o app\(t).plain \(objects)\n"
            }
            try makefile.write(toFile: f.check.directory + "/Makefile", atomically: false, encoding: .utf8)
            let make = try Shell.check(["make", "-j2", "app1", "app2", "app3"], cwd: f.check.directory, env: f.daemon.env)
            #expect(!make.stderr.contains("INTERNAL") && !make.stderr.contains("jobserver"), "\(make.stderr)")
            #expect(lto1.counter.most >= 1 && lto1.counter.most <= 2, "\(lto1.counter.most) compilers at once under make -j2")
            #expect(try f.daemon.stat("sessions.jobservers") == 3)
            try Shell.check(["make", "-j2", "app1.plain", "app2.plain", "app3.plain"], cwd: f.check.directory)
            for t in 1...3 {
                #expect(sameBytes(f.check.directory + "/app\(t)", f.check.directory + "/app\(t).plain"), "app\(t)")
            }
        }

        /// The same links in ordinary recipes (make does not pass its jobserver) under `-j4`:
        /// the daemon's limit of two holds across them.
        @Test func withoutAJobserverTheDaemonsLimitHolds() throws {
            let f = try ProgramFixture("jobserver-none", spec: Self.spec, env: ["LTOD_JOBS": "2"])
            try f.check.compile(f.program.cFiles)
            let lto1 = try CountedLTO1()
            let libexec = try Products.libexec()
            let objects = f.objects.joined(separator: " ")
            let makefile = (1...3).map { "app\($0):\n\tgcc -B \(libexec) \(lto1.option) -O2 -flto -o app\($0) \(objects)\n" }.joined()
            try makefile.write(toFile: f.check.directory + "/Makefile", atomically: false, encoding: .utf8)
            try Shell.check(["make", "-j4", "app1", "app2", "app3"], cwd: f.check.directory, env: f.daemon.env)
            #expect(lto1.counter.most >= 1 && lto1.counter.most <= 2, "\(lto1.counter.most) compilers at once with LTOD_JOBS=2")
            #expect(try f.daemon.stat("sessions.jobservers") == 0)
            try Shell.check(["gcc", lto1.option, "-O2", "-flto", "-flto-partition=1to1", "-o", "app1.plain"] + f.objects, cwd: f.check.directory)
            #expect(sameBytes(f.check.directory + "/app1", f.check.directory + "/app1.plain"))
        }

        /// make 4.4's FIFO jobserver (a stand-in: Debian 12 has make 4.3), reaching ltod through
        /// the launcher (GCC 12's driver drops a FIFO jobserver from MAKEFLAGS). GCC 12's
        /// lto-wrapper does not know the FIFO form; the daemon compiles the partitions of its WPA
        /// answer in parallel: on make's tokens, two compilers at most, and the token is back in
        /// the FIFO afterwards.
        @Test func makeFourFifoJobserverThroughTheLauncher() throws {
            let f = try ProgramFixture("jobserver-fifo", spec: Self.spec, env: ["LTOD_JOBS": "8"])
            try f.check.compile(f.program.cFiles)
            let lto1 = try CountedLTO1()
            let make = try FifoMake(jobs: 2)
            let env = f.daemon.env
            let links = (1...3).map { t in
                (argv: [Products.ltoc, "gcc", lto1.option, "-O2", "-flto", "-o", "app\(t)"] + f.objects, directory: f.check.directory, environment: env)
            }
            #expect(try make.run(links) == [0, 0, 0])
            #expect(lto1.counter.most >= 1 && lto1.counter.most <= 2, "\(lto1.counter.most) compilers at once under make -j2")
            #expect(make.tokensAvailable() == 1)
            #expect(try f.daemon.stat("sessions.jobservers") == 3)
            #expect(try f.daemon.stat("ltrans.rebuilt") > 0, "the daemon compiled no partition of a WPA answer")
            for t in 1...3 {
                try Shell.check(["gcc", lto1.option, "-O2", "-flto", "-flto-partition=1to1", "-o", "app\(t).plain"] + f.objects, cwd: f.check.directory)
                #expect(sameBytes(f.check.directory + "/app\(t)", f.check.directory + "/app\(t).plain"), "app\(t)")
            }
        }
    }
}
