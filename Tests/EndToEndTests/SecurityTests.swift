import Foundation
import LTOConfig
import LTOSystem
import LTOTestSupport
import LTOWire
import Testing

extension EndToEnd {
    /// Nobody else in: symlinks planted at the socket or in the cache are refused, not followed;
    /// the daemon writes only for links it opened; file names reach GCC as argv, never a shell.
    /// (Permissions 0700/0600 and the peer-uid check are in DaemonLifecycleTests.)
    @Suite struct SecurityTests {
        /// A file outside everything ltod owns; `untouched` says it still holds what it held.
        struct Precious {
            let path: String
            init(_ scratch: TemporaryDirectory) throws {
                path = scratch.path + "/precious"
                try "precious".write(toFile: path, atomically: false, encoding: .utf8)
            }
            var untouched: Bool { (try? String(contentsOfFile: path, encoding: .utf8)) == "precious" }
        }

        func serve(_ env: [String: String]) throws -> Shell.Result {
            try Products.require()
            return try Shell.run([Products.ltod, "serve"], cwd: "/", env: env.merging(["LTOD_IDLE_TIMEOUT": "1s"]) { $1 }, timeout: 60)
        }

        @Test func symlinksAtTheSocketPathOrItsDirectoryAreRefused() throws {
            let scratch = try TemporaryDirectory("socklink")
            let precious = try Precious(scratch)
            let run = try scratch.sub("run")
            #expect(symlink(precious.path, run + "/socket") == 0)
            let atSocket = try serve(["LTOD_SOCKET": run + "/socket", "LTOD_CACHE_DIR": scratch.path + "/cache"])
            #expect(atSocket.status != 0 && atSocket.stderr.contains("is not a socket"), "\(atSocket.stderr)")
            #expect(precious.untouched)

            let elsewhere = try scratch.sub("elsewhere")
            #expect(symlink(elsewhere, scratch.path + "/linkdir") == 0)
            let atDirectory = try serve(["LTOD_SOCKET": scratch.path + "/linkdir/socket", "LTOD_CACHE_DIR": scratch.path + "/cache"])
            #expect(atDirectory.status != 0 && atDirectory.stderr.contains("(a symlink?)"), "\(atDirectory.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty, "nothing created through the link")
        }

