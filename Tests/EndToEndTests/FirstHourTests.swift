import Foundation
import LTOConfig
import LTOSystem
import LTOTestSupport
import LTOWire
import SyntheticC
import Testing

/// The places of a daemon that `ltoc` starts by itself (`ltod start`), with a config file
/// of their own; the daemon is stopped when the places are released.
final class AutostartPlaces {
    let scratch: TemporaryDirectory
    let env: [String: String]
    var config: String { env["LTOD_CONFIG"]! }
    var places: Places { Places { self.env[$0] } }

    init(_ label: String) throws {
        try Products.require()
        scratch = try TemporaryDirectory(label)
        env = ["LTOD_SOCKET": try scratch.sub("run") + "/ltod/socket", "LTOD_CACHE_DIR": scratch.path + "/cache",
               "LTOD_CONFIG": scratch.path + "/config.toml"]
    }

    func ltoc(_ args: [String], cwd: String = "/", env extra: [String: String] = [:]) throws -> Shell.Result {
        try Shell.run([Products.ltoc] + args, cwd: cwd, env: env.merging(extra) { $1 })
    }

    /// Stops the daemon and waits until its process is gone.
    func stopDaemon() throws {
        let pid = OwnerLock.holder(of: places.socketLock)
        _ = try ltoc(["shutdown"])
        guard let pid else { return }
        for _ in 0..<1000 where Fault.alive(pid) { usleep(10_000) }
    }

    deinit { try? stopDaemon() }
}

/// The lines ltoc printed (GCC's own, such as lto-wrapper's notes, left out).
func ltocLines(_ stderr: String) -> [String] {
    stderr.split(separator: "\n").filter { $0.hasPrefix("ltoc: ") }.map(String.init)
}

extension EndToEnd {
    /// What a new user meets in the first hour: a config error visible at link time, per-link
    /// settings, the same binary with or without the daemon, a strict CLI in ccache's habits,
    /// queries that start nothing, explain across restarts, upgrades and the log.
    @Suite struct FirstHourTests {
        @Test func aDaemonThatCannotStartIsNamedOnceAndTheFallbackBinaryIsTheDaemonsBinary() throws {
            let places = try AutostartPlaces("refused")
            let check = try LinkCheck.generated(in: places.scratch, files: 5, seed: 21)
            try places.scratch.write("config.toml", "jobs = 2\nmax_size = \"lots\"\n")
            let link = ["gcc", "-O2", "-flto", "-o", "app"] + check.objects

            let fallback = try places.ltoc(link, cwd: check.directory)
            #expect(fallback.status == 0)
            let expected = "ltoc: ltod is not available (ltod could not start: \(places.config):2: max_size = \"lots\" is not valid; "
                + "expected a size such as 500M or 5G); linking without the cache"
            #expect(ltocLines(fallback.stderr) == [expected], "\(fallback.stderr)")
            let status = try places.ltoc(["status"])
            #expect(status.status == 1 && status.stderr.contains("its last start failed: \(places.config):2: max_size"), "\(status.stderr)")
            let log = try String(contentsOfFile: places.places.logFile, encoding: .utf8)
            #expect(log.contains("\(places.config):2: max_size = \"lots\" is not valid"), "the log says why: \(log)")
            let withoutDaemon = check.directory + "/app.fallback"
            try FileManager.default.moveItem(atPath: check.directory + "/app", toPath: withoutDaemon)

            // The same link once the daemon can start: the same bytes, and plain gcc's with 1to1.
            let plain = try check.linkPlain()
            #expect(sameBytes(plain, withoutDaemon))
            try places.scratch.write("config.toml", "jobs = 2\n")
            let through = try places.ltoc(link, cwd: check.directory)
            #expect(through.status == 0 && ltocLines(through.stderr).isEmpty, "\(through.stderr)")
            #expect(try places.ltoc(["status"]).status == 0, "ltoc started the daemon")
            #expect(sameBytes(withoutDaemon, check.directory + "/app"), "the fallback linked other bytes than ltod")
            try check.runBoth()
            #expect(!FileManager.default.fileExists(atPath: places.places.startErrorFile), "a daemon that serves clears the reason")
        }

