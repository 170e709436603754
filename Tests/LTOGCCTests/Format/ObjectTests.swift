// Tests of ELF parsing, LTO section names, symbols and per-section digests on objects
// produced by the real gcc.
import Foundation
import LTOTestSupport
import LTOHash
import LTOGCC
import LTOObject
import Testing

let symbolSource = """
    extern int helper(int);
    extern int maybe(int) __attribute__((weak));
    int counter_def = 3;
    int zeroed_def = 0;
    int shared_common;
    int __attribute__((weak)) weak_def(int x) { return x + 1; }
    __attribute__((visibility("hidden"))) int hidden_fn(int x) { return x - 1; }
    __attribute__((visibility("protected"))) int protected_fn(int x) { return x * 5; }
    int entry(int x) { return helper(x) + weak_def(x) + hidden_fn(x) + protected_fn(x) + (maybe ? maybe(x) : 0)
        + counter_def + zeroed_def + shared_common; }
    """

func twoFunctions(_ bodyOfSecond: String) -> String {
    """
    int __attribute__((noinline)) first(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * x; return s; }
    int __attribute__((noinline)) second(int x) { \(bodyOfSecond) }
    int third(int x) { return first(x) + second(x); }
    """
}

@Suite struct ObjectTests {
    @Test func parsesSlimLTOObject() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.compile("sym", symbolSource, flags: ["-fcommon"])
        let summary = try readObject(path: path)
        let elf = summary.elf
        #expect(elf.fileType == ELFFile.relocatableType)
        #expect(elf.machine == ELFFile.x86_64Machine)
        #expect(elf.sections.first?.type == .null)
        #expect(elf.sections.last?.name == ".shstrtab")
        #expect(elf.sections.enumerated().allSatisfy { $0.offset == $0.element.index })
        #expect(summary.isLTO)
        #expect(summary.isSlim == true)
        #expect(summary.ltoVersion == LTOVersion(major: 12, minor: 0))
        #expect(summary.compression == .zstd)
        #expect(summary.ltoIDs.count == 1)
        #expect(summary.size == (try dir.bytes("sym.o")).count)
        #expect(summary.identity?.size == summary.size)
        #expect(summary.contentDigest == Digest.of(try dir.bytes("sym.o")))

