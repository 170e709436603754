import Foundation
import LTOConfig
import LTOHash
import LTORedisStorage
import LTOStorage
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// The remote tier with real daemons over a real `redis-server` (and a fake server for
    /// replies a real one never gives): daemons with separate local caches share entries
    /// through it, keys keep machines apart where their output differs, and no fault of the
    /// tier ever fails a link or changes its binary.
    @Suite struct RemoteTierTests {
        init() { signal(SIGPIPE, SIG_IGN) }

        /// A daemon with a cache of its own whose remote tier is `url`, and the directory that
        /// holds its socket and cache (kept as long as the daemon). The timeout is long enough
        /// for a loaded machine, except where a test wants to meet it.
        static func daemon(_ url: String, _ label: String, timeout: String = "5s", env: [String: String] = [:]) throws
            -> (Daemon, TemporaryDirectory) {
            let scratch = try TemporaryDirectory(label)
            return (try Daemon(in: scratch, extraEnv: ["LTOD_REMOTE_STORAGE": url, "LTOD_REMOTE_TIMEOUT": timeout].merging(env) { $1 }), scratch)
        }

        /// Links with plain gcc (to `app.plain`) and through `daemon` (to `app`) with the same
        /// flags and environment, requires the same bytes, runs both; returns ltod's stderr.
        @discardableResult
        static func linkBoth(_ daemon: Daemon, _ check: LinkCheck, env: [String: String] = [:],
                             sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            let args = check.linkFlags + check.plainExtra + ["-o"]
            try Shell.check(["gcc"] + args + ["app.plain"] + check.objects, cwd: check.directory, env: env)
            let libexec = try Products.libexec()
            let r = try Shell.check(["gcc", "-B", libexec] + check.linkFlags + ["-o", "app"] + check.objects, cwd: check.directory,
                                    env: daemon.env.merging(env) { $1 })
            #expect(sameBytes(check.directory + "/app", check.directory + "/app.plain"), "binary differs from plain gcc's",
                    sourceLocation: sourceLocation)
            try check.runBoth(env: env, sourceLocation: sourceLocation)
            return r.stderr
        }

        /// The lines of `stderr` about the remote tier.
        static func remoteLines(_ stderr: String) -> [Substring] {
            stderr.split(separator: "\n").filter { $0.contains("remote cache") }
        }

        /// Stops `daemon` with `ltoc shutdown` and waits for it to exit (pending remote writes are sent first).
        static func shutDown(_ daemon: Daemon) throws {
            try daemon.ltoc("shutdown")
            let deadline = Date().addingTimeInterval(60)
            while daemon.process.isRunning && Date() < deadline { usleep(10_000) }
            guard !daemon.process.isRunning else { throw TestFailure("ltod did not stop within 60 s of `ltoc shutdown`") }
        }

        /// A directory tree in which a `gcc` at `<root>/usr/bin/gcc` finds the real GCC's files
        /// (`usr/lib` is a link to /usr/lib): a compiler installed at another path.
        static func otherInstall(_ scratch: TemporaryDirectory, driver: (String) throws -> Void) throws -> String {
            let bin = try scratch.sub("install/usr/bin")
            try FileManager.default.createSymbolicLink(atPath: scratch.path + "/install/usr/lib", withDestinationPath: "/usr/lib")
            try driver(bin + "/gcc")
            chmod(bin + "/gcc", 0o755)
            return bin
        }

        /// Two daemons with separate local caches and one Redis: the first links a program cold
        /// and stops (sending its pending writes); the second links the same objects cold with
        /// the same compiler installed at another path, and takes every partition from the
        /// remote tier, byte-identical.
        @Test func aSecondDaemonReusesWhatTheFirstLinkedThroughRedis() throws {
            let scratch = try TemporaryDirectory("remote-share")
            let redis = try RedisServer(in: try scratch.sub("redis"))
            let (first, firstDirectory) = try Self.daemon(redis.unixURL, "remote-a")
            defer { withExtendedLifetime(firstDirectory) {} }
            let check = try LinkCheck.generated(in: scratch, files: 8, seed: 21)
            #expect(Self.remoteLines(try Self.linkBoth(first, check)).isEmpty)
            let partitions = try Explain(first).total
            try Self.shutDown(first)
            let stored = try redis.ltodKeys().count
            #expect(stored >= partitions, "every object (and its provenance) was sent before the daemon stopped: \(stored) of \(partitions)")

            let realDriver = URL(fileURLWithPath: "/usr/bin/gcc").resolvingSymlinksInPath().path
            let bin = try Self.otherInstall(scratch) { try FileManager.default.copyItem(atPath: realDriver, toPath: $0) }
            let (second, secondDirectory) = try Self.daemon(redis.unixURL, "remote-b", env: ["LTOD_REMOTE_READ_ONLY": "1"])
            defer { withExtendedLifetime(secondDirectory) {} }
            let stderr = try Self.linkBoth(second, check, env: ["PATH": Fault.path(prepending: bin)])
            #expect(Self.remoteLines(stderr).isEmpty, "\(stderr)")
            let explained = try Explain(second)
            #expect(explained.total == partitions && explained.reused == partitions && explained.rebuilt == 0)
            #expect(try second.stat("remote.hits") == Double(partitions) && second.stat("remote.errors") == 0)
            #expect(try second.stat("remote.mean_hit_seconds") > 0 && second.stat("remote.bytes_read") > 0)
            #expect(try redis.ltodKeys().count == stored, "a read-only daemon writes nothing")
            let table = try second.ltoc("stats").stdout
            #expect(table.contains("Remote tier") && table.contains("mean hit latency"), "\(table)")
            #expect(try second.ltoc("stats", "--format", "prometheus").stdout.contains("ltod_remote_hits_total \(partitions)\n"))
            let config = try Shell.check([Products.ltoc, "config"], cwd: "/", env: second.env.merging(["LTOD_REMOTE_STORAGE": redis.tcpURL]) { $1 })
            #expect(config.stdout.contains("redis://127.0.0.1:\(redis.port)/0"), "\(config.stdout)")
        }

        /// `-march=native` reaches LTRANS literally and the driver expands it on the machine
        /// that runs LTRANS. Here a driver installed at another path stands for two machines:
        /// on the second, an LTRANS job's `-march=native` means `-march=x86-64`
        /// (FAKE_NATIVE_ARCH, an environment variable ltod does not key). The wrapper leaves WPA
        /// alone, so the partitions (whose `.gnu.lto_.opts` records WPA's own expansion) are the
        /// same on both: only the expansion ltod asks the LTRANS driver for keeps the two
        /// daemons apart. They share nothing, and each binary is plain gcc's on its "machine".
        @Test func nativeOptionsAreKeyedByTheirExpansionOnTheMachineThatRunsLTRANS() throws {
            let scratch = try TemporaryDirectory("remote-native")
            let redis = try RedisServer(in: try scratch.sub("redis"))
            let bin = try Self.otherInstall(scratch) { path in
                try """
                    #!/bin/bash
                    args=()
                    for a in "$@"; do
                      if [ "$a" = -march=native ] && [ -n "$FAKE_NATIVE_ARCH" ] && [[ " $* " == *" -fltrans "* ]]; then
                        args+=("-march=$FAKE_NATIVE_ARCH")
                      else
                        args+=("$a")
                      fi
                    done
                    exec -a "$0" /usr/bin/gcc "${args[@]}"

                    """.write(toFile: path, atomically: false, encoding: .utf8)
            }
            let dir = try scratch.sub("src")
            try """
                __attribute__((noinline)) void scale(float *restrict y, const float *restrict x, int n) {
                  for (int i = 0; i < n; i++) y[i] = 3.0f * x[i] + y[i] * x[i];
                }

                """.write(toFile: dir + "/vec.c", atomically: false, encoding: .utf8)
            try """
                #include <stdio.h>
                void scale(float *restrict, const float *restrict, int);
                int main(int argc, char **argv) { (void)argv; float x[256], y[256]; for (int i = 0; i < 256; i++) { x[i] = i + argc; y[i] = argc; }
                  scale(y, x, 200 + argc); double s = 0; for (int i = 0; i < 256; i++) s += y[i]; printf("%.1f\\n", s); return 0; }

                """.write(toFile: dir + "/main.c", atomically: false, encoding: .utf8)
            var check = LinkCheck(directory: dir, objects: ["vec.o", "main.o"])
            check.compileFlags = ["-O3"]
            check.linkFlags = ["-O3", "-flto", "-march=native"]
            try check.compile(["vec.c", "main.c"])
            let path = Fault.path(prepending: bin)

            let (first, firstDirectory) = try Self.daemon(redis.unixURL, "remote-native-a")

            defer { withExtendedLifetime(firstDirectory) {} }
            try Self.linkBoth(first, check, env: ["PATH": path])
            try Self.shutDown(first)
            #expect(try !redis.ltodKeys().isEmpty)

            let (second, secondDirectory) = try Self.daemon(redis.unixURL, "remote-native-b")

            defer { withExtendedLifetime(secondDirectory) {} }
            try Self.linkBoth(second, check, env: ["PATH": path, "FAKE_NATIVE_ARCH": "x86-64"])
            #expect(try second.stat("remote.hits") == 0 && second.stat("remote.misses") > 0,
                    "a machine whose -march=native differs took an object built for another")
        }

        /// The directory LTRANS runs in is keyed only where the object records it. Objects of
        /// sources named by absolute paths, linked from two directories: without -g the second
        /// link reuses the first's partitions; with -g (DW_AT_comp_dir) it rebuilds them. Each
        /// binary is plain gcc's in its own directory.
        @Test func theDirectoryIsKeyedOnlyWhereTheObjectRecordsIt() throws {
            let scratch = try TemporaryDirectory("remote-directory")
            let program = SyntheticC.generate(ProgramSpec(files: 4, functionsPerFile: 3, seed: 5))
            let sources = try scratch.sub("src")
            try program.write(to: sources)
            let objects = try program.cFiles.map { file in
                let object = sources + "/" + String(file.dropLast(2)) + ".o"
                try Shell.check(["gcc", "-O2", "-flto", "-c", sources + "/" + file, "-o", object], cwd: sources)
                return object
            }
            let daemon = try Daemon(in: scratch)
            for (flags, shared) in [(["-O2", "-flto"], true), (["-O2", "-g", "-flto"], false)] {
                for (n, name) in ["one", "two"].enumerated() {
                    var check = LinkCheck(directory: try scratch.sub(name + flags.count.description), objects: objects)
                    check.linkFlags = flags
                    try Self.linkBoth(daemon, check)
                    let explained = try Explain(daemon)
                    if n == 1 { #expect(explained.reused == (shared ? explained.total : 0), "\(flags): \(explained.json)") }
                }
            }
        }

        /// Redis down, refusing, too slow, or answering garbage: each link succeeds with plain
        /// gcc's binary and says once on stderr that the remote tier was skipped; the next link
        /// (its local cache emptied, so it needs the remote tier) skips the tier without trying
        /// it again, and says so again.
        @Test func faultsOfTheServerNeverFailALink() throws {
            let scratch = try TemporaryDirectory("remote-faults")
            let check = try LinkCheck.generated(in: scratch, files: 4, seed: 9)
            let silent = try FakeRedisServer(at: scratch.file("silent.sock"), behaviour: .silent)
            let garbage = try FakeRedisServer(at: scratch.file("garbage.sock"), behaviour: .garbage)
            let cases: [(url: String, counter: String, says: String)] = [
                ("redis+unix://\(scratch.path)/absent.sock", "remote.errors", "No such file"),
                ("redis://127.0.0.1:\(try freeLoopbackPort())", "remote.errors", "refused"),
                (silent.url, "remote.timeouts", "timeout"),
                (garbage.url, "remote.errors", "rotocol error"),
            ]
            for (url, counter, says) in cases {
                let (daemon, daemonDirectory) = try Self.daemon(url, "remote-fault", timeout: "200ms")
                defer { withExtendedLifetime(daemonDirectory) {} }
                let lines = Self.remoteLines(try Self.linkBoth(daemon, check))
                #expect(lines.count == 1 && lines[0].contains(says) && lines[0].contains("skipped"), "\(url): \(lines)")
                #expect(try daemon.stat(counter) >= 1 && daemon.stat("remote.skipped") > 0, "\(url): one fault, then backing off")
                try daemon.ltoc("clear")
                let skipped = try daemon.stat("remote.skipped")
                let again = Self.remoteLines(try Self.linkBoth(daemon, check))
                #expect(again.count == 1, "\(url): \(again)")
                #expect(try daemon.stat("remote.skipped") > skipped, "\(url): still backing off")
            }
        }

        /// A corrupted entry is refused (its hash does not match), removed, and rebuilt; the
        /// link's binary is plain gcc's.
        @Test func aCorruptedEntryIsRefusedAndRebuilt() throws {
            let scratch = try TemporaryDirectory("remote-corrupt")
            let redis = try RedisServer(in: try scratch.sub("redis"))
            let check = try LinkCheck.generated(in: scratch, files: 4, seed: 13)
            let (first, firstDirectory) = try Self.daemon(redis.unixURL, "remote-corrupt-a")
            defer { withExtendedLifetime(firstDirectory) {} }
            try Self.linkBoth(first, check)
            try Self.shutDown(first)
            let keys = try redis.ltodKeys()
            for key in keys { try redis.cli("SETRANGE", key, "70", "corrupt") }
            let (second, secondDirectory) = try Self.daemon(redis.unixURL, "remote-corrupt-b")
            defer { withExtendedLifetime(secondDirectory) {} }
            let lines = Self.remoteLines(try Self.linkBoth(second, check))
            #expect(lines.count == 1 && lines[0].contains("does not match its hash"), "\(lines)")
            let errors = try second.stat("remote.errors")
            #expect(try second.stat("remote.hits") == 0 && errors >= 1)
            #expect(try keys.count - redis.ltodKeys().count == Int(errors), "each refused entry is removed")
        }

        /// The server is shut down and started again (empty) by the assembler of the ltod link's
        /// third LTRANS job: the link succeeds with plain gcc's binary and says at most once
        /// that the remote tier was skipped; what reaches the restarted server is sound.
        @Test func aServerRestartedMidLinkNeverFailsIt() throws {
            let scratch = try TemporaryDirectory("remote-restart")
            let redis = try RedisServer(in: try scratch.sub("redis"))
            let check = try LinkCheck.generated(in: scratch, files: 6, seed: 17)
            let tools = try scratch.sub("tools")
            try Fault.tool(tools + "/as", """
                if [ -n "$LTOD_SOCKET" ]; then
                  echo run >> "\(scratch.path)/as-runs"
                  if [ "$(wc -l < "\(scratch.path)/as-runs")" -ge 3 ] && mkdir "\(scratch.path)/restarted" 2>/dev/null; then \(redis.restartScript); fi
                fi
                exec /usr/bin/as "$@"
                """)
            let env = ["PATH": Fault.path(prepending: tools)]
            let (first, firstDirectory) = try Self.daemon(redis.unixURL, "remote-restart-a")
            defer { withExtendedLifetime(firstDirectory) {} }
            let lines = Self.remoteLines(try Self.linkBoth(first, check, env: env))
            #expect(FileManager.default.fileExists(atPath: scratch.path + "/restarted"), "the server was restarted mid-link")
            #expect(lines.count <= 1, "\(lines)")
            try Self.shutDown(first)
            let (second, secondDirectory) = try Self.daemon(redis.unixURL, "remote-restart-b")
            defer { withExtendedLifetime(secondDirectory) {} }
            try Self.linkBoth(second, check, env: env)
            #expect(try second.stat("remote.errors") == 0)
        }

        /// Whoever can write to the tier can put code into links: here every object in Redis is
        /// replaced by a valid entry (right key, matching hash) whose object differs in one byte
        /// of its `.comment`. A daemon with `audit = 1` links with them (its binary differs from
        /// plain gcc's: the trust the docs describe), compiles every remote hit again in the
        /// background, finds each mismatch and removes the entry from both tiers.
        @Test func theAuditComparesRemoteHitsWithAFreshBuild() throws {
            let scratch = try TemporaryDirectory("remote-audit")
            let redis = try RedisServer(in: try scratch.sub("redis"))
            let check = try LinkCheck.generated(in: scratch, files: 4, seed: 23)
            let (first, firstDirectory) = try Self.daemon(redis.unixURL, "remote-audit-a")
            defer { withExtendedLifetime(firstDirectory) {} }
            try Self.linkBoth(first, check)
            try Self.shutDown(first)
            let tier = RedisStorage(url: try RemoteStorageURL.parse(redis.unixURL), timeout: 5)
            var poisoned = 0
            for name in try redis.ltodKeys() {
                let key = CacheKey(try #require(Digest(hex: name.dropFirst(RedisStorage.keyPrefix.count))))
                let entry = try RemoteEntry(decoding: try #require(try tier.get(key)), key: key)
                let mark = Array("GCC: (".utf8)
                guard let at = entry.payload.indices.first(where: { entry.payload[$0...].starts(with: mark) }) else { continue }
                var payload = entry.payload
                payload[at + 5] = UInt8(ascii: "[")
                try tier.put(key, RemoteEntry(payload: payload, info: entry.info).encoded(key: key))
                poisoned += 1
            }
            #expect(poisoned > 0)
            let (second, secondDirectory) = try Self.daemon(redis.unixURL, "remote-audit-b", env: ["LTOD_AUDIT": "1"])
            defer { withExtendedLifetime(secondDirectory) {} }
            try Shell.check(["gcc", "-B", try Products.libexec()] + check.linkFlags + ["-o", "app"] + check.objects, cwd: check.directory,
                            env: second.env)
            #expect(!sameBytes(check.directory + "/app", check.directory + "/app.plain"), "the poisoned objects were linked")
            let hits = try second.stat("remote.hits")
            #expect(hits == Double(poisoned))
            let deadline = Date().addingTimeInterval(120)
            while try second.stat("ltrans.audit_runs") < hits && Date() < deadline { usleep(50_000) }
            #expect(try second.stat("ltrans.audit_runs") == hits && second.stat("ltrans.audit_mismatches") == hits)
            for name in try redis.ltodKeys() {
                let key = CacheKey(try #require(Digest(hex: name.dropFirst(RedisStorage.keyPrefix.count))))
                let payload = try RemoteEntry(decoding: try #require(try tier.get(key)), key: key).payload
                #expect(!payload.starts(with: [0x7f, 0x45, 0x4c, 0x46]), "no object is left in the tier: \(name)")
            }
        }

        @Test func aMalformedURLStopsTheDaemonWithTheAcceptedForms() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("remote-badurl")
            let env = ["LTOD_SOCKET": try scratch.sub("run") + "/ltod/socket", "LTOD_CACHE_DIR": scratch.path + "/cache",
                       "LTOD_REMOTE_STORAGE": "redis//cache:6379"]
            let r = try Shell.run([Products.ltod, "serve"], cwd: "/", env: env)
            #expect(r.status != 0)
            #expect(r.stderr.contains("LTOD_REMOTE_STORAGE=redis//cache:6379 is not valid; expected " + RemoteStorageURL.acceptedForms), "\(r.stderr)")
        }
    }
}
