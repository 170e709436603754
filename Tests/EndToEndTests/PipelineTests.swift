import Foundation
import LTOSystem
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// WPA answered with finished objects: the LTRANS commands ltod runs are lto-wrapper's
    /// own, lto-wrapper starts no LTRANS job and prints no warning about running them one by
    /// one, and an interrupted link leaves nothing behind.
    @Suite struct PipelineTests {
        static let spec = ProgramSpec(files: 6, functionsPerFile: 3, seed: 61)

        /// A GCC driver that logs every run (response files expanded) to a file of its own in
        /// the directory `$DRIVER_LOG` (runs under make overlap) and runs
        /// the real gcc under its own name, so that COLLECT_GCC (and so every WPA and LTRANS
        /// command, from lto-wrapper or from ltod) is this driver. It sits in a prefix whose
        /// lib and libexec lead to the real ones, where gcc finds its parts from its own name.
        static func loggingDriver(in scratch: TemporaryDirectory) throws -> String {
            let prefix = try scratch.sub("prefix")
            for dir in ["lib", "libexec"] { try FileManager.default.createSymbolicLink(atPath: prefix + "/" + dir, withDestinationPath: "/usr/" + dir) }
            let driver = try scratch.sub("prefix/bin") + "/gcc"
            let real = try Shell.check(["sh", "-c", "command -v gcc"], cwd: "/").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let script = """
                #!/bin/bash
                for a in "$@"; do case "$a" in @*) xargs printf '%s\\n' < "${a#@}";; *) printf '%s\\n' "$a";; esac; done > "$DRIVER_LOG/run-$$"
                exec -a "$0" \(real) "$@"

                """
            try script.write(toFile: driver, atomically: false, encoding: .utf8)
            chmod(driver, 0o755)
            return driver
        }

        /// The LTRANS commands in a driver log, temporary names made comparable, and whether
        /// each ended with ltod's own `-Wa,--MD,FILE` (the assembler's list of what it read,
        /// which changes nothing in the object), which is removed.
        static func ltransCommands(_ log: String) throws -> [(args: [String], listed: Bool)] {
            try FileManager.default.contentsOfDirectory(atPath: log).compactMap { run in
                var args = try String(contentsOfFile: log + "/" + run, encoding: .utf8).split(separator: "\n")
                    .map { String($0.replacing(/cc[A-Za-z0-9]{6}\./, with: "ccTEMP.")) }
                guard args.contains("-fltrans") else { return nil }
                let listed = args.last.map { $0.hasPrefix("-Wa,--MD,") && $0.hasSuffix("/deps.d") } ?? false
                if listed { args.removeLast() }
                return (args, listed)
            }.sorted { $0.args.joined(separator: " ") < $1.args.joined(separator: " ") }
        }

        /// Links with `link` flags through the logging driver twice, lto-wrapper's own LTRANS
        /// (ltod unreachable: the shim falls back) and ltod's; returns both logs' commands.
        func compareCommands(compile: [String], link: [String], objects: (ProgramFixture) -> [String] = { $0.objects },
                             output: String = "app", underMake: Bool = false) throws {
            var f = try ProgramFixture("commands", spec: Self.spec, env: ["LTOD_PARTITION": "keep"])
            f.check.compileFlags = compile
            try f.check.compile(f.program.cFiles)
            let driver = try Self.loggingDriver(in: f.scratch)
            let libexec = try Products.libexec()
            let blocked = f.scratch.file("blocked")
            #expect(FileManager.default.createFile(atPath: blocked, contents: Data()))
            let unreachable = ["LTOD_SOCKET": blocked + "/socket", "LTOD_CACHE_DIR": f.daemon.cache]
            let line = [driver, "-B", libexec] + link + ["-flto-partition=1to1", "-o", output] + objects(f)
            var logs: [String] = []
            for (name, env) in [("wrapper", unreachable), ("ltod", f.daemon.env)] {
                let log = try f.scratch.sub(name + "-runs")
                let run = underMake ? try runUnderMake(line, dir: f.check.directory, env: env.merging(["DRIVER_LOG": log]) { $1 })
                    : try Shell.check(line, cwd: f.check.directory, env: env.merging(["DRIVER_LOG": log]) { $1 })
                #expect(!run.stderr.contains("serial compilation") || name == "wrapper", "\(run.stderr)")
                try FileManager.default.moveItem(atPath: f.check.directory + "/" + output, toPath: f.check.directory + "/" + output + "." + name)
                logs.append(log)
            }
            #expect(sameBytes(f.check.directory + "/\(output).wrapper", f.check.directory + "/\(output).ltod"))
            let (theirs, ours) = (try Self.ltransCommands(logs[0]), try Self.ltransCommands(logs[1]))
            #expect(theirs.count >= 4 && theirs.allSatisfy { !$0.listed }, "lto-wrapper ran \(theirs.count) LTRANS jobs")
            #expect(ours.count == theirs.count && ours.allSatisfy(\.listed), "ltod ran \(ours.count) LTRANS jobs")
            for (a, b) in zip(theirs, ours) {
                #expect(a.args == b.args, "lto-wrapper: \(a.args.joined(separator: " "))\nltod:        \(b.args.joined(separator: " "))")
            }
            #expect(try f.daemon.stat("ltrans.rebuilt") == Double(ours.count))
        }

        func runUnderMake(_ line: [String], dir: String, env: [String: String]) throws -> Shell.Result {
            let quoted = line.map { "'\($0)'" }.joined(separator: " ")
            try "link:\n\t+\(quoted)\n".write(toFile: dir + "/Makefile", atomically: false, encoding: .utf8)
            return try Shell.check(["make", "-j4", "link"], cwd: dir, env: env)
        }

        @Test(arguments: [
            (["-O2"], ["-O2", "-flto"]),
            (["-O2"], ["-O2", "-flto=2"]),
            (["-O2"], ["-O2", "-flto=auto"]),
            (["-O2", "-g"], ["-O2", "-g", "-flto"]),
        ])
        func ltransCommandsAreTheOnesLTOWrapperRuns(compile: [String], link: [String]) throws {
            try compareCommands(compile: compile, link: link)
        }

        @Test func ltransCommandsOfASharedLibraryAreTheOnesLTOWrapperRuns() throws {
            try compareCommands(compile: ["-O3", "-fPIC"], link: ["-O3", "-fPIC", "-shared", "-flto"],
                                objects: { $0.objects.filter { $0 != "main.o" } }, output: "libsyn.so")
        }

        @Test func ltransCommandsUnderMakesJobserverAreTheOnesLTOWrapperRuns() throws {
            try compareCommands(compile: ["-O2"], link: ["-O2", "-flto=jobserver"], underMake: true)
        }

        /// Ctrl-C while the daemon compiles a link's partitions: once the daemon notices, it
        /// stops, and nothing of the link stays in TMPDIR (plain gcc interrupted while lto-wrapper
        /// waits for LTRANS leaves nothing either).
        @Test func anInterruptedLinkLeavesNoObjectsBehind() throws {
            let f = try ProgramFixture("interrupt", spec: Self.spec)
            try f.check.compile(f.program.cFiles)
            let tmp = try f.scratch.sub("tmp")
            let tools = try f.scratch.sub("tools")
            // An assembler that takes its time, so that the link is interrupted mid-LTRANS.
            try Fault.tool(tools + "/as", "touch \(f.scratch.path)/started; sleep 2; exec /usr/bin/as \"$@\"")
            let env = f.daemon.env.merging(["TMPDIR": tmp, "PATH": Fault.path(prepending: tools)]) { $1 }
            // The link leads a session of its own: Ctrl-C reaches its whole process group.
            var command = Command(executable: "gcc", argv: ["gcc", "-B", try Products.libexec()] + f.check.linkFlags + ["-o", "app"] + f.objects,
                                  environment: ProcessInfo.processInfo.environment.merging(env) { $1 }.map { "\($0.key)=\($0.value)" },
                                  directory: f.check.directory)
            command.stderr = .null
            command.newSession = true
            let link = try spawn(command)
            for _ in 0..<3000 where !exists(f.scratch.file("started")) { usleep(10_000) }
            #expect(exists(f.scratch.file("started")), "an LTRANS job started")
            kill(-link, SIGINT)
            #expect(wait(for: link) != .exited(0))
            // The daemon finishes the jobs it had started, then sees the session closed and
            // removes what the link had made. (Other temporary files are ld's and lto-wrapper's.)
            func linkFiles() throws -> [String] {
                try FileManager.default.contentsOfDirectory(atPath: tmp).filter { $0.contains(".ltrans") || $0.contains(".ltod") }
            }
            for _ in 0..<750 where !(try linkFiles()).isEmpty { usleep(20_000) }
            let left = try linkFiles()
            #expect(left.isEmpty, "left in TMPDIR: \(left)")
        }
    }
}
