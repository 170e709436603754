import Foundation
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// Memory bounded by use: a daemon serving many projects keeps the last link (and the
    /// inputs) of the `max_targets` linked most recently, and forgetting one changes no binary.
    @Suite struct MemoryBoundTests {
        @Test func manyProjectsKeepOnlyTheMostRecentInMemory() throws {
            let scratch = try TemporaryDirectory("memory")
            let daemon = try Daemon(in: scratch, extraEnv: ["LTOD_MAX_TARGETS": "8"])
            let template = try scratch.sub("template")
            let program = SyntheticC.generate(ProgramSpec(files: 1, functionsPerFile: 2, seed: 5))
            try program.write(to: template)
            try LinkCheck(directory: template, objects: program.objects).compile(program.cFiles)
            // 30 projects: the same sources compiled once, copied into 30 directories (each
            // its own inputs and target), linked through ltod two at a time.
            let projects = 30
            var makefile = "all:"
            for p in 0..<projects {
                let dir = try scratch.sub("p\(p)")
                for object in program.objects { try FileManager.default.copyItem(atPath: template + "/" + object, toPath: dir + "/" + object) }
                makefile += " p\(p)/app"
            }
            makefile += "\n"
            for p in 0..<projects {
                makefile += "p\(p)/app:\n\tcd p\(p) && gcc -B \(try Products.libexec()) -O2 -flto -o app \(program.objects.joined(separator: " "))\n"
            }
            try makefile.write(toFile: scratch.file("Makefile"), atomically: false, encoding: .utf8)
            try Shell.check(["make", "-j2"], cwd: scratch.path, env: daemon.env)

            // The daemon keeps 8 targets in memory; the link history in the cache keeps all 30.
            #expect(try daemon.stat("memory.targets") == 8)
            #expect(try daemon.stat("memory.inputs") == Double(8 * program.objects.count))

            // Project 0 was forgotten in memory (its cache entries and history were not):
            // relinked, it matches plain gcc and reuses every partition.
            let first = LinkCheck(directory: scratch.path + "/p0", objects: program.objects)
            let relink = try first.compareLinks(daemon)
            #expect(relink.reused == relink.total && relink.json["first_link"] as? Bool == true)
            try first.runBoth()
            #expect(try daemon.stat("memory.targets") == 8)
        }
    }
}
