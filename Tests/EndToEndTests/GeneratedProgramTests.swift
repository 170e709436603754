import Foundation
import LTOTestSupport
import SyntheticC
import Testing

extension EndToEnd {
    /// The generated multi-file program linked through ltod and with plain gcc: identical
    /// binaries cold, after edits and after reverting; only changed partitions rebuilt.
    @Suite struct GeneratedProgramTests {
        let spec = ProgramSpec(files: 24, functionsPerFile: 8, seed: 7)

        @Test func coldNoOpEditAndRevert() throws {
            var f = try ProgramFixture("edit", spec: spec)
            let (daemon, program, check) = (f.daemon, f.program, f.check)
            try check.compile(program.cFiles)

            let cold = try check.compareLinks(daemon)
            try check.runBoth()
            #expect(cold.total >= 20, "expected at least 20 partitions, got \(cold.total)")
            #expect(cold.rebuilt == cold.total)

            let noop = try check.compareLinks(daemon)
            #expect(noop.reused == noop.total && noop.total == cold.total, "no-op relink reused \(noop.reused) of \(noop.total)")

            let (edited, changed) = SyntheticC.apply(.stringLiteral, to: program, file: 5, generation: 1)
            try f.apply(edited, changed: changed)
            let edit = try check.compareLinks(daemon)
            try check.runBoth()
            #expect(edit.rebuilt >= 1 && edit.rebuilt <= 2, "a string-literal edit rebuilt \(edit.rebuilt) of \(edit.total)")

            let (reverted, back) = SyntheticC.apply(.stringLiteral, to: program, file: 5, generation: 0)
            try f.apply(reverted, changed: back)
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
            var f = try ProgramFixture("kind-\(kind)", spec: spec)
            try f.check.compile(f.program.cFiles)
            try f.check.compareLinks(f.daemon)
            let (edited, changed) = SyntheticC.apply(kind, to: f.program, file: 2, generation: 1)
            try f.apply(edited, changed: changed)
            try f.check.compareLinks(f.daemon)
            try f.check.runBoth()
        }
    }
}
