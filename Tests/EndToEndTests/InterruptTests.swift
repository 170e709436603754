import Foundation
import LTOSystem
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// Ctrl-C during a link (SIGINT to its process group): the daemon's work for it stops
    /// within a second, make's tokens go back, and no file is left that plain gcc interrupted
    /// the same way would not leave.
    @Suite struct InterruptTests {
        /// A link run in a process group of its own, with its own TMPDIR.
        struct InterruptedLink {
            let directory: String
            let tmp: String
            let before: Set<String>
            let group: Int32

            /// Starts `argv` in `directory`.
            init(_ argv: [String], directory: String, tmp: String, env: [String: String]) throws {
                self.directory = directory
                self.tmp = tmp
                before = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
                let environment = ProcessInfo.processInfo.environment.merging(env.merging(["TMPDIR": tmp]) { $1 }) { $1 }
                var command = Command(executable: argv[0], argv: argv, environment: environment.map { "\($0.key)=\($0.value)" },
                                      directory: directory)
                command.newProcessGroup = true
                command.stdout = .null
                command.stderr = .null
                group = try spawn(command)
            }

            /// Once an LTRANS compiler runs below `root` (the link itself, or the daemon): `signal`
            /// to the whole group (SIGINT: Ctrl-C, as a terminal sends it).
            func interrupt(whenCompilingBelow root: Int32, signal: Int32 = SIGINT) {
                var started = false
                for _ in 0..<12_000 where !started {
                    started = !ProcessTree.ltransCompilers(below: root).isEmpty
                    if !started { usleep(5_000) }
                }
                #expect(started, "no LTRANS compiler started")
                kill(-group, signal)
            }

            /// Waits until every process of the link has ended.
            func waitUntilGone() {
                #expect(wait(for: group) != .exited(0), "the interrupted link succeeded")
                for _ in 0..<2000 where kill(-group, 0) == 0 { usleep(5_000) }
            }

            /// New files in the TMPDIR and the build directory, with the random part of GCC's
            /// temporary names (ccXXXXXX) and numbers masked.
            func leftovers() throws -> Set<String> {
                let tmpFiles = try FileManager.default.contentsOfDirectory(atPath: tmp).map { "TMPDIR/" + Self.mask($0) }
                let built = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !before.contains($0) }
                return Set(tmpFiles + built.map { "build/" + Self.mask($0) })
            }

            /// Removes what the link left in the build directory.
            func clean() throws {
                for name in try FileManager.default.contentsOfDirectory(atPath: directory) where !before.contains(name) {
                    try FileManager.default.removeItem(atPath: directory + "/" + name)
                }
            }

            static func mask(_ name: String) -> String {
                String(name.replacing(/cc[A-Za-z0-9]{6}/, with: "ccXXXXXX").replacing(/[0-9]+/, with: "N"))
            }
        }

        let spec = ProgramSpec(files: 30, functionsPerFile: 10, seed: 33)

        /// Plain gcc and a link through ltod (cold cache; under make 4.4's FIFO jobserver through
        /// the launcher, so that the daemon holds make's token too), each interrupted once an
        /// LTRANS compiler runs: ltod's compilers are gone within a second, the token is back,
        /// ltod left nothing plain gcc did not, and the next link through ltod matches plain gcc's.
        @Test func ctrlCStopsTheLinksWorkAndLeavesWhatPlainGCCLeaves() throws {
            let f = try ProgramFixture("interrupt", spec: spec, env: ["LTOD_JOBS": "2"])
            try f.check.compile(f.program.cFiles)
            let dir = f.check.directory
            let args = ["-O2", "-flto", "-o", "app"] + f.objects

            let plain = try InterruptedLink(["gcc", "-flto-partition=1to1"] + args, directory: dir, tmp: try f.scratch.sub("tmp-plain"), env: [:])
            plain.interrupt(whenCompilingBelow: plain.group)
            plain.waitUntilGone()
            let plainLeft = try plain.leftovers()
            try plain.clean()

            let daemon = try Fault.daemonPID(f.daemon.env)
            let make = try FifoMake(jobs: 2)
            let ltod = try InterruptedLink([Products.ltoc, "gcc"] + args, directory: dir, tmp: try f.scratch.sub("tmp-ltod"),
                                           env: f.daemon.env.merging(["MAKEFLAGS": make.makeflags]) { $1 })
            ltod.interrupt(whenCompilingBelow: daemon)
            let sent = Date()
            while !ProcessTree.compilers(below: daemon).isEmpty && Date().timeIntervalSince(sent) < 5 { usleep(5_000) }
            let stopped = Date().timeIntervalSince(sent)
            #expect(ProcessTree.compilers(below: daemon).isEmpty && stopped < 1, "the daemon's compilers ran on for \(stopped) s after Ctrl-C")
            ltod.waitUntilGone()
            #expect(make.tokensAvailable() == 1, "make's token was not given back")
            var ltodLeft = try ltod.leftovers()
            for _ in 0..<200 where !ltodLeft.isSubset(of: plainLeft) {
                usleep(10_000)
                ltodLeft = try ltod.leftovers()
            }
            #expect(ltodLeft.isSubset(of: plainLeft), "ltod left \(ltodLeft.subtracting(plainLeft).sorted()); plain gcc left \(plainLeft.sorted())")
            #expect(try f.daemon.stat("sessions.cancelled") == 1)
            try ltod.clean()

            try f.check.compareLinks(f.daemon)
            try f.check.runBoth()
        }

        /// A killed build (SIGKILL to the link's group: the shims die without a word): the
        /// daemon notices its clients went away, stops the link's compilers and gives make's
        /// token back.
        @Test func aKilledBuildStopsTheLinksWorkAndGivesTheTokenBack() throws {
            let f = try ProgramFixture("killed", spec: ProgramSpec(files: 16, functionsPerFile: 10, seed: 34), env: ["LTOD_JOBS": "2"])
            try f.check.compile(f.program.cFiles)
            let daemon = try Fault.daemonPID(f.daemon.env)
            let make = try FifoMake(jobs: 2)
            let link = try InterruptedLink([Products.ltoc, "gcc", "-O2", "-flto", "-o", "app"] + f.objects, directory: f.check.directory,
                                           tmp: try f.scratch.sub("tmp"), env: f.daemon.env.merging(["MAKEFLAGS": make.makeflags]) { $1 })
            link.interrupt(whenCompilingBelow: daemon, signal: SIGKILL)
            let sent = Date()
            while !ProcessTree.compilers(below: daemon).isEmpty && Date().timeIntervalSince(sent) < 5 { usleep(5_000) }
            let stopped = Date().timeIntervalSince(sent)
            #expect(ProcessTree.compilers(below: daemon).isEmpty && stopped < 1, "the daemon's compilers ran on for \(stopped) s")
            link.waitUntilGone()
            for _ in 0..<100 where make.tokensAvailable() != 1 { usleep(10_000) }
            #expect(make.tokensAvailable() == 1, "make's token was not given back")
            #expect(try f.daemon.stat("sessions.cancelled") == 1)
        }
    }
}
