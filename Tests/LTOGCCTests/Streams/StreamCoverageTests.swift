// Every tree and GIMPLE stream of every partition is read without fallback: Lua 5.4,
// generated C programs and a small C++ program, under several option sets.
import Foundation
import LTOGCC
import LTOTestSupport
import Testing

/// Reads every partition under `policy` and records an issue for each fallback; returns
/// (partitions, sections) read.
@discardableResult
func expectAllRead(_ partitions: [Partition], _ what: String, policy: LocationPolicy = .abstractAll,
                   sourceLocation: SourceLocation = #_sourceLocation) -> (partitions: Int, sections: Int) {
    var sections = 0
    for (i, partition) in partitions.enumerated() {
        switch partition.streams(policy) {
        case .success(let streams): sections += streams.sections.count
        case .failure(let error): Issue.record("\(what), partition \(i): \(error)", sourceLocation: sourceLocation)
        }
    }
    FileHandle.standardError.write(Data("streams: \(what): \(partitions.count) partitions, \(sections) sections read\n".utf8))
    return (partitions.count, sections)
}

/// The option sets of the coverage tests.
let coverageFlags: [[String]] = [["-O2"], ["-O2", "-g"], ["-O3"], ["-Os"], ["-O2", "-fPIC"]]

@Suite struct StreamCoverageTests {
    /// Lua at -O2 -g always (MovedLinesTests reads every partition of two -O2 builds); at every
    /// option set with LTOD_STREAMS_ALL_LUA=1 (a Lua build takes 15 to 30 s on two cores).
    static var luaFlags: [[String]] {
        ProcessInfo.processInfo.environment["LTOD_STREAMS_ALL_LUA"] == "1" ? coverageFlags : [["-O2", "-g"]]
    }

    @Test(arguments: luaFlags)
    func everyLuaPartitionIsRead(flags: [String]) throws {
        let dir = try TemporaryDirectory("streams")
        let partitions = try dir.partitions(sources: try LuaFixture.list("files.txt").map { "src/" + $0 }, in: LuaFixture.directory,
                                            flags: flags + ["-std=c99", "-DLUA_USE_LINUX"], linkFlags: ["-lm", "-ldl"], output: "lua")
        let read = expectAllRead(partitions, "Lua \(flags.joined(separator: " "))")
        #expect(read.partitions >= 30 && read.sections > 500)
    }

    @Test(arguments: coverageFlags)
    func everyGeneratedPartitionIsRead(flags: [String]) throws {
        let dir = try TemporaryDirectory("streams")
        let program = Programs.synthetic(files: 12, seed: 7)
        try program.write(to: dir.file("src"))
        let partitions = try dir.partitions(sources: program.cFiles, in: dir.file("src"), flags: flags, output: "out")
        let read = expectAllRead(partitions, "generated \(flags.joined(separator: " "))")
        #expect(read.partitions == 13)
    }

    @Test(arguments: coverageFlags)
    func everyCxxPartitionIsRead(flags: [String]) throws {
        let dir = try TemporaryDirectory("streams")
        for (name, text) in Programs.cxx { try dir.write("src/" + name, text) }
        let partitions = try dir.partitions(sources: ["shapes.cc", "main.cc"], in: dir.file("src"), flags: flags, compiler: "g++", output: "out")
        let read = expectAllRead(partitions, "C++ \(flags.joined(separator: " "))")
        #expect(read.partitions >= 2)
    }
}
