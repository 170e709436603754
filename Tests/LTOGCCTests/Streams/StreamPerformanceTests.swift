// What reading a partition's streams costs (ELF directory, zstd, every stream, digests):
// it must stay far below an LTRANS compile. The figures for the report come from a release
// build: `LTOD_STREAMS_PERF=lua swift test -c release --filter StreamPerformanceTests`.
import Foundation
import LTOGCC
import Testing

@Suite struct StreamPerformanceTests {
    /// Median and maximum time to read each partition once, over `rounds` rounds.
    private func measure(_ partitions: [Partition], rounds: Int) throws -> (median: Duration, max: Duration, bytes: Int) {
        var times: [Duration] = []
        let clock = ContinuousClock()
        for _ in 0..<rounds {
            for partition in partitions {
                let start = clock.now
                _ = try partition.streams(.abstractAll).get()
                times.append(clock.now - start)
            }
        }
        times.sort()
        return (times[times.count / 2], times.last ?? .zero, partitions.reduce(0) { $0 + $1.bytes.count } / max(partitions.count, 1))
    }

    private func report(_ what: String, _ m: (median: Duration, max: Duration, bytes: Int)) {
        let ms = { (d: Duration) in String(format: "%.2f ms", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1e3) }
        FileHandle.standardError.write(Data("streams: reading \(what) (mean file \(m.bytes) bytes): median \(ms(m.median)), max \(ms(m.max)) per partition\n".utf8))
    }

    @Test func readingAGeneratedPartitionIsCheap() throws {
        let dir = try StreamScratch()
        let program = Programs.synthetic(files: 12, seed: 7)
        try program.write(to: dir.path("src"))
        let partitions = try dir.partitions(sources: program.cFiles, in: dir.path("src"), flags: ["-O2"], output: "out")
        let m = try measure(partitions, rounds: 5)
        report("generated partitions", m)
        #expect(m.median < .milliseconds(100), "even a debug build reads a small partition in well under 100 ms")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["LTOD_STREAMS_PERF"] == "lua"))
    func readingALuaPartition() throws {
        let dir = try StreamScratch()
        let partitions = try dir.partitions(sources: try LuaFixture.files(), in: LuaFixture.directory,
                                            flags: ["-O2", "-std=c99", "-DLUA_USE_LINUX"], linkFlags: ["-lm", "-ldl"], output: "lua")
        report("Lua -O2 partitions", try measure(partitions, rounds: 20))
    }
}
