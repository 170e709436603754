import Foundation
import LTOHash
import LTOSystem
import LTOTestSupport
import Synchronization
import Testing
@testable import LTOBackend

/// A real pipe jobserver as make 4.3 makes one for `-jN`: N-1 tokens in the pipe.
final class PipeJobserver {
    let read: Int32
    let write: Int32

    init(jobs: Int) throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw TestFailure("pipe: \(errno)") }
        (read, write) = (fds[0], fds[1])
        _ = fcntl(read, F_SETFL, fcntl(read, F_GETFL) | O_NONBLOCK)
        _ = [UInt8](repeating: UInt8(ascii: "+"), count: jobs - 1).withUnsafeBytes { Glibc.write(write, $0.baseAddress!, $0.count) }
    }

    deinit {
        close(read)
        close(write)
    }

    /// The daemon's side, on descriptors of its own (as received over the socket).
    func client() throws -> Jobserver { try Jobserver(readEnd: dup(read), writeEnd: dup(write)) }

    /// Takes every token in the pipe; how many there were.
    func drain() -> Int {
        var byte: UInt8 = 0, count = 0
        while Glibc.read(read, &byte, 1) == 1 { count += 1 }
        return count
    }
}

/// A scratch area and a runner with a daemon limit well above make's.
func makeRunner(_ dir: TemporaryDirectory, limit: Int = 8) throws -> ProcessRunner {
    ProcessRunner(scratch: try ScratchArea(path: dir.file("tmp")), scheduler: Scheduler(limit: limit))
}

/// Waits (up to 10 s) until `path` exists.
func waitForFile(_ path: String) throws {
    for _ in 0..<1000 where !exists(path) { usleep(10_000) }
    guard exists(path) else { throw TestFailure("\(path) did not appear") }
}

/// The pid a job wrote to `path`.
func pid(in path: String) -> pid_t? {
    (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

@Suite struct JobserverTests {
    @Test func onlyTheTwoEndsOfOnePipeAreAJobserver() throws {
        let dir = try TemporaryDirectory("js")
        try dir.write("file", "x")
        let file = open(dir.file("file"), O_RDONLY)
        let a = try PipeJobserver(jobs: 2), b = try PipeJobserver(jobs: 2)
        #expect(throws: JobserverError.self) { try Jobserver(readEnd: file, writeEnd: dup(a.write)) }
        #expect(throws: JobserverError.self) { try Jobserver(readEnd: dup(a.read), writeEnd: dup(b.write)) }
        #expect(throws: JobserverError.self) { try Jobserver(readEnd: dup(a.write), writeEnd: dup(a.read)) }
        _ = try a.client()
    }

    /// make -j3 (two tokens in the pipe): six processes of one link never run more than three at
    /// once (the link's own token and two read from make), whatever the daemon's limit, and
    /// every token is back in the pipe afterwards.
    @Test func aLinksProcessesRunOnlyOnMakesTokens() throws {
        let dir = try TemporaryDirectory("js-run")
        let make = try PipeJobserver(jobs: 3)
        let counter = try ConcurrencyCounter()
        let job = try counter.wrapper(named: "job", running: "/bin/true", rendezvous: 3)
        let runner = try makeRunner(dir)
        let session = LinkSession(id: "s", target: "/t", directory: "/", jobserver: try make.client(), detail: 0)
        let statuses = Mutex<[LTOSystem.ExitStatus]>([])
        // A thread each (concurrentPerform would run no more at once than there are cores).
        let group = DispatchGroup()
        for _ in 0..<6 {
            group.enter()
            Thread.detachNewThread {
                let result = try? runner.run(Command(executable: job, argv: [job]), for: session)
                statuses.withLock { $0.append(result?.status ?? LTOSystem.ExitStatus.exited(-1)) }
                group.leave()
            }
        }
        group.wait()
        #expect(statuses.withLock { $0 } == Array(repeating: LTOSystem.ExitStatus.exited(0), count: 6))
        #expect(counter.most == 3, "\(counter.most) processes ran at once with make -j3")
        #expect(session.slots.inUse == (0, 0))
        #expect(make.drain() == 2, "tokens were not all given back")
    }

    /// Each job request being served brings its requester's token: two requests run two
    /// processes without taking anything from make.
    @Test func aRequestBeingServedBringsItsOwnToken() throws {
        let dir = try TemporaryDirectory("js-req")
        let make = try PipeJobserver(jobs: 1)
        let counter = try ConcurrencyCounter()
        let job = try counter.wrapper(named: "job", running: "/bin/true", rendezvous: 2)
        let runner = try makeRunner(dir)
        let session = LinkSession(id: "s", target: "/t", directory: "/", jobserver: try make.client(), detail: 0)
        let group = DispatchGroup()
        for _ in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                session.slots.serving { _ = try? runner.run(Command(executable: job, argv: [job]), for: session) }
                group.leave()
            }
        }
        group.wait()
        #expect(counter.most == 2)
        #expect(make.drain() == 0)
    }

    /// Cancelling a link stops its running process (SIGTERM to its group) and the one waiting
    /// for a token; the token in use goes back to make.
    @Test func cancellingALinkStopsItsProcessesAndGivesTokensBack() throws {
        let dir = try TemporaryDirectory("js-cancel")
        let make = try PipeJobserver(jobs: 2)
        let runner = try makeRunner(dir)
        let session = LinkSession(id: "s", target: "/t", directory: "/", jobserver: try make.client(), detail: 0)
        let outcomes = Mutex<[String]>([])
        let start = Date()
        for i in 0..<3 {
            Thread.detachNewThread {
                let command = Command(executable: "/bin/sh", argv: ["sh", "-c", "echo $$ > \(dir.file("pid\(i)")); exec sleep 30"])
                do {
                    _ = try runner.run(command, for: session)
                    outcomes.withLock { $0.append("finished") }
                } catch {
                    outcomes.withLock { $0.append(error is LinkCancelled ? "cancelled" : "\(error)") }
                }
            }
        }
        // Two run (the link's token and make's one); the third waits for a token.
        for _ in 0..<1000 where (0..<3).filter({ exists(dir.file("pid\($0)")) }).count < 2 { usleep(10_000) }
        let pids = (0..<3).compactMap { pid(in: dir.file("pid\($0)")) }
        session.cancellation.cancel()
        for _ in 0..<500 where outcomes.withLock({ $0.count }) < 3 { usleep(10_000) }
        #expect(outcomes.withLock { $0 } == ["cancelled", "cancelled", "cancelled"])
        #expect(Date().timeIntervalSince(start) < 10)
        for pid in pids { #expect(kill(pid, 0) != 0, "process \(pid) still runs") }
        #expect(make.drain() == 1)
    }
}