        @Test func aPerLinkSettingTakesEffectWhileADaemonRuns() throws {
            let scratch = try TemporaryDirectory("perlink")
            let daemon = try Daemon(in: scratch)
            var check = try LinkCheck.generated(in: scratch, files: 6, seed: 22)
            let oneToOne = try check.compareLinks(daemon)

            check.plainExtra = []
            let plain = try check.linkPlain()
            try check.linkThroughLtod(daemon, env: ["LTOD_PARTITION": "keep"])
            #expect(sameBytes(plain, check.directory + "/app"), "LTOD_PARTITION=keep on this link must give GCC's own partitioning")
            let kept = try Explain(daemon)
            #expect(kept.total < oneToOne.total, "keep: \(kept.total) partitions, 1to1: \(oneToOne.total)")

            // From the config file, read for this link.
            try scratch.write("config.toml", "partition = \"keep\"\n")
            try check.linkThroughLtod(daemon, env: ["LTOD_CONFIG": scratch.file("config.toml")])
            #expect(sameBytes(plain, check.directory + "/app"))
            let shown = try Shell.check([Products.ltoc, "config"], cwd: "/", env: daemon.env.merging(["LTOD_PARTITION": "max"]) { $1 })
            let row = shown.stdout.split(separator: "\n").first { $0.hasPrefix("  partition ") } ?? ""
            #expect(row.contains(" max ") && row.hasSuffix("environment (LTOD_PARTITION)"), "\(shown.stdout)")

            let bad = try Shell.run([Products.ltoc, "gcc", "-O2", "-flto", "-o", "app"] + check.objects, cwd: check.directory,
                                    env: daemon.env.merging(["LTOD_PARTITION": "fast"]) { $1 })
            #expect(bad.status != 0 && bad.stderr.contains("LTOD_PARTITION=fast is not valid; expected 1to1, balanced, max, keep"), "\(bad.stderr)")
        }

