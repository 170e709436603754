import Foundation
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// `ltoc explain`, `stats` formats and cache management, asserted on real links.
    @Suite struct ExplainAndManagementTests {
        @Test func explainNamesTheEditAndStatsAgree() throws {
            var f = try ProgramFixture("explain", spec: ProgramSpec(files: 20, functionsPerFile: 4, seed: 9))
            let (daemon, program, check, dir) = (f.daemon, f.program, f.check, f.check.directory)
            try check.compile(program.cFiles)
            let cold = try check.compareLinks(daemon)
            #expect(cold.json["first_link"] as? Bool == true)

            let (edited, changed) = SyntheticC.apply(.bodySizeChange, to: program, file: 7, generation: 1)
            let source = try #require(changed.first { $0.hasSuffix(".c") })
            try f.apply(edited, changed: changed)
            let after = try check.compareLinks(daemon)

            let object = dir + "/" + source.dropLast(2) + ".o"
            #expect(after.json["inputs_changed"] as? [String] == [object])
            let change = try #require((after.json["changes"] as? [[String: Any]])?.first)
            let functions = change["functions"] as? [String] ?? []
            let module = String(source.dropLast(2))
            #expect(!functions.isEmpty && functions.allSatisfy { $0.hasPrefix(module) }, "changed functions \(functions) should be \(module)'s")

            // Rebuilt = partitions whose key is new; every other key was in the previous link.
            let before = Set(cold.json["keys"] as? [String] ?? [])
            let now = after.json["keys"] as? [String] ?? []
            #expect(now.count == after.total)
            #expect(now.filter { !before.contains($0) }.count == after.rebuilt)
            let rebuilt = after.json["rebuilt"] as? [[String: Any]] ?? []
            #expect(rebuilt.contains { ($0["reached_by"] as? [String]) == [object] }, "a rebuilt partition must be traced to \(object)")

            let text = try daemon.ltoc("explain").stdout
            #expect(text.contains("changed \(object)") && text.contains(functions[0]), "\(text)")
            #expect(try daemon.ltoc("explain", "--list").stdout.contains(dir + "/app"))

            let prometheus = try daemon.ltoc("stats", "--format", "prometheus").stdout
            let reused = Int(try daemon.stat("ltrans.reused"))
            #expect(prometheus.contains("\nltod_ltrans_reused_total \(reused)\n"), "\(prometheus)")
            #expect(prometheus.contains("# TYPE ltod_cache_bytes gauge"))
            let table = try daemon.ltoc("stats").stdout
            #expect(table.contains("hit rate") && table.contains("time saved"), "\(table)")
        }

        @Test func gcAndClearShrinkTheCache() throws {
            let f = try ProgramFixture("gc", spec: ProgramSpec(files: 20, functionsPerFile: 6, seed: 4))
            let (daemon, check) = (f.daemon, f.check)
            try check.compile(f.program.cFiles)
            try check.compareLinks(daemon)
            let entries = try daemon.stat("cache.entries")
            let bytes = try daemon.stat("cache.bytes")
            #expect(entries >= 20 && bytes > 0)

            let bound = Int(bytes / 2)
            let gc = try daemon.ltoc("gc", "--max-size", "\(bound)").stdout
            #expect(gc.contains("removed"), "\(gc)")
            #expect(try daemon.stat("cache.bytes") <= Double(bound))
            #expect(try daemon.stat("cache.evictions") > 0 || gc.contains("removed"))

            // Evicted partitions are rebuilt, and the binary is still right.
            let relink = try check.compareLinks(daemon)
            #expect(relink.rebuilt > 0)

            try daemon.ltoc("gc", "--older-than", "0s")
            #expect(try daemon.stat("cache.entries") == 0)
            try check.compareLinks(daemon)
            try daemon.ltoc("clear")
            #expect(try daemon.stat("cache.entries") == 0)

            let bad = try Shell.run([Products.ltoc, "gc", "--max-size", "lots"], cwd: "/", env: daemon.env)
            #expect(bad.status != 0 && bad.stderr.contains("expected a size such as 500M or 5G"), "\(bad.stderr)")
        }
    }
}
