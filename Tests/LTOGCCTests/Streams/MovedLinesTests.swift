// Two real builds that differ only by moved lines (blank lines and a comment added at the
// top of one file) give equal abstracted digests for every partition, while the exact
// digests differ where the lines moved; a real code edit changes the abstracted digest of
// the partitions holding the code.
import Foundation
import LTOGCC
import LTOSystem
import SyntheticC
import LTOTestSupport
import Testing

/// Partitions of two builds, matched by the symbols whose bodies they hold.
private func matched(_ a: [Partition], _ b: [Partition]) throws -> [(key: String, a: Partition, b: Partition)] {
    let byKey = Dictionary(uniqueKeysWithValues: b.map { ($0.key, $0) })
    #expect(a.count == b.count)
    return try a.map { p in (p.key, p, try #require(byKey[p.key], "partition \(p.key) in both builds")) }
}

/// Compares the two builds partition by partition; returns how many partitions' exact digests differ.
private func expectOnlyLocationsMoved(_ a: [Partition], _ b: [Partition], _ what: String) throws -> Int {
    var exactDiffer = 0
    for (key, pa, pb) in try matched(a, b) {
        for policy in [LocationPolicy.abstractAll, .keepFiles] {
            let da = try pa.streams(policy).get(), db = try pb.streams(policy).get()
            #expect(da.digest == db.digest, "\(what): \(policy.name) digest of partition \(key.prefix(60)) changed")
        }
        if try pa.streams(.exact).get().digest != pb.streams(.exact).get().digest { exactDiffer += 1 }
    }
    FileHandle.standardError.write(Data("streams: \(what): \(a.count) partitions, exact digests differ in \(exactDiffer), abstracted in none\n".utf8))
    return exactDiffer
}

private let movedPrefix = "/* lines moved by a comment\n   and blank lines */\n\n\n"

@Suite struct MovedLinesTests {
    @Test func movedLinesInAGeneratedProgramKeepTheAbstractedDigests() throws {
        let dir = try TemporaryDirectory("streams")
        let program = Programs.synthetic(files: 8, seed: 11)
        try program.write(to: dir.file("src"))
        let before = try dir.partitions(sources: program.cFiles, in: dir.file("src"), flags: ["-O2"], output: "before")
        let moved = program.moduleFile(2)
        try dir.write("src/" + moved, movedPrefix + (program.sources[moved] ?? ""))
        let after = try dir.partitions(sources: program.cFiles, in: dir.file("src"), flags: ["-O2"], output: "before", recompiling: [moved])
        #expect(try expectOnlyLocationsMoved(before, after, "generated, \(moved) moved") > 0)
        // Keeping statement locations: only partitions with statements of the moved file change.
        var statementsMoved: [String] = []
        for (key, pa, pb) in try matched(before, after)
        where try pa.streams(.abstractDeclarations).get().digest != pb.streams(.abstractDeclarations).get().digest {
            statementsMoved.append(key)
            #expect(try pa.streams(.exact).get().digest != pb.streams(.exact).get().digest)
        }
        #expect(statementsMoved.contains { $0.contains("m003_run") }, "\(statementsMoved)")
        let summary = try #require(try after.first { $0.key.contains("m003_run") }?.streams(.abstractAll).get().abstractionSummary)
        #expect(summary.contains { $0.contains(moved) && $0.contains("statements") }, "\(summary)")
        // The positions of the abstracted locations tell which file's lines moved, and only that one.
        var movedFiles: Set<String> = []
        for (_, pa, pb) in try matched(before, after) {
            let a = try pa.streams(.abstractAll).get().positionsByFile, b = try pb.streams(.abstractAll).get().positionsByFile
            movedFiles.formUnion(Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.map { baseName($0) })
        }
        #expect(movedFiles == [moved], "\(movedFiles)")
        // The whole partition's canonical digest with its streams abstracted: equal; exact: not all.
        var exactDiffer = 0
        for (key, pa, pb) in try matched(before, after) {
            let a = try canonicalPartition(of: pa.bytes, streams: pa.streams(.abstractAll).get()).get()
            let b = try canonicalPartition(of: pb.bytes, streams: pb.streams(.abstractAll).get()).get()
            #expect(a.digest == b.digest, "partition \(key.prefix(60))")
            let ea = try canonicalPartition(of: pa.bytes, streams: pa.streams(.exact).get()).get()
            let eb = try canonicalPartition(of: pb.bytes, streams: pb.streams(.exact).get()).get()
            if ea.digest != eb.digest { exactDiffer += 1 }
            #expect(ea.digest != a.digest, "the policy is part of the digest")
        }
        #expect(exactDiffer > 0)
    }

    @Test func movedLinesInLuaKeepTheAbstractedDigests() throws {
        let dir = try TemporaryDirectory("streams")
        try Shell.check(["cp", "-r", LuaFixture.directory + "/src", dir.file("lua")], cwd: dir.path)
        let files = try LuaFixture.list("files.txt")
        let flags = ["-O2", "-std=c99", "-DLUA_USE_LINUX"]
        let before = try dir.partitions(sources: files, in: dir.file("lua"), flags: flags, linkFlags: ["-lm", "-ldl"], output: "before")
        let ltable = try String(contentsOfFile: dir.file("lua/ltable.c"), encoding: .utf8)
        try dir.write("lua/ltable.c", movedPrefix + ltable)
        let after = try dir.partitions(sources: files, in: dir.file("lua"), flags: flags, linkFlags: ["-lm", "-ldl"], output: "before",
                                       recompiling: ["ltable.c"])
        expectAllRead(before, "Lua -O2")
        #expect(try expectOnlyLocationsMoved(before, after, "Lua, ltable.c moved") > 1)
    }

    @Test func aCodeEditChangesTheAbstractedDigestOfItsPartition() throws {
        let dir = try TemporaryDirectory("streams")
        let program = Programs.synthetic(files: 8, seed: 11)
        try program.write(to: dir.file("src"))
        let before = try dir.partitions(sources: program.cFiles, in: dir.file("src"), flags: ["-O2"], output: "before")
        let (edited, changed) = SyntheticC.apply(.bodySizeChange, to: program, file: 3, generation: 2)
        try edited.write(changed, to: dir.file("src"))
        let after = try dir.partitions(sources: edited.cFiles, in: dir.file("src"), flags: ["-O2"], output: "before", recompiling: Set(changed))
        var changedPartitions = 0
        for (key, pa, pb) in try matched(before, after) where try pa.streams(.abstractAll).get().digest != pb.streams(.abstractAll).get().digest {
            changedPartitions += 1
            #expect(key.contains("m003"), "partition \(key.prefix(60)) changed, though the edit was in module 3")
        }
        #expect(changedPartitions >= 1, "the edited partition keeps its abstracted digest")
    }
}