        @Test func theCommandLineIsStrictAndSpeaksCcache() throws {
            let scratch = try TemporaryDirectory("cli")
            let config = scratch.file("config.toml")
            let daemon = try Daemon(in: scratch, extraEnv: ["LTOD_CONFIG": config])
            let env = daemon.env.merging(["LTOD_CONFIG": config]) { $1 }
            func ltoc(_ args: String...) throws -> Shell.Result { try Shell.run([Products.ltoc] + args, cwd: "/", env: env) }

            for args in [["stats", "--bogus"], ["--bogus"], ["gc", "--what", "1"], ["clear", "now"], ["explain", "--list", "a", "b"], ["-M"]] {
                let r = try Shell.run([Products.ltoc] + args, cwd: "/", env: env)
                #expect(r.status == 2 && r.stdout.isEmpty && r.stderr.contains("usage: ltoc"), "\(args): \(r.status) \(r.stderr)")
            }
            for (typo, command) in [("stat", "stats"), ("expalin", "explain"), ("shutdwon", "shutdown")] {
                let r = try ltoc(typo)
                #expect(r.status == 2 && r.stderr.contains("did you mean '\(command)'?"), "\(typo): \(r.stderr)")
            }

            let table = try ltoc("stats").stdout
            #expect(table.hasPrefix("ltod \(ltodVersion)") && table.contains("since start"))
            for alias in ["-s", "--show-stats"] { #expect(try ltoc(alias).stdout.split(separator: "\n").first == table.split(separator: "\n").first) }
            #expect(try ltoc("-z").stdout == "statistics zeroed\n")
            #expect(try ltoc("--zero-stats").stdout == "statistics zeroed\n")
            #expect(try ltoc("-C").stdout.hasPrefix("removed 0 entries"))
            #expect(try ltoc("--clear").status == 0)
            let set = try ltoc("-M", "1G")
            #expect(set.stdout == "cache size limit set to 1.0 GiB (saved in \(config):1)\n", "\(set.stdout)\(set.stderr)")
            #expect(try String(contentsOfFile: config, encoding: .utf8) == "max_size = \"1G\"\n")
            #expect(try daemon.stat("cache.limit_bytes") == Double(1 << 30))
            #expect(try ltoc("--max-size", "2G").status == 0)
            let shown = try ltoc("-p").stdout
            #expect(shown.contains("as the running daemon has them") && shown.contains("2.0 GiB"), "\(shown)")
            #expect(try ltoc("--show-config").stdout == shown)
            #expect(try ltoc("-V").stdout == "ltoc \(ltodVersion) (protocol \(Protocol.version))\n")
            #expect(try ltoc("--version").status == 0)
        }

        @Test func ltocGccAndCcStillCompileAndLink() throws {
            let scratch = try TemporaryDirectory("launcher")
            let daemon = try Daemon(in: scratch)
            let dir = try scratch.sub("src")
            try "int twice(int x) { return 2 * x; }\n".write(toFile: dir + "/t.c", atomically: false, encoding: .utf8)
            try "int twice(int);\nint main(void) { return twice(21) - 42; }\n".write(toFile: dir + "/m.c", atomically: false, encoding: .utf8)
            try Shell.check([Products.ltoc, "cc", "-O2", "-flto", "-c", "t.c"], cwd: dir, env: daemon.env)
            try "app: m.o t.o\n\t$(CC) -O2 -flto -o app m.o t.o\n".write(toFile: dir + "/Makefile", atomically: false, encoding: .utf8)
            try Shell.check(["make", "CC=\(Products.ltoc) gcc", "CFLAGS=-O2 -flto"], cwd: dir, env: daemon.env)
            try Shell.check(["./app"], cwd: dir)
            #expect(try daemon.stat("sessions.total") == 1, "make's link went through ltod")
            try Shell.check([Products.ltoc, "c++", "-O2", "-flto", "-o", "app2", "m.o", "t.o"], cwd: dir, env: daemon.env)
            #expect(try daemon.stat("sessions.total") == 2)
        }

        @Test func queriesStartNoDaemonAndReadTheCacheWhenNoneRuns() throws {
            let places = try AutostartPlaces("queries")
            let check = try LinkCheck.generated(in: places.scratch, files: 3, seed: 23)
            #expect(try places.ltoc(["gcc", "-O2", "-flto", "-o", "app"] + check.objects, cwd: check.directory).status == 0)
            try places.stopDaemon()
            for leftover in [places.places.socketLock, places.env["LTOD_CACHE_DIR"]! + "/index.sqlite.lock",
                             places.env["LTOD_CACHE_DIR"]! + "/index.sqlite-wal"] {
                #expect(!exists(leftover), "a clean stop left \(leftover)")
            }

            // systemd's socket stands in front: any connection would start a daemon. (Started
            // with posix_spawn: systemd-socket-activate closes the descriptor through which
            // Foundation's Process watches a child, which would then wait for it forever.)
            var activate = Command(executable: "/usr/bin/systemd-socket-activate",
                                   argv: ["systemd-socket-activate", "-l", places.places.socket, "-E", "LTOD_CACHE_DIR", Products.ltod, "serve"],
                                   environment: currentEnvironment() + places.env.map { "\($0.key)=\($0.value)" })
            activate.stderr = .null
            let manager = try spawn(activate)
            defer {
                kill(manager, SIGTERM)
                _ = wait(for: manager)
            }
            for _ in 0..<500 where !exists(places.places.socket) { usleep(10_000) }

            let stats = try places.ltoc(["stats", "--json"])
            #expect(stats.status == 0)
            let json = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any] ?? [:]
            #expect((json["sessions"] as? [String: Any])?["total"] as? Int == 1, "all-time counters from the cache: \(stats.stdout)")
            #expect(json["since_start"] == nil)
            #expect(try places.ltoc(["explain", "app"]).stdout.contains(check.directory + "/app: "))
            #expect(try places.ltoc(["stats", "app"]).stdout.contains("links"))
            #expect(try places.ltoc(["status"]).status == 1)
            #expect(try places.ltoc(["config"]).stdout.contains("daemon       not running"))
            #expect(try places.ltoc(["shutdown"]).status == 0)
            let running = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(manager)/exe")
            #expect(running.hasSuffix("systemd-socket-activate"), "a query connected and systemd started \(running)")
        }

