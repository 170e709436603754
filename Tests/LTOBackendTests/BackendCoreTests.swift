import Foundation
import LTOBackend
import LTOHash
import LTOSystem
import LTOTestSupport
import Synchronization
import Testing

@Suite struct InFlightTests {
    /// Eight requests for one key at once: one builds, the others wait and reuse its result.
    @Test func oneKeyIsBuiltOnceHoweverManyAsk() throws {
        let inflight = InFlight()
        let key = Digest.of("partition")
        let built = Mutex(0)
        let stored = Mutex(false)
        let session = LinkSession(id: "s", target: "/t", directory: "/", detail: 0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let result = try? inflight.buildOnce(key, for: session, reuse: { stored.withLock { $0 } ? "reused" : nil }) { _ in
                built.withLock { $0 += 1 }
                usleep(50_000)
                stored.withLock { $0 = true }
                return "built"
            }
            #expect(["built", "reused"].contains(result))
        }
        #expect(built.withLock { $0 } == 1)
    }

    /// A build that stores nothing (it failed) does not leave the others without a result.
    @Test func aBuildThatStoresNothingLetsTheOthersBuild() throws {
        let inflight = InFlight()
        let builds = Mutex(0)
        let session = LinkSession(id: "s", target: "/t", directory: "/", detail: 0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            _ = try? inflight.buildOnce(Digest.of("k"), for: session, reuse: { nil as String? }) { _ in
                builds.withLock { $0 += 1 }
                return "failed"
            }
        }
        #expect(builds.withLock { $0 } == 4)
    }
}

@Suite struct SchedulerTests {
    @Test func neverRunsMoreThanTheLimit() {
        let scheduler = Scheduler(limit: 2)
        let running = Mutex((now: 0, peak: 0, finished: 0))
        for _ in 0..<8 {
            Thread.detachNewThread {
                try? scheduler.withSlot(for: DaemonJob()) {
                    running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                    usleep(50_000)
                    running.withLock { $0.now -= 1 }
                }
                running.withLock { $0.finished += 1 }
            }
        }
        while running.withLock({ $0.finished }) < 8 { usleep(5_000) }
        #expect(running.withLock { $0.peak } == 2 && scheduler.peakRunning == 2 && scheduler.running == 0)
    }
}

@Suite struct SessionRegistryTests {
    @Test func closedSessionsBecomeTheirTargetsLastLink() {
        let registry = SessionRegistry<Int>(keepingLast: 10)
        for (id, target) in [("1", "/a"), ("2", "/b"), ("3", "/a")] {
            registry.add(LinkSession(id: id, target: target, directory: "/", detail: 0))
        }
        #expect(registry.session("2")?.target == "/b")
        _ = registry.close("1")
        #expect(registry.close("3")?.forgotten.map(\.id) == ["1"])
        #expect(registry.session("1") == nil && registry.lastLink(of: "/a")?.id == "3")
        #expect(registry.close("nope") == nil)
    }

    /// Beyond its bound, the registry forgets the least recently linked target.
    @Test func onlyTheMostRecentlyLinkedTargetsAreKept() {
        let registry = SessionRegistry<Int>(keepingLast: 2)
        var forgotten: [String] = []
        for (id, target) in [("1", "/a"), ("2", "/b"), ("3", "/a"), ("4", "/c"), ("5", "/d")] {
            registry.add(LinkSession(id: id, target: target, directory: "/", detail: 0))
            forgotten += registry.close(id)?.forgotten.map(\.id) ?? []
        }
        #expect(registry.targetsKept == 2)
        #expect(registry.lastLink(of: "/c") != nil && registry.lastLink(of: "/d") != nil && registry.lastLink(of: "/a") == nil)
        #expect(forgotten == ["1", "2", "3"])
    }

    @Test func theFirstStoreWarningIsKept() {
        let session = LinkSession(id: "s", target: "/t", directory: "/", detail: 0)
        #expect(session.noteStoreWarning("disk full"))
        #expect(!session.noteStoreWarning("again"))
        #expect(session.snapshot.storeWarning == "disk full")
    }
}

@Suite struct ScratchAreaTests {
    @Test func filesOfDeadProcessesAreSweptAndTheAreaIsPrivate() throws {
        let dir = try TemporaryDirectory("scratch")
        let path = dir.file("tmp")
        let area = try ScratchArea(path: path)
        let mine = area.newPath("run")
        try writeFile(mine, [1])
        try writeFile(path + "/run-999999999-dead", [1])
        _ = try ScratchArea(path: path)
        #expect(exists(mine) && !exists(path + "/run-999999999-dead"))
        var info = stat()
        #expect(lstat(path, &info) == 0 && info.st_mode & 0o777 == 0o700)
        try FileManager.default.removeItem(atPath: path)
        symlink(dir.path, path)
        #expect(throws: ScratchAreaError.self) { try ScratchArea(path: path) }
    }
}