        let id = String(summary.ltoIDs[0], radix: 16)
        for kind in ["decls", "symtab", "ext_symtab", "lto", "symbol_nodes", "refs"] {
            #expect(elf.section(named: ".gnu.lto_.\(kind).\(id)") != nil, "missing \(kind)")
        }
        #expect(elf.section(named: ".gnu.lto_.opts") != nil)
        let bodies = Set(summary.sectionDigests.compactMap { d -> String? in
            if case .functionBody(let s, _) = d.kind { return s } else { return nil }
        })
        #expect(bodies.isSuperset(of: ["weak_def", "hidden_fn", "protected_fn", "entry"]))
        // Every .gnu.lto_ section has a digest, none has the ID in its normalized name.
        let ltoSections = elf.sections.filter { $0.name.hasPrefix(".gnu.lto_") }
        #expect(summary.sectionDigests.count == ltoSections.count)
        #expect(summary.sectionDigests.allSatisfy { !$0.normalizedName.contains(id) })
    }

    @Test func decodesSymbolTable() throws {
        let dir = try TemporaryDirectory()
        let summary = try readObject(path: try dir.compile("sym", symbolSource, flags: ["-fcommon"]))
        let byName = Dictionary(summary.symbols.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func check(_ name: String, _ kind: LTOSymbol.Kind, _ type: LTOSymbol.SymbolType,
                   _ visibility: LTOSymbol.Visibility = .default, sourceLocation: SourceLocation = #_sourceLocation) {
            guard let s = byName[name] else {
                Issue.record("symbol \(name) missing from \(summary.symbols.map(\.name))", sourceLocation: sourceLocation)
                return
            }
            #expect(s.kind == kind, "\(name)", sourceLocation: sourceLocation)
            #expect(s.type == type, "\(name)", sourceLocation: sourceLocation)
            #expect(s.visibility == visibility, "\(name)", sourceLocation: sourceLocation)
            #expect(s.comdat == nil, sourceLocation: sourceLocation)
        }
        check("entry", .definition, .function)
        check("weak_def", .weakDefinition, .function)
        check("hidden_fn", .definition, .function, .hidden)
        check("protected_fn", .definition, .function, .protected)
        check("counter_def", .definition, .variable)
        check("zeroed_def", .definition, .variable)
        check("shared_common", .common, .variable)
        check("helper", .undefined, .function)
        check("maybe", .weakUndefined, .function)
        #expect(byName["shared_common"]?.size == 4)
        #expect(byName["zeroed_def"]?.sectionKind == 1, "zero-initialized variable goes to BSS")
        #expect(byName["counter_def"]?.sectionKind == 0)
        #expect(summary.symbols.count == 9)
        // Definitions come first, as produce_symtab writes them.
        let firstUndefined = summary.symbols.firstIndex { !$0.isDefined }!
        #expect(summary.symbols[firstUndefined...].allSatisfy { !$0.isDefined })
    }

    @Test func decodesComdatGroupsOfCPlusPlus() throws {
        let dir = try TemporaryDirectory()
        try dir.write("cx.cc", "inline int twice(int x) { return 2 * x; }\nint use(int y) { return twice(y) + 1; }\n")
        try dir.run("g++", ["-O0", "-flto", "-c", "cx.cc", "-o", "cx.o"])
        let summary = try readObject(path: dir.file("cx.o"))
        let twice = try #require(summary.symbols.first { $0.name == "_Z5twicei" })
        #expect(twice.kind == .weakDefinition)
        #expect(twice.comdat == "_Z5twicei")
        #expect(summary.symbols.first { $0.name == "_Z3usei" }?.comdat == nil)
        #expect(functionBodyDigests(summary)["_Z5twicei"] != nil)
    }

    @Test func fatObjectAndDebugSections() throws {
        let dir = try TemporaryDirectory()
        let fat = try readObject(path: try dir.compile("fat", symbolSource, flags: ["-ffat-lto-objects"]))
        #expect(fat.isSlim == false)
        #expect(fat.elf.sections.contains { $0.name.hasPrefix(".text") && $0.size > 0 })
        #expect(fat.symbols.contains { $0.name == "entry" })

        let debug = try readObject(path: try dir.compile("dbg", symbolSource, flags: ["-g"]))
        let debugSections = debug.elf.sections.filter { $0.name.hasPrefix(".gnu.debuglto_") }
        #expect(debugSections.contains { $0.name == ".gnu.debuglto_.debug_info" })
        // GCC 12 gives debuglto sections no ID suffix, and they are in the digests.
        #expect(debugSections.allSatisfy { LTOSectionName($0.name) == nil })
        #expect(debug.sectionDigests.contains { $0.normalizedName == ".gnu.debuglto_.debug_info" && $0.kind == nil })
        #expect(debug.isSlim == true)
    }

    @Test func sectionDigestsIgnoreRandomIDAndPinpointEditedFunction() throws {
        let dir = try TemporaryDirectory()
        let source = twoFunctions("return x * 7 + 1;")
        let one = try readObject(path: try dir.compile("m", source, output: "m1.o"))
        let two = try readObject(path: try dir.compile("m", source, output: "m2.o"))
        #expect(try dir.bytes("m1.o") != (try dir.bytes("m2.o")), "gcc should pick a new random ID")
        #expect(one.ltoIDs != two.ltoIDs)
        #expect(one.sectionDigests == two.sectionDigests)

        let edited = try readObject(path: try dir.compile("m", twoFunctions("return x * 9 + 1;"), output: "m3.o"))
        let before = functionBodyDigests(one)
        let after = functionBodyDigests(edited)
        #expect(Set(before.keys) == ["first", "second", "third"])
        #expect(Set(before.keys) == Set(after.keys))
        let changed = before.keys.filter { before[$0] != after[$0] }
        #expect(changed == ["second"])
    }

    @Test func parsesHandMadeExtendedCounts() throws {
        var writer = ELFWriter(sections: [ELFWriter.Section(name: ".gnu.lto_.decls.ab", contents: [1, 2, 3])])
        writer.useExtendedCount = true
        writer.useExtendedNameIndex = true
        let elf = try ELFFile(bytes: writer.build(), path: "x.o")
        #expect(elf.sections.map(\.name) == ["", ".gnu.lto_.decls.ab", ".shstrtab"])
        #expect(elf.sectionNameTableIndex == 2)
        #expect(elf.sections[1].size == 3)

        // The partition digest handles the extended fields, and only the ID is ignored.
        func file(_ suffixes: [String]) -> [UInt8] {
            var w = ELFWriter(sections: [
                ELFWriter.Section(name: ".gnu.lto_.decls.\(suffixes[0])", contents: [1, 2, 3]),
                ELFWriter.Section(name: ".gnu.lto_f.1.\(suffixes[1])", contents: [4, 5]),
                ELFWriter.Section(name: ".gnu.lto_.opts", contents: [6]),
            ])
            w.useExtendedCount = true
            w.useExtendedNameIndex = true
            return w.build()
        }
        let base = try #require(normalizedPartitionDigest(of: file(["ab", "ab"])))
        #expect(normalizedPartitionDigest(of: file(["cd", "cd"])) == base)
        #expect(normalizedPartitionDigest(of: file(["ab", "cd"])) == nil)
        #expect(normalizedPartitionDigest(of: file(["0ab", "0ab"])) == nil, "leading zeros are not what GCC writes")
        #expect(normalizedPartitionDigest(of: file(["AB", "AB"])) == nil)
    }
}

@Suite struct LTOSectionNameTests {
    @Test func parsesNamedAndBodySections() throws {
        let decls = try #require(LTOSectionName(".gnu.lto_.decls.4b642512c96696b5"))
        #expect(decls.kind == .named("decls"))
        #expect(decls.id == 0x4b64_2512_c966_96b5)
        #expect(decls.normalized == ".gnu.lto_.decls")

        let body = try #require(LTOSectionName(".gnu.lto_main.16.4b642512c96696b5"))
        #expect(body.kind == .functionBody(symbol: "main", order: 16))
        #expect(body.normalized == ".gnu.lto_main.16")

        let dotted = try #require(LTOSectionName(".gnu.lto_foo.part.0.3.a"))
        #expect(dotted.kind == .functionBody(symbol: "foo.part.0", order: 3))
        #expect(dotted.id == 0xa)

        let opts = try #require(LTOSectionName(".gnu.lto_.opts"))
        #expect(opts.kind == .named("opts"))
        #expect(opts.id == nil)

        #expect(LTOSectionName(".gnu.lto_.ipa_modref.0")?.id == 0)
    }

    @Test(arguments: [
        ".text", ".gnu.lto_", ".gnu.lto_.decls", ".gnu.lto_.decls.4B64", ".gnu.lto_.decls.04b6",
        ".gnu.lto_.decls.12345678901234567", ".gnu.lto_main.x1.ab", ".gnu.lto_.ab", ".gnu.lto_..ab",
        ".gnu.debuglto_.debug_info", ".gnu.lto_main.ab", ".gnu.lto_.decls.",
    ])
    func rejectsOtherNames(_ name: String) {
        #expect(LTOSectionName(name) == nil)
    }
}
