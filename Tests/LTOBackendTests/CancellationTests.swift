import Foundation
import LTOHash
import LTOSystem
import LTOTestSupport
import Synchronization
import Testing
@testable import LTOBackend

@Suite struct CancellationTests {
    @Test func handlersRunOnceAndWithdrawnOnesNever() {
        let c = Cancellation()
        let runs = Mutex(0)
        let kept = c.onCancel { runs.withLock { $0 += 1 } }
        let withdrawn = c.onCancel { runs.withLock { $0 += 100 } }
        #expect(c.remove(withdrawn))
        c.cancel()
        c.cancel()
        #expect(runs.withLock { $0 } == 1 && c.isCancelled && !c.remove(kept))
        #expect(c.onCancel { runs.withLock { $0 += 10 } } == nil)
        #expect(runs.withLock { $0 } == 11)
        #expect(throws: LinkCancelled.self) { try c.check() }
    }

    /// Link A builds a key link B also waits for; A is interrupted: the compiler goes on for
    /// B, which reuses its result. Had only A wanted it, it would have been stopped.
    @Test func aBuildAnotherLinkWaitsForGoesOn() throws {
        let dir = try TemporaryDirectory("shared")
        let runner = try makeRunner(dir)
        let inflight = InFlight()
        let key = Digest.of("partition")
        let a = LinkSession(id: "a", target: "/a", directory: "/", detail: 0)
        let b = LinkSession(id: "b", target: "/b", directory: "/", detail: 0)
        let stored = Mutex(false)
        let results = Mutex<[String: String]>([:])
        let command = Command(executable: "/bin/sh", argv: ["sh", "-c", "touch \(dir.file("started")); while [ ! -e \(dir.file("go")) ]; do sleep 0.01; done"])
        for session in [a, b] {
            Thread.detachNewThread {
                let value: String
                do {
                    value = try inflight.buildOnce(key, for: session, reuse: { stored.withLock { $0 } ? "reused" : nil }) { job in
                        let run = try runner.run(command, for: job)
                        stored.withLock { $0 = true }
                        return "built: \(run.status)"
                    }
                } catch {
                    value = "\(error)"
                }
                results.withLock { $0[session.id] = value }
            }
            if session === a { try waitForFile(dir.file("started")) }
        }
        for _ in 0..<1000 where inflight.demand(for: key) < 2 { usleep(10_000) }
        #expect(inflight.demand(for: key) == 2)
        a.cancellation.cancel()
        #expect(inflight.demand(for: key) == 1)
        try writeFile(dir.file("go"), [])
        for _ in 0..<1000 where results.withLock({ $0.count }) < 2 { usleep(10_000) }
        #expect(results.withLock { $0 } == ["a": "built: exited(0)", "b": "reused"])
    }

    @Test func aBuildNobodyWantsAnyMoreIsStopped() throws {
        let dir = try TemporaryDirectory("alone")
        let runner = try makeRunner(dir)
        let inflight = InFlight()
        let a = LinkSession(id: "a", target: "/a", directory: "/", detail: 0)
        let outcome = Mutex<String?>(nil)
        Thread.detachNewThread {
            let value: String
            do {
                value = try inflight.buildOnce(Digest.of("k"), for: a, reuse: { nil as String? }) { job in
                    _ = try runner.run(Command(executable: "/bin/sh", argv: ["sh", "-c", "echo $$ > \(dir.file("pid")); exec sleep 30"]), for: job)
                    return "built"
                }
            } catch is LinkCancelled {
                value = "cancelled"
            } catch {
                value = "\(error)"
            }
            outcome.withLock { $0 = value }
        }
        try waitForFile(dir.file("pid"))
        let start = Date()
        a.cancellation.cancel()
        for _ in 0..<1000 where outcome.withLock({ $0 }) == nil { usleep(10_000) }
        #expect(outcome.withLock { $0 } == "cancelled")
        #expect(Date().timeIntervalSince(start) < 5)
        if let pid = pid(in: dir.file("pid")) { #expect(kill(pid, 0) != 0) }
        #expect(inflight.demand(for: Digest.of("k")) == 0)
    }
}
