import Foundation
import SyntheticC
import Testing

extension EndToEnd {
    /// The generated multi-file program linked through ltod and with plain gcc: identical
    /// binaries cold, after edits and after reverting; only changed partitions rebuilt.
    @Suite struct GeneratedProgramTests {
        let spec = ProgramSpec(files: 24, functionsPerFile: 8, seed: 7)

        /// The scratch directory must outlive the test: callers keep the first element.
        func setUp(_ name: String) throws -> (Scratch, Daemon, GeneratedProgram, LinkCheck) {
            let scratch = try Scratch(name)
            let daemon = try Daemon(in: scratch)
            let program = SyntheticC.generate(spec)
            let dir = try scratch.sub("src")
            try program.write(to: dir)
            let check = LinkCheck(directory: dir, objects: program.cFiles.map { String($0.dropLast(2)) + ".o" })
            return (scratch, daemon, program, check)
        }

        func write(_ program: GeneratedProgram, _ changed: [String], to check: LinkCheck) throws {
            for path in changed {
                try program.sources[path]!.write(toFile: check.directory + "/" + path, atomically: false, encoding: .utf8)
            }
            let headerChanged = changed.contains { $0.hasSuffix(".h") }
            try check.compile(headerChanged ? program.cFiles : changed.filter { $0.hasSuffix(".c") })
        }

        @Test func coldNoOpEditAndRevert() throws {
            let (scratch, daemon, program, check) = try setUp("edit")
            defer { withExtendedLifetime(scratch) {} }
            try check.compile(program.cFiles)

            let cold = try check.compareLinks(daemon)
            try check.runBoth()
            #expect(cold.total >= 20, "expected at least 20 partitions, got \(cold.total)")
            #expect(cold.rebuilt == cold.total)

            let noop = try check.compareLinks(daemon)
            #expect(noop.reused == noop.total && noop.total == cold.total, "no-op relink reused \(noop.reused) of \(noop.total)")

            let (edited, changed) = SyntheticC.apply(.stringLiteral, to: program, file: 5, generation: 1)
            try write(edited, changed, to: check)
            let edit = try check.compareLinks(daemon)
            try check.runBoth()
            #expect(edit.rebuilt >= 1 && edit.rebuilt <= 2, "a string-literal edit rebuilt \(edit.rebuilt) of \(edit.total)")

            let (reverted, back) = SyntheticC.apply(.stringLiteral, to: program, file: 5, generation: 0)
            try write(reverted, back, to: check)
            let revert = try check.compareLinks(daemon)
            #expect(revert.rebuilt == 0, "reverting rebuilt \(revert.rebuilt) partitions")

            let stats = try daemon.stats()
            let ltrans = stats["ltrans"] as? [String: Any] ?? [:]
            #expect((ltrans["reused"] as? Int ?? 0) == noop.reused + edit.reused + revert.reused)
            #expect((ltrans["rebuilt"] as? Int ?? 0) == cold.rebuilt + edit.rebuilt)
            let inputs = stats["inputs"] as? [String: Any] ?? [:]
            #expect((inputs["reused"] as? Int ?? 0) >= program.cFiles.count, "unchanged objects must not be re-read")
        }

        @Test(arguments: Edit.allCases)
        func everyEditKindMatchesPlainGCC(_ kind: Edit) throws {
            let (scratch, daemon, program, check) = try setUp("kind-\(kind)")
            defer { withExtendedLifetime(scratch) {} }
            try check.compile(program.cFiles)
            try check.compareLinks(daemon)
            let (edited, changed) = SyntheticC.apply(kind, to: program, file: 2, generation: 1)
            try write(edited, changed, to: check)
            let objects = edited.cFiles.map { String($0.dropLast(2)) + ".o" }
            var after = check
            after.objects = objects
            try after.compareLinks(daemon)
            try after.runBoth()
        }
    }
}
