// What reading a partition's streams costs (ELF directory, zstd, every stream, digests):
// it must stay far below an LTRANS compile. Measured as the CPU time of the reading thread,
// which other work on a shared machine disturbs far less than the wall clock. Release
// figures: `LTOD_STREAMS_PERF=lua swift test -c release --filter StreamPerformanceTests`.
import Foundation
import Glibc
import LTOGCC
import LTOTestSupport
import Testing

@Suite(.serialized) struct StreamPerformanceTests {
    /// Median and maximum time to read each partition once, over `rounds` rounds.
    private func measure(_ partitions: [Partition], rounds: Int) throws -> (median: Duration, max: Duration, bytes: Int, largest: Int) {
        var times: [Duration] = []
        for _ in 0..<rounds {
            for partition in partitions {
                let start = threadCPUTime()
                _ = try partition.streams(.abstractAll).get()
                times.append(threadCPUTime() - start)
            }
        }
        times.sort()
        return (times[times.count / 2], times.last ?? .zero, partitions.reduce(0) { $0 + $1.bytes.count } / max(partitions.count, 1),
                partitions.map(\.bytes.count).max() ?? 0)
    }

    private func threadCPUTime() -> Duration {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return .seconds(t.tv_sec) + .nanoseconds(t.tv_nsec)
    }

    private func report(_ what: String, _ m: (median: Duration, max: Duration, bytes: Int, largest: Int)) {
        let ms = { (d: Duration) in String(format: "%.2f ms", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1e3) }
        FileHandle.standardError.write(Data("streams: reading \(what) (mean file \(m.bytes) bytes, largest \(m.largest)): median \(ms(m.median)), max \(ms(m.max)) of CPU time per partition\n".utf8))
    }

    @Test func readingAGeneratedPartitionIsCheap() throws {
        let dir = try TemporaryDirectory("streams")
        let program = Programs.synthetic(files: 12, seed: 7)
        try program.write(to: dir.file("src"))
        let partitions = try dir.partitions(sources: program.cFiles, in: dir.file("src"), flags: ["-O2"], output: "out")
        let m = try measure(partitions, rounds: 5)
        report("generated partitions", m)
        #expect(m.median < .milliseconds(100), "even a debug build reads a small partition in well under 100 ms")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["LTOD_STREAMS_PERF"] == "lua"))
    func readingALuaPartition() throws {
        let dir = try TemporaryDirectory("streams")
        let partitions = try dir.partitions(sources: try LuaFixture.list("files.txt").map { "src/" + $0 }, in: LuaFixture.directory,
                                            flags: ["-O2", "-std=c99", "-DLUA_USE_LINUX"], linkFlags: ["-lm", "-ldl"], output: "lua")
        report("Lua -O2 partitions", try measure(partitions, rounds: 20))
    }
}