        @Test(arguments: ["objects", "tmp", "index.sqlite"])
        func aSymlinkPlantedInTheCacheStopsTheDaemonWithAClearError(_ name: String) throws {
            let scratch = try TemporaryDirectory("cachelink")
            let precious = try Precious(scratch)
            let cache = try scratch.sub("cache")
            let target = name == "index.sqlite" ? precious.path : try scratch.sub("victim")
            #expect(symlink(target, cache + "/" + name) == 0)
            let r = try serve(["LTOD_SOCKET": try scratch.sub("run") + "/socket", "LTOD_CACHE_DIR": cache])
            #expect(r.status != 0, "\(r.stderr)")
            #expect(r.stderr.contains("refusing to use") && r.stderr.contains("\(cache)/\(name)"), "\(r.stderr)")
            #expect(precious.untouched)
            if name != "index.sqlite" { #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty) }
        }

        @Test func aShardSymlinkedWhileServingIsNeitherFollowedNorEmptied() throws {
            let scratch = try TemporaryDirectory("shardlink")
            let daemon = try Daemon(in: scratch, extraEnv: ["LTOD_LOG": "info"])
            let dir = try scratch.sub("src")
            let values = (0..<100_000).map { String($0 % 253) }.joined(separator: ",")
            try "const unsigned char big[100000] = {\(values)};\n".write(toFile: dir + "/big.c", atomically: false, encoding: .utf8)
            try "#include <stdio.h>\nextern const unsigned char big[];\nint main(int c, char **v) { (void)v; printf(\"%d\\n\", big[c * 9]); return 0; }\n"
                .write(toFile: dir + "/main.c", atomically: false, encoding: .utf8)
            let check = LinkCheck(directory: dir, objects: ["big.o", "main.o"])
            try check.compile(["big.c", "main.c"])
            try check.compareLinks(daemon)
            // Move the one payload file's shard away and plant a link to a directory of precious files.
            let objects = daemon.cache + "/objects"
            let shard = try #require(try FileManager.default.contentsOfDirectory(atPath: objects).first)
            let victim = try scratch.sub("victim")
            try "precious".write(toFile: victim + "/precious", atomically: false, encoding: .utf8)
            for name in try FileManager.default.contentsOfDirectory(atPath: "\(objects)/\(shard)") {
                try FileManager.default.moveItem(atPath: "\(objects)/\(shard)/\(name)", toPath: "\(victim)/\(name)")
            }
            #expect(rmdir("\(objects)/\(shard)") == 0 && symlink(victim, "\(objects)/\(shard)") == 0)
            let before = try FileManager.default.contentsOfDirectory(atPath: victim).sorted()

            let relink = try check.compareLinks(daemon)
            #expect(relink.rebuilt == 1, "the payload behind the link is not used: \(relink.json)")
            try check.runBoth()
            try daemon.ltoc("clear")
            #expect(try FileManager.default.contentsOfDirectory(atPath: victim).sorted() == before, "nothing written or removed there")
        }

        @Test func driverRequestsOutsideTheDaemonsOwnSessionsAreRefused() throws {
            let scratch = try TemporaryDirectory("nosession")
            let daemon = try Daemon(in: scratch)
            let check = try LinkCheck.generated(in: scratch, files: 2, seed: 71)
            try Shell.check(["gcc", "-O2", "-flto", "-flto-partition=1to1", "-save-temps", "-o", "saved"] + check.objects, cwd: check.directory)
            let partition = check.directory + "/saved.ltrans0.o"
            #expect(FileManager.default.fileExists(atPath: partition))
            let socket = try FrameSocket.connect(to: daemon.socket)
            guard case .hello = try socket.request(.hello(version: Protocol.version)) else { throw TestFailure("hello") }
            let env = ["LTOD_DRIVER=gcc", "PATH=" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
            for (what, argv) in [
                ("LTRANS", ["gcc", "-xlto", "-c", "-O2", "-fltrans", "-o", scratch.path + "/planted.o", partition]),
                ("other", ["gcc", "-c", check.directory + "/m000.c", "-o", scratch.path + "/planted.o"]),
            ] {
                let reply = try socket.request(.compile(session: "not-a-session-of-this-daemon", Invocation(argv: argv, cwd: scratch.path, environment: env)))
                guard case .failure(let message) = reply else {
                    Issue.record("\(what): expected a refusal, got \(reply)")
                    continue
                }
                #expect(message.contains("no link session"), "\(what): \(message)")
                #expect(!FileManager.default.fileExists(atPath: scratch.path + "/planted.o"), "\(what): nothing written")
            }
        }

        @Test func shellMetacharactersInPathsReachGCCAsArguments() throws {
            let scratch = try TemporaryDirectory("shell")
            let daemon = try Daemon(in: scratch)
            let dir = try scratch.sub("a b;$(touch PWNED)'`touch PWNED2`")
            try "int get(int x) { return x + 1; }\n".write(toFile: dir + "/a.c", atomically: false, encoding: .utf8)
            try "#include <stdio.h>\nint get(int);\nint main(void) { printf(\"%d\\n\", get(41)); return 0; }\n"
                .write(toFile: dir + "/b $(touch PWNED3).c", atomically: false, encoding: .utf8)
            for flags in [["-O2", "-flto"], ["-O2", "-flto=auto"]] {
                var check = LinkCheck(directory: dir, objects: ["a.o", "b $(touch PWNED3).o"])
                check.linkFlags = flags
                check.output = "app;$(touch PWNED4)"
                try check.compile(["a.c", "b $(touch PWNED3).c"])
                try check.compareLinks(daemon)
                try check.runBoth()
            }
            let touched = ["PWNED", "PWNED2", "PWNED3", "PWNED4"]
            let planted = (FileManager.default.enumerator(atPath: scratch.path)?.compactMap { $0 as? String } ?? [])
                .filter { touched.contains(($0 as NSString).lastPathComponent) }
            #expect(planted.isEmpty, "\(planted)")
            for root in ["/", "/tmp"] { #expect(touched.allSatisfy { !FileManager.default.fileExists(atPath: root + "/" + $0) }) }
        }
    }
}
