// Tests that compile, link and run generated programs with gcc -flto.
// Serialized: each test already keeps both cores busy (make -j2, -flto=2).

import Foundation
import LTOTestSupport
import Testing

@testable import SyntheticC

func objects(_ sources: [String]) -> [String] { sources.map { String($0.dropLast(2)) + ".o" } }

@Suite(.serialized, .enabled(if: gccAvailable, "needs gcc"))
struct GCCTests {
    @Test func defaultProgramBuildsRunsAndMakesOnePartitionPerFile() throws {
        let program = SyntheticC.generate(ProgramSpec())
        let dir = try TemporaryDirectory("default")
        try program.write(to: dir.path)
        try writeMakefile(in: dir.path, cflags: "-O2 -Wall -Werror -flto")
        try compileObjects(in: dir.path)
        try run(["gcc", "-O2", "-flto=2", "-flto-partition=1to1", "-save-temps", "-o", "app"]
                + objects(program.cFiles), in: dir.path)
        let partitions = try partitionFiles(in: dir.path, output: "app")
        #expect(partitions.count >= 20)
        #expect(partitions.count == program.cFiles.count)  // 1to1: one per object
        let result = try run(["./app"], in: dir.path)
        #expect(result.status == 0)
        #expect(result.stdout == program.expectedOutput)
    }

    @Test func everyEditCompilesLinksAndRuns() throws {
        let base = SyntheticC.generate(ProgramSpec(files: 6, functionsPerFile: 4, seed: 3))
        let dir = try TemporaryDirectory("edits")
        try base.write(to: dir.path)
        try writeMakefile(in: dir.path, cflags: "-O2 -Wall -Werror -flto")
        try compileObjects(in: dir.path)
        let link = ["gcc", "-O2", "-flto=2", "-flto-partition=1to1", "-o", "app"] + objects(base.cFiles)

        func buildAndRun(_ program: GeneratedProgram, _ what: String) throws {
            try compileObjects(in: dir.path)
            try run(link, in: dir.path)
            let result = try run(["./app"], in: dir.path)
            #expect(result.stdout == program.expectedOutput, "\(what)")
        }
        func modificationDate(_ name: String) throws -> Date {
            try FileManager.default.attributesOfItem(atPath: dir.file(name))[.modificationDate] as! Date
        }

        for edit in Edit.allCases {
            let index = edit == .addRemoveSymbolsEarly ? 0 : 2
            var current = base
            for generation in 1...2 {
                let (edited, changed) = SyntheticC.apply(edit, to: current, file: index, generation: generation)
                let objectBefore = try modificationDate("m003.o")
                try edited.write(changed, to: dir.path)
                try buildAndRun(edited, "\(edit) generation \(generation)")
                if edit == .touch {
                    #expect(edited.sources == current.sources)
                    #expect(try modificationDate("m003.o") > objectBefore, "touch makes make rebuild")
                }
                current = edited
            }
            // Revert by writing generation 0: the directory holds the base program again.
            let (reverted, changed) = SyntheticC.apply(edit, to: current, file: index, generation: 0)
            #expect(reverted == base)
            try reverted.write(changed, to: dir.path)
            for (path, text) in base.sources {
                #expect(try String(contentsOfFile: dir.file(path), encoding: .utf8) == text, "\(edit): \(path)")
            }
        }
        try buildAndRun(base, "base after reverting every edit")
    }

    @Test func sharedLibraryVariantLinksAndRuns() throws {
        let program = SyntheticC.generate(ProgramSpec())
        let dir = try TemporaryDirectory("shared")
        try program.write(to: dir.path)
        try writeMakefile(in: dir.path, cflags: "-O3 -fPIC -Wall -Werror -flto")
        try compileObjects(in: dir.path)
        try run(["gcc", "-O3", "-fPIC", "-shared", "-flto=2", "-o", "libsyn.so"] + objects(program.moduleFiles),
                in: dir.path)
        try run(["gcc", "-O2", "-flto", "-o", "app", "main.o", "-L.", "-lsyn"], in: dir.path)
        let exported = try run(["nm", "-D", "--defined-only", "libsyn.so"], in: dir.path).stdout
        for symbol in ["m001_run", "m001_hook", "m001_small", "m001_moveable", "m024_run", "m001_stats"] {
            #expect(exported.contains(" \(symbol)\n"), "\(symbol) exported")
        }
        let result = try run(["./app"], in: dir.path, environment: ["LD_LIBRARY_PATH": dir.path])
        #expect(result.stdout == program.expectedOutput)
    }
}
