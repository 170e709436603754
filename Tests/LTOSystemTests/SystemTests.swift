import Foundation
import LTOSystem
import LTOTestSupport
import Synchronization
import Testing

@Suite struct PathTests {
    @Test func absolutePathsAreAnchoredOnce() {
        #expect(absolutePath("a.o", relativeTo: "/w") == "/w/a.o")
        #expect(absolutePath("a.o", relativeTo: "/") == "/a.o")
        #expect(absolutePath("/x/a.o", relativeTo: "/w") == "/x/a.o")
        #expect(directoryName("/a/b/c") == "/a/b" && directoryName("/c") == "/" && directoryName("c") == ".")
        #expect(baseName("/a/b/c") == "c")
    }

    /// execvp's rules: a name with a slash is taken as it is, an empty PATH entry is the
    /// current directory, and relative entries are relative to the directory given.
    @Test func programsAreFoundTheWayExecvpFindsThem() throws {
        let dir = try TemporaryDirectory("path")
        let bin = try dir.sub("bin")
        try dir.write("bin/tool", "#!/bin/sh\n")
        chmod(dir.file("bin/tool"), 0o755)
        try dir.write("bin/plain", "not executable")
        #expect(try resolveExecutable("tool", searchPath: "/nonexistent:" + bin) == bin + "/tool")
        #expect(try resolveExecutable("tool", searchPath: "bin", directory: dir.path) == bin + "/tool")
        #expect(try resolveExecutable("tool", searchPath: ":/usr/bin", directory: bin) == bin + "/./tool")
        #expect(try resolveExecutable("bin/tool", searchPath: nil, directory: dir.path) == dir.file("bin/tool"))
        #expect(throws: SpawnError.self) { try resolveExecutable("plain", searchPath: bin) }
        #expect(throws: SpawnError.self) { try resolveExecutable("tool", searchPath: "") }
    }
}

@Suite struct EnvironmentTests {
    @Test func lookupTakesTheLastEntryAndSettingReplacesAll() {
        let env = ["A=1", "B=2", "A=3", "AB=4"]
        #expect(lookup("A", in: env) == "3" && lookup("AB", in: env) == "4" && lookup("C", in: env) == nil)
        #expect(setting("A", to: "9", in: env) == ["B=2", "AB=4", "A=9"])
        #expect(removing(["A", "B"], from: env) == ["AB=4"])
        let invocation = Invocation(argv: ["gcc"], cwd: "/w", environment: env)
        #expect(invocation.env("B") == "2" && invocation.absolute("x.o") == "/w/x.o")
    }
}

@Suite struct FileTests {
    @Test func descriptorsAreReadToTheEndWithinTheLimit() throws {
        let dir = try TemporaryDirectory("files")
        let bytes = randomBytes(count: 200_000, seed: 3)
        try dir.write("f", bytes: bytes)
        #expect(readFileBytes(dir.file("f")) == bytes)
        #expect(readFileBytes(dir.file("f"), limit: 1000) == nil)
        #expect(readFileBytes(dir.file("missing")) == nil)
        try writeFile(dir.file("new"), [1, 2, 3])
        #expect(readFileBytes(dir.file("new")) == [1, 2, 3])
        #expect(throws: WriteError.self) { try writeFile(dir.file("new"), [4]) }
        let identity = try #require(FileIdentity(path: dir.file("new")))
        #expect(identity.size == 3 && FileNode(path: dir.file("new"))?.inode == identity.inode)
    }

    @Test func aMonitorWakesWaitersWhenTheValueChanges() {
        let monitor = Monitor(0)
        let seen = Mutex(0)
        let waiter = Thread {
            monitor.wait { $0 >= 3 }
            seen.withLock { $0 = monitor.withLock { $0 } }
        }
        waiter.start()
        for _ in 0..<3 { monitor.withLockBroadcasting { $0 += 1 } }
        monitor.wait { $0 == 3 }
        while seen.withLock({ $0 }) == 0 { usleep(1000) }
        #expect(seen.withLock { $0 } == 3)
    }
}
