// Pure tests of the generator and its edits (no compiler involved).

import Foundation
import LTOTestSupport
import Testing

@testable import SyntheticC

/// Paths whose contents differ between two programs (or exist in only one).
func differingPaths(_ a: GeneratedProgram, _ b: GeneratedProgram) -> [String] {
    Set(a.sources.keys).union(b.sources.keys).filter { a.sources[$0] != b.sources[$0] }.sorted()
}

@Suite struct GeneratorTests {
    let base = SyntheticC.generate(ProgramSpec())

    @Test func sameSpecGivesIdenticalSources() {
        let again = SyntheticC.generate(ProgramSpec())
        #expect(again.sources == base.sources)
        #expect(again.expectedOutput == base.expectedOutput)
        let spec = ProgramSpec(files: 7, functionsPerFile: 3, seed: 99)
        #expect(SyntheticC.generate(spec) == SyntheticC.generate(spec))
    }

    @Test func differentSeedGivesDifferentSources() {
        let other = SyntheticC.generate(ProgramSpec(seed: 2))
        #expect(other.cFiles == base.cFiles)
        for path in base.cFiles { #expect(other.sources[path] != base.sources[path], "\(path)") }
        #expect(other.sources["common.h"] != base.sources["common.h"])
        #expect(other.expectedOutput != base.expectedOutput)
    }

    @Test func programShape() throws {
        #expect(base.moduleFiles.count == 24)
        #expect(base.cFiles.count == 25)
        #expect(base.cFiles == base.sources.keys.filter { $0.hasSuffix(".c") }.sorted())
        #expect(base.cFiles.first == "m001.c")
        #expect(base.cFiles.contains("main.c"))
        #expect(base.headerFiles == ["common.h"])
        #expect(Set(base.librarySources.keys) == Set(base.moduleFiles + ["common.h"]))
        for path in base.cFiles {
            #expect(base.sources[path]!.contains("#include \"common.h\"\n"), "\(path)")
        }
        let header = try #require(base.sources["common.h"])
        #expect(header.contains("struct syn_stats {"))
        #expect(header.contains("#define SYN_MIX(x)"))
        #expect(header.contains("#define SYN_SCALE "))
        #expect(header.contains("static inline unsigned syn_mix(unsigned x)"))
        let m = try #require(base.sources["m001.c"])
        #expect(m.contains("static unsigned m001_state = "))          // static global
        #expect(m.contains("struct syn_stats m001_stats = "))         // external global
        #expect(m.contains("const unsigned m001_table[16] = "))       // external const table
        #expect(m.contains("static const unsigned m001_local[8] = ")) // static const table
        #expect(m.contains("static unsigned m001_helper(unsigned x)"))
        #expect(m.contains("acc += m002_small(acc);"))                // cross-file call
        #expect(m.contains("printf("))
        let main = try #require(base.sources["main.c"])
        #expect(main.contains("static syn_fn *const syn_hooks[SYN_MODULES]"))
        for file in base.moduleFiles {
            let name = String(file.dropLast(2))
            #expect(main.contains("sum = \(name)_run(sum);"))
        }
        // One line per module from _run, one per module from main, a checksum.
        let lines = base.expectedOutput.split(separator: "\n")
        #expect(lines.count == 24 * 2 + 1)
        #expect(lines.last?.hasPrefix("checksum ") == true)
    }

    @Test func sizesAndNames() {
        let one = SyntheticC.generate(ProgramSpec(files: 1, functionsPerFile: 1, seed: 5))
        #expect(one.cFiles == ["m001.c", "main.c"])
        let big = SyntheticC.generate(ProgramSpec(files: 1000, functionsPerFile: 1, seed: 5))
        #expect(big.moduleFiles.first == "m0001.c")
        #expect(big.moduleFiles.last == "m1000.c")
        #expect(big.moduleFiles == big.moduleFiles.sorted())
        #expect(one.moduleFile(-1) == "m001.c")
        #expect(big.moduleFile(1003) == "m0004.c")
    }

    @Test(arguments: Edit.allCases)
    func generationZeroIsTheUneditedProgram(_ edit: Edit) {
        for index in [0, 5, 23] {
            let (same, changed) = SyntheticC.apply(edit, to: base, file: index, generation: 0)
            #expect(same == base)
            #expect(!changed.isEmpty)
        }
    }

    @Test(arguments: Edit.allCases)
    func editsAreDeterministicAndChangedListIsComplete(_ edit: Edit) {
        var current = base
        var previous: GeneratedProgram?
        for generation in 1...4 {
            let (a, changedA) = SyntheticC.apply(edit, to: current, file: 3, generation: generation)
            let (b, changedB) = SyntheticC.apply(edit, to: current, file: 3, generation: generation)
            #expect(a == b)
            #expect(changedA == changedB)
            #expect(changedA == changedA.sorted())
            // Every file that differs is listed; the incremental render equals a full one.
            #expect(Set(differingPaths(current, a)).isSubset(of: changedA))
            #expect(a.sources == a.model.render())
            #expect(a.expectedOutput == a.model.evaluate())
            if edit == .touch {
                #expect(a == base)
                #expect(changedA == ["m004.c"])
            } else {
                #expect(a != current, "generation \(generation)")
                // addRemoveSymbolsEarly alternates: even generations equal generation 0.
                if let previous, edit != .addRemoveSymbolsEarly { #expect(a != previous) }
            }
            previous = current
            current = a
        }
        // Generation 0 on the edited program reverts it.
        let (reverted, changed) = SyntheticC.apply(edit, to: current, file: 3, generation: 0)
        #expect(reverted == base)
        #expect(Set(differingPaths(current, reverted)).isSubset(of: changed))
    }

    @Test(arguments: Edit.allCases)
    func outputChangesExactlyWhenDocumented(_ edit: Edit) {
        let (edited, _) = SyntheticC.apply(edit, to: base, file: 2, generation: 1)
        switch edit {
        case .touch, .renameStatic, .moveFunction:
            #expect(edited.expectedOutput == base.expectedOutput)
        default:
            #expect(edited.expectedOutput != base.expectedOutput)
        }
    }

    @Test func stringLiteralChangesOneLiteral() throws {
        for generation in 1...3 {
            let (edited, changed) = SyntheticC.apply(.stringLiteral, to: base, file: 4, generation: generation)
            #expect(changed == ["m005.c"])
            #expect(differingPaths(base, edited) == ["m005.c"])
            let before = base.sources["m005.c"]!.split(separator: "\n", omittingEmptySubsequences: false)
            let after = edited.sources["m005.c"]!.split(separator: "\n", omittingEmptySubsequences: false)
            try #require(before.count == after.count)
            let diff = zip(before, after).filter { $0 != $1 }
            try #require(diff.count == 1)
            #expect(diff[0].0.contains("printf(\"%s: %s [%08x]\\n\""))
            let length = { (line: Substring) in line.count }
            if generation % 2 == 1 {
                #expect(length(diff[0].0) == length(diff[0].1))
            } else {
                #expect(length(diff[0].0) != length(diff[0].1))
            }
        }
    }

    @Test func bodySizeChangeGrowsTheFile() {
        var sizes = [base.sources["m002.c"]!.count]
        for generation in 1...3 {
            let (edited, _) = SyntheticC.apply(.bodySizeChange, to: base, file: 1, generation: generation)
            sizes.append(edited.sources["m002.c"]!.count)
        }
        #expect(sizes == sizes.sorted() && Set(sizes).count == sizes.count)
    }

    @Test func newStaticFunctionAddsAStaticFunction() {
        let (edited, _) = SyntheticC.apply(.newStaticFunction, to: base, file: 0, generation: 2)
        let text = edited.sources["m001.c"]!
        #expect(text.contains("static unsigned m001_added2(unsigned x)"))
        #expect(text.contains("acc = m001_added2(acc);"))
    }

    @Test func sharedHeaderChangesTheScale() {
        let (edited, changed) = SyntheticC.apply(.sharedHeader, to: base, file: 7, generation: 1)
        #expect(changed == ["common.h"])
        #expect(differingPaths(base, edited) == ["common.h"])
        let line = { (p: GeneratedProgram) in
            p.sources["common.h"]!.split(separator: "\n").first { $0.hasPrefix("#define SYN_SCALE ") }
        }
        #expect(line(base) != nil && line(edited) != nil && line(base) != line(edited))
    }

    @Test func addRemoveSymbolsEarlyAddsThenRemovesTwoFunctions() {
        let (added, _) = SyntheticC.apply(.addRemoveSymbolsEarly, to: base, file: 0, generation: 1)
        let text = added.sources["m001.c"]!
        #expect(text.contains("\nunsigned m001_early1_a(unsigned x)\n"))
        #expect(text.contains("\nunsigned m001_early1_b(unsigned x)\n"))
        let (removed, _) = SyntheticC.apply(.addRemoveSymbolsEarly, to: added, file: 0, generation: 2)
        #expect(removed == base)
        let (again, _) = SyntheticC.apply(.addRemoveSymbolsEarly, to: removed, file: 0, generation: 3)
        #expect(again.sources["m001.c"]!.contains("m001_early3_a"))
    }

    @Test func renameStaticRenamesTheHelper() {
        let (edited, _) = SyntheticC.apply(.renameStatic, to: base, file: 5, generation: 2)
        let text = edited.sources["m006.c"]!
        #expect(!text.contains("m006_helper("))
        #expect(text.contains("static unsigned m006_helper_r2(unsigned x)"))
        #expect(text.contains("acc = m006_helper_r2(acc);"))
    }

    @Test func moveFunctionMovesTheDefinition() {
        let definition = "\nunsigned m003_moveable(unsigned x)\n"
        #expect(base.sources["m003.c"]!.contains(definition))
        let (moved, changed) = SyntheticC.apply(.moveFunction, to: base, file: 2, generation: 1)
        #expect(changed == ["m003.c", "m004.c"])
        #expect(!moved.sources["m003.c"]!.contains(definition))
        #expect(moved.sources["m004.c"]!.contains(definition))
        #expect(moved.sources["common.h"] == base.sources["common.h"])
        let (further, changed2) = SyntheticC.apply(.moveFunction, to: moved, file: 2, generation: 3)
        #expect(changed2 == ["m004.c", "m006.c"])
        #expect(further.sources["m006.c"]!.contains(definition))
        #expect(further.sources["m003.c"] == moved.sources["m003.c"])
    }

    @Test func editsOfDifferentFilesCompose() {
        var p = base
        p = SyntheticC.apply(.bodySizeChange, to: p, file: 1, generation: 1).0
        p = SyntheticC.apply(.moveFunction, to: p, file: 1, generation: 1).0
        p = SyntheticC.apply(.stringLiteral, to: p, file: 2, generation: 1).0
        p = SyntheticC.apply(.sharedHeader, to: p, file: 0, generation: 3).0
        #expect(p.sources == p.model.render())
        for edit in [Edit.bodySizeChange, .moveFunction] { p = SyntheticC.apply(edit, to: p, file: 1, generation: 0).0 }
        p = SyntheticC.apply(.stringLiteral, to: p, file: 2, generation: 0).0
        p = SyntheticC.apply(.sharedHeader, to: p, file: 0, generation: 0).0
        #expect(p == base)
    }

    @Test func writeCreatesAllFiles() throws {
        let dir = try TemporaryDirectory("write")
        let target = dir.path + "/nested/prog"
        try base.write(to: target)
        let names = try FileManager.default.contentsOfDirectory(atPath: target).sorted()
        #expect(names == base.sources.keys.sorted())
        #expect(try String(contentsOfFile: target + "/m001.c", encoding: .utf8) == base.sources["m001.c"])
    }
}