        @Test func explainSurvivesARestartAndNamesCxxFunctionsAsWritten() throws {
            let scratch = try TemporaryDirectory("explaincxx")
            let dir = try scratch.sub("src")
            let helper = { (n: Int) in "namespace ns { int helper(int x) { return x * \(n) + 1; } }\n" }
            try helper(3).write(toFile: dir + "/h.cpp", atomically: false, encoding: .utf8)
            try "namespace ns { int helper(int); }\nint main(int argc, char **) { return ns::helper(argc) == 4 ? 0 : 1; }\n"
                .write(toFile: dir + "/m.cpp", atomically: false, encoding: .utf8)
            try Shell.check(["g++", "-O2", "-flto", "-c", "h.cpp", "m.cpp"], cwd: dir)
            let first = try Daemon(in: scratch)
            try Shell.check(["g++", "-B", try Products.libexec(), "-O2", "-flto", "-o", "app", "h.o", "m.o"], cwd: dir, env: first.env)
            try helper(5).write(toFile: dir + "/h.cpp", atomically: false, encoding: .utf8)
            try Shell.check(["g++", "-O2", "-flto", "-c", "h.cpp"], cwd: dir)
            try Shell.check(["g++", "-B", try Products.libexec(), "-O2", "-flto", "-o", "app", "h.o", "m.o"], cwd: dir, env: first.env)
            let before = try first.ltoc("explain", "--json").stdout
            try first.ltoc("shutdown")
            first.process.waitUntilExit()

            let offline = try Shell.run([Products.ltoc, "explain"], cwd: "/", env: first.env)
            #expect(offline.status == 0 && offline.stdout.contains("changed \(dir)/h.o: function ns::helper(int)"), "\(offline.stdout)\(offline.stderr)")
            let second = try Daemon(in: scratch)
            #expect(try second.ltoc("explain", "--json").stdout == before, "the same report after a restart")
            let json = try JSONSerialization.jsonObject(with: Data(before.utf8)) as? [String: Any] ?? [:]
            let change = (json["changes"] as? [[String: Any]])?.first
            #expect(change?["functions"] as? [String] == ["ns::helper(int)"], "\(before)")
            try Shell.check(["g++", "-O2", "-flto", "-flto-partition=1to1", "-o", "app.plain", "h.o", "m.o"], cwd: dir)
            #expect(sameBytes(dir + "/app", dir + "/app.plain"))
        }

        @Test func aTargetNameThatMatchesSeveralLinksIsAnErrorListingThem() throws {
            let scratch = try TemporaryDirectory("ambiguous")
            let daemon = try Daemon(in: scratch)
            let check = try LinkCheck.generated(in: scratch, files: 2, seed: 24)
            for sub in ["one", "two", "three"] {
                let out = try scratch.sub(sub) + "/app"
                try Shell.check(["gcc", "-B", try Products.libexec(), "-O2", "-flto", "-o", out] + check.objects, cwd: check.directory, env: daemon.env)
            }
            let r = try Shell.run([Products.ltoc, "explain", "app"], cwd: "/", env: daemon.env)
            #expect(r.status == 1)
            for sub in ["one", "two", "three"] { #expect(r.stderr.contains("\n  \(scratch.path)/\(sub)/app"), "\(r.stderr)") }
            #expect(r.stderr.contains("'app' names 3 targets"))
            #expect(try daemon.ltoc("explain", "two/app").stdout.hasPrefix(scratch.path + "/two/app: "))
            let here = try Shell.check([Products.ltoc, "explain", "app"], cwd: scratch.path + "/three", env: daemon.env)
            #expect(here.stdout.hasPrefix(scratch.path + "/three/app: "), "a file named here is this directory's target")
        }

        @Test func anOlderDaemonIsRetiredByTheNextLinkOrTheLinkFallsBackWithOneLine() throws {
            let places = try AutostartPlaces("upgrade")
            let check = try LinkCheck.generated(in: places.scratch, files: 3, seed: 25)
            let plain = try check.linkPlain()
            func olderDaemon() throws -> Process {
                let old = Process()
                old.executableURL = URL(fileURLWithPath: Products.ltod)
                old.arguments = ["serve", "--protocol-version", "1"]
                old.environment = ProcessInfo.processInfo.environment.merging(places.env) { $1 }
                old.standardError = FileHandle.nullDevice
                try old.run()
                for _ in 0..<500 where (try? FrameSocket.connect(to: places.places.socket)) == nil { usleep(10_000) }
                return old
            }
            let link = ["gcc", "-O2", "-flto", "-o", "app"] + check.objects

            // Idle: it stops, and the link starts the new daemon and goes through it.
            let idle = try olderDaemon()
            let upgraded = try places.ltoc(link, cwd: check.directory)
            #expect(upgraded.status == 0 && ltocLines(upgraded.stderr).isEmpty, "\(upgraded.stderr)")
            idle.waitUntilExit()
            #expect(idle.terminationStatus == 0)
            #expect(try Fault.daemonPID(places.env) != idle.processIdentifier)
            #expect(sameBytes(plain, check.directory + "/app"))
            try places.stopDaemon()

            // A link open on it: this link runs without the cache, says so once, and the old
            // daemon stops when that link closes.
            let busy = try olderDaemon()
            let socket = try FrameSocket.connect(to: places.places.socket)
            guard case .hello = try socket.request(.hello(version: 1)),
                  case .session(let id, _) = try socket.request(.openSession(Invocation(
                      argv: ["lto-wrapper"] + check.objects.map { check.directory + "/" + $0 }, cwd: check.directory,
                      environment: ["COLLECT_GCC=gcc", "COLLECT_GCC_OPTIONS='-o' 'other'"])))
            else { throw TestFailure("cannot open a session on the older daemon") }
            let fellBack = try places.ltoc(link, cwd: check.directory)
            #expect(fellBack.status == 0)
            let lines = ltocLines(fellBack.stderr)
            #expect(lines.count == 1 && lines[0].contains("speaks protocol 1 and this ltoc \(Protocol.version); it was asked to stop once its links are done"),
                    "\(fellBack.stderr)")
            #expect(sameBytes(plain, check.directory + "/app"))
            #expect(busy.isRunning)
            _ = try socket.request(.closeSession(id: id, exitStatus: 0, printed: [], messages: nil))
            shutdown(socket.fd, Int32(SHUT_RDWR))
            busy.waitUntilExit()
            #expect(busy.terminationStatus == 0)
        }

        @Test func aSecondStartLeavesTheLogWholeAndAStopLeavesNoLock() throws {
            let places = try AutostartPlaces("log")
            let first = try Shell.check([Products.ltod, "start"], cwd: "/", env: places.env)
            #expect(first.stdout.hasPrefix("ltod started"))
            let second = try Shell.check([Products.ltod, "start"], cwd: "/", env: places.env)
            #expect(second.stdout.hasPrefix("ltod is already running"))
            try places.stopDaemon()
            try Shell.check([Products.ltod, "start"], cwd: "/", env: places.env)
            try places.stopDaemon()
            let log = try readBytes(places.places.logFile)
            #expect(!log.contains(0), "the log has NUL bytes")
            let text = String(decoding: log, as: UTF8.self)
            #expect(text.components(separatedBy: "serving").count - 1 == 2 && text.components(separatedBy: "ltod stopped").count - 1 == 2,
                    "both daemons' lines are kept:\n\(text)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directoryName(places.places.socket)).isEmpty)
        }
    }
}
