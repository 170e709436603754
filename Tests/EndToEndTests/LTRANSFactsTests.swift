// The facts that decide what an LTRANS cache key may leave out, each checked against the real
// GCC (gcc/lto1/as): LTRANS runs twice on partitions that differ in one respect only, and the
// LTRANS objects (and the linked programs) are compared byte for byte. docs/LTRANS-FACTS.md
// explains each fact with the GCC source that backs it.
import Foundation
import LTOTestSupport
import SyntheticC
import Testing

/// A C program of four files and a header: `alpha` (a.c) is called from b.c, `small_a` (a.c) is
/// inlined into b.c's `beta` across files, `mix` (shared.h) is a `static inline` inlined into
/// every file, `gamma_` (c.c) calls `beta` and has a static helper and a local array.
let factsProgram = FactsProject(files: [
    "shared.h": """
        #ifndef SHARED_H
        #define SHARED_H
        static inline int mix(int x) {
            int y = x * 2654435761u;
            return y ^ (y >> 13);
        }
        int alpha(int x);
        int small_a(int x);
        int beta(int x);
        int gamma_(int x);
        extern int table[16];
        #endif

        """,
    "a.c": """
        #include "shared.h"
        int table[16] = {1, 2, 3, 5, 8, 13, 21, 34};
        static int counter;
        int __attribute__((noinline)) alpha(int x) {
            int acc = 0;
            for (int i = 0; i < x; i++)
                acc += mix(i) + table[i & 15];
            counter += acc;
            return acc;
        }
        int small_a(int x) {
            return x * 3 + counter;
        }

        """,
    "b.c": """
        #include "shared.h"
        int __attribute__((noinline)) beta(int x) {
            int local = alpha(x);
            local += small_a(local);
            return mix(local) - x;
        }

        """,
    "c.c": """
        #include "shared.h"
        static int __attribute__((noinline)) helper(int *p, int n) {
            int s = 0;
            for (int i = 0; i < n; i++) s += p[i] * mix(i);
            return s;
        }
        int __attribute__((noinline)) gamma_(int x) {
            int buf[8];
            for (int i = 0; i < 8; i++) buf[i] = beta(x + i);
            return helper(buf, 8);
        }

        """,
    "main.c": """
        #include <stdio.h>
        #include "shared.h"
        int main(int argc, char **argv) {
            (void)argv;
            printf("%d\\n", gamma_(argc + 3));
            return 0;
        }

        """,
])

/// Edits that move locations only, by name.
let locationOnlyEdits: [(String, FactsProject)] = [
    ("lines of a.c", factsProgram.shifted("a.c")),
    ("columns of a.c", factsProgram.indented("a.c")),
    ("lines of shared.h", factsProgram.shifted("shared.h")),
    ("lines inside b.c", factsProgram.shifted("b.c")),
    ("a.c renamed", factsProgram.renamed("a.c", to: "a_renamed.c")),  // link order kept
]

extension EndToEnd {
    @Suite struct LTRANSFactsTests {
        // MARK: (a) output, dump and input names

        /// LTRANS output does not depend on `-o`, `-dumpdir`, `-dumpbase` or the partition's file
        /// name and directory; the output name reaches the LTRANS command only through `-dumpdir`,
        /// `-dumpbase` and the temporary file names, and the partitions not at all.
        @Test(arguments: ["-g0", "-g"])
        func namesDoNotReachLTRANSOutput(_ debug: String) throws {
            let s = try TemporaryDirectory("facts-names")
            let app = try factsProgram.build(in: s.path + "/p", compile: ["-O2", debug], output: "app", keep: s.path + "/app")
            let app2 = try factsProgram.build(in: s.path + "/p", compile: ["-O2", debug], output: "app2", keep: s.path + "/app2")
            #expect(app.partitions.count == 4)
            #expect(Set(app.partitions.keys) == Set(app2.partitions.keys))
            #expect(sameBytes(app.program, app2.program))
            for (key, one) in app.partitions {
                let two = try #require(app2.partitions[key])
                // WPA wrote the same partition (random section suffix and output list aside).
                #expect(try normalizedPartitionBytes(one.input) == normalizedPartitionBytes(two.input), "\(key)")
                #expect(sameBytes(one.output, two.output), "\(key)")
                // The LTRANS commands differ only in the dump names, the output and the input.
                #expect(one.ltransArguments.contains("app.") && two.ltransArguments.contains("app2."), "-dumpdir OUTPUT.")
                #expect(withoutNames(one.ltransArguments) == withoutNames(two.ltransArguments), "\(key)")

                // Rerun by hand with other names for everything: the same object.
                let dir = s.path + "/rerun-" + String(key.prefix(10))
                let plain = try app.rerun(one, input: "in/p.o", output: "out/p.o", dumpdir: "app.", dumpbase: "./app.ltrans0.ltrans", in: dir)
                let renamed = try app.rerun(one, input: dir + "/x/y/zz-partition-7.o", output: "elsewhere/other.o",
                                            dumpdir: "d/other-name.", dumpbase: "d/other-name.ltrans9.ltrans", in: dir)
                #expect(sameBytes(plain, renamed), "\(key): names changed LTRANS output")
            }
        }

        /// Where names do reach LTRANS: -gsplit-dwarf names the `.dwo` after the dump base and
        /// records that name in the object; --coverage on the link line makes LTRANS write a
        /// `DUMPBASE.gcno` side file (the object itself does not change).
        @Test func namesReachLTRANSUnderSplitDwarfAndCoverage() throws {
            let s = try TemporaryDirectory("facts-names-split")
            for flags in [["-O2", "-g", "-gsplit-dwarf"], ["-O2", "--coverage"]] {
                let link = try factsProgram.build(in: s.path + "/p", compile: flags, keep: s.path + "/k")
                let part = try link.partition(defining: "beta")
                let dir = s.path + "/rerun"
                let one = try link.rerun(part, input: "p.o", output: "one.o", dumpdir: "a.", dumpbase: "a.ltrans1.ltrans", in: dir, extra: flags)
                let two = try link.rerun(part, input: "p.o", output: "two.o", dumpdir: "b.", dumpbase: "b.ltrans1.ltrans", in: dir, extra: flags)
                if flags.contains("-gsplit-dwarf") {
                    #expect(!sameBytes(one, two))
                    #expect(try sideFiles(in: dir, suffix: ".dwo").contains { $0.contains("b.ltrans1.ltrans") })
                } else {
                    #expect(sameBytes(one, two))
                    #expect(try sideFiles(in: dir, suffix: ".gcno").contains { $0.contains("b.ltrans1.ltrans") })
                }
            }
        }

        private func sideFiles(in dir: String, suffix: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(suffix) }
        }

        /// LTRANS driver arguments without the input (last) and the values of -o, -dumpdir, -dumpbase.
        private func withoutNames(_ args: [String]) -> [String] {
            var out: [String] = []
            var i = 0
            while i < args.count - 1 {
                if ["-o", "-dumpdir", "-dumpbase"].contains(args[i]) { i += 2; continue }
                out.append(args[i])
                i += 1
            }
            return out
        }

        // MARK: (b) working directory

        /// The working directory reaches LTRANS output only through debug info (DW_AT_comp_dir and the
        /// directory table of .debug_line); a second checkout at another path gives other partitions
        /// (WPA streams its directory) but the same objects at -g0, and at -g with -ffile-prefix-map.
        @Test func workingDirectoryReachesOnlyDebugInfo() throws {
            let s = try TemporaryDirectory("facts-cwd")
            for debug in ["-g0", "-g"] {
                let link = try factsProgram.build(in: s.path + "/p", compile: ["-O2", debug], keep: s.path + "/k" + debug)
                let part = try link.partition(defining: "beta")
                let here = try link.rerun(part, input: s.path + "/k\(debug)/in.o", output: "here.o", dumpdir: "app.",
                                          dumpbase: "app.ltrans1.ltrans", in: s.path + "/p")
                let there = try link.rerun(part, input: s.path + "/k\(debug)/in.o", output: "there.o", dumpdir: "app.",
                                           dumpbase: "app.ltrans1.ltrans", in: s.path + "/somewhere/else")
                if debug == "-g0" {
                    #expect(sameBytes(here, there))
                } else {
                    #expect(!sameBytes(here, there))
                    let sections = try differingSections(here, there)
                    #expect(!sections.isEmpty && sections.allSatisfy { $0.hasPrefix(".debug_") || $0.hasPrefix(".rela.debug_") },
                            "\(sections)")
                }
            }

            // Two checkouts: /…/one/proj and /…/two/deeper/proj, each built in its own directory.
            for flags in [["-O2"], ["-O2", "-g"], ["-O2", "-g", "-ffile-prefix-map=ROOT=."]] {
                let one = s.path + "/one/proj", two = s.path + "/two/deeper/proj"
                let build = { (root: String, keep: String) in
                    try factsProgram.build(in: root, compile: flags.map { $0.replacingOccurrences(of: "ROOT", with: root) }, keep: keep)
                }
                let a = try build(one, s.path + "/keep1"), b = try build(two, s.path + "/keep2")
                let mapped = flags.count == 3
                for (key, p) in a.partitions {
                    let q = try #require(b.partitions[key])
                    #expect(try normalizedPartitionBytes(p.input) != normalizedPartitionBytes(q.input), "WPA records its directory")
                    #expect(sameBytes(p.output, q.output) == (flags == ["-O2"] || mapped), "\(flags) \(key)")
                }
                #expect(sameBytes(a.program, b.program) == (flags == ["-O2"] || mapped), "\(flags)")
            }
        }

        // MARK: (c) locations at -g0

        /// Lines, columns and file names, in declarations and in function bodies (own, inlined
        /// across files, inlined from a header), do not reach LTRANS output at -O2 -g0, although
        /// the partitions that hold them change.
        @Test func locationsDoNotReachOutputAtG0() throws {
            let s = try TemporaryDirectory("facts-g0")
            let base = try factsProgram.build(in: s.path + "/p", compile: ["-O2"], keep: s.path + "/base")
            for (name, edited) in locationOnlyEdits {
                let link = try edited.build(in: s.path + "/p", compile: ["-O2"], keep: s.path + "/edit")
                var changedPartitions = 0
                for (key, p) in base.partitions {
                    let q = try #require(link.partitions[key], "\(name): \(key)")
                    if try normalizedPartitionBytes(p.input) != normalizedPartitionBytes(q.input) { changedPartitions += 1 }
                    #expect(sameBytes(p.output, q.output), "\(name): \(key)")
                }
                #expect(changedPartitions >= 1, "\(name): no partition changed")
                #expect(sameBytes(base.program, link.program), "\(name)")
            }
            // Compiled with -g, linked with -g0: the LTRANS line says `-g ... -g0` and no location
            // reaches the objects.
            let g = try factsProgram.build(in: s.path + "/p", compile: ["-O2", "-g"], link: ["-O2", "-g0"], keep: s.path + "/g")
            let gMoved = try factsProgram.everyLocationMoved().build(in: s.path + "/p", compile: ["-O2", "-g"], link: ["-O2", "-g0"],
                                                                     keep: s.path + "/gMoved")
            for (key, p) in g.partitions {
                let debugArgs = p.ltransArguments.filter { $0.hasPrefix("-g") }
                #expect(debugArgs.contains("-g") && debugArgs.last == "-g0", "\(debugArgs)")
                #expect(sameBytes(p.output, try #require(gMoved.partitions[key]).output), "\(key)")
            }
        }

        // MARK: (c) locations at -g

        /// At -g, a partition's LTRANS output changes when the statements of code it holds move
        /// (its own functions, functions inlined from other files, header inlines), and when the
        /// early debug info of a file whose declarations it references changes: it names that
        /// file's DWARF unit by a symbol `FILE.HASH` whose hash covers the unit. Nothing else moves.
        @Test func locationsInDebugInfo() throws {
            let s = try TemporaryDirectory("facts-g")
            let base = try factsProgram.build(in: s.path + "/p", compile: ["-O2", "-g"], keep: s.path + "/base")
            func changed(_ edited: FactsProject) throws -> (outputs: Set<String>, link: FactsLink) {
                let link = try edited.build(in: s.path + "/p", compile: ["-O2", "-g"], keep: s.path + "/edit")
                var result: Set<String> = []
                for name in ["alpha", "beta", "gamma_", "main"] {
                    let p = try base.partition(defining: name), q = try link.partition(defining: name)
                    if !sameBytes(p.output, q.output) { result.insert(name) }
                }
                return (result, link)
            }
            // a.c: alpha's own code and small_a inlined into beta.
            #expect(try changed(factsProgram.shifted("a.c")).outputs == ["alpha", "beta"])
            #expect(try changed(factsProgram.indented("a.c")).outputs == ["alpha", "beta"])
            // shared.h: mix is inlined everywhere except main, and main.c's early debug unit
            // holds the declaration of gamma_ from shared.h.
            #expect(try changed(factsProgram.shifted("shared.h")).outputs == ["alpha", "beta", "gamma_", "main"])
            // b.c: beta's own code; gamma_ only calls beta, and its object changes only in the
            // name of the symbol that refers to b.c's early debug unit.
            let (outputs, link) = try changed(factsProgram.shifted("b.c"))
            #expect(outputs == ["beta", "gamma_"])
            let before = try symbolLines(base.partition(defining: "gamma_").output)
            let after = try symbolLines(link.partition(defining: "gamma_").output)
            let differing = Set(before).symmetricDifference(after)
            #expect(differing.count == 2 && differing.allSatisfy { $0.contains(" U b.c.") }, "\(differing)")
            #expect(try differingSections(base.partition(defining: "gamma_").output, link.partition(defining: "gamma_").output) == [".strtab"])

            // Objects compiled without -g, linked with -g: LTRANS builds every DIE itself, with
            // DW_AT_decl_line for the partition's own functions, parameters and locals. Moving b.c
            // changes gamma_'s partition (beta's declaration) but not its object.
            let plain = try factsProgram.build(in: s.path + "/p", compile: ["-O2"], link: ["-O2", "-g"], keep: s.path + "/plain")
            let plainMoved = try factsProgram.shifted("b.c").build(in: s.path + "/p", compile: ["-O2"], link: ["-O2", "-g"], keep: s.path + "/plainMoved")
            let g1 = try plain.partition(defining: "gamma_"), g2 = try plainMoved.partition(defining: "gamma_")
            #expect(try normalizedPartitionBytes(g1.input) != normalizedPartitionBytes(g2.input))
            #expect(sameBytes(g1.output, g2.output))
            #expect(!sameBytes(try plain.partition(defining: "beta").output, try plainMoved.partition(defining: "beta").output))
            let info = try Shell.check(["objdump", "--dwarf=info", g1.output], cwd: "/").stdout
            #expect(info.contains("DW_AT_decl_line"))
        }

        // MARK: where location-independence stops

        /// Not optimizing (`optimize == 0`, per function: the compile-time level travels with each
        /// function) makes code depend on whether statement locations are equal: cfgrtl emits nops
        /// and cfgcleanup keeps forwarder blocks for distinct goto locations. The same statements
        /// written through a macro (one location) and written out (several) differ at -O0.
        @Test func optimizeZeroCodeDependsOnLocations() throws {
            let s = try TemporaryDirectory("facts-o0")
            let macro = """
                #define STEP(x) if (x > 3) goto out; else x++;
                __attribute__((noinline)) int f(int x) {
                    STEP(x) STEP(x) STEP(x)
                out:
                    return x;
                }

                """
            let written = """
                __attribute__((noinline)) int f(int x) {
                    if (x > 3)
                      goto out;
                    else
                      x++;
                    if (x > 3)
                      goto out;
                    else
                      x++;
                    if (x > 3)
                      goto out;
                    else
                      x++;
                out:
                    return x;
                }

                """
            let main = "int f(int);\nint main(int c, char **v) { (void)v; return f(c); }\n"
            let cases: [(compile: [String], link: [String], attribute: Bool, same: Bool)] = [
                (["-O0"], ["-O0"], false, false),
                (["-O0"], ["-O2"], false, false),  // the function keeps its compile-time level
                (["-O2"], ["-O2"], true, false),   // __attribute__((optimize("O0")))
                (["-Og"], ["-Og"], false, true),
                (["-O1"], ["-O1"], false, true),
                (["-O2"], ["-O2"], false, true),
            ]
            for c in cases {
                let attr = c.attribute ? "__attribute__((optimize(\"O0\"))) " : ""
                let one = FactsProject(files: ["m.c": macro.replacingOccurrences(of: "__attribute__((noinline)) int f", with: attr + "__attribute__((noinline)) int f"), "main.c": main])
                let two = FactsProject(files: ["m.c": written.replacingOccurrences(of: "__attribute__((noinline)) int f", with: attr + "__attribute__((noinline)) int f"), "main.c": main])
                let a = try one.build(in: s.path + "/p", compile: c.compile, link: c.link, keep: s.path + "/one")
                let b = try two.build(in: s.path + "/p", compile: c.compile, link: c.link, keep: s.path + "/two")
                let p = try a.partition(defining: "f"), q = try b.partition(defining: "f")
                #expect(try normalizedPartitionBytes(p.input) != normalizedPartitionBytes(q.input))
                #expect(sameBytes(p.output, q.output) == c.same, "compile \(c.compile) link \(c.link) attribute \(c.attribute)")
            }
        }

        /// Options under which location-only edits change LTRANS objects even at -g0: the
        /// sanitizers, whose data records file, line and column of statements and declarations,
        /// computed in LTRANS. Compile-time -fsanitize=undefined instruments without any
        /// -fsanitize on the LTRANS command line: the partition itself carries the checks.
        @Test(arguments: [
            (["-O2", "-fsanitize=address"], nil as [String]?),
            (["-O2", "-fsanitize=undefined"], nil),
            (["-O2", "-fsanitize=undefined"], ["-O2", "-Wl,--no-as-needed", "-lubsan"]),
        ])
        func locationsReachOutputUnder(_ compile: [String], _ link: [String]?) throws {
            let s = try TemporaryDirectory("facts-instr")
            let base = try factsProgram.build(in: s.path + "/p", compile: compile, link: link, keep: s.path + "/base")
            let moved = try factsProgram.everyLocationMoved().build(in: s.path + "/p", compile: compile, link: link, keep: s.path + "/moved")
            let changed = base.partitions.filter { key, p in !sameBytes(p.output, moved.partitions[key]?.output ?? "") }
            #expect(!changed.isEmpty, "\(compile) \(link ?? [])")
            if link != nil {
                // Nothing on the LTRANS command line says "sanitize".
                #expect(base.partitions.values.allSatisfy { !$0.ltransArguments.contains { $0.contains("sanitize") } })
            }
        }

        /// gcov instrumentation runs at compile time: its per-function checksum covers the
        /// function's declaration line and file, and lands in the IR as a constant (data the key
        /// keeps), while lines inside a body do not reach the objects. (Without -frandom-seed every
        /// compile also stamps the objects with the time of day.)
        @Test func profilingDataComesFromCompileTime() throws {
            let s = try TemporaryDirectory("facts-gcov")
            let flags = ["-O2", "--coverage", "-frandom-seed=1"]
            let base = try factsProgram.build(in: s.path + "/p", compile: flags, keep: s.path + "/base")
            func changedOutputs(_ edited: FactsProject) throws -> [String] {
                let link = try edited.build(in: s.path + "/p", compile: flags, keep: s.path + "/edit")
                return try ["alpha", "beta", "gamma_", "main"].filter {
                    !sameBytes(try base.partition(defining: $0).output, try link.partition(defining: $0).output)
                }
            }
            #expect(try changedOutputs(factsProgram.shifted("a.c")) == ["alpha"])
            #expect(try changedOutputs(factsProgram.blankLines(in: "b.c", after: 3)) == [])  // inside beta's body
        }

        /// The option families proposed for the whitelist: with every line and column of every
        /// file moved, each LTRANS object and the program stay byte-identical.
        @Test(arguments: [
            ["-O2"], ["-O3"], ["-Os"], ["-O1"], ["-Og"], ["-Ofast"],
            ["-O2", "-march=x86-64-v3", "-mtune=native", "-fno-omit-frame-pointer", "-ffunction-sections", "-fdata-sections"],
            ["-O2", "-fno-pie", "-no-pie"], ["-O2", "-fPIC"], ["-O2", "-fstack-protector-strong", "-fcf-protection=full"],
            ["-O", "-fpic", "-fcf-protection=branch"], ["-O2", "-fPIE", "-pie", "-fcf-protection=return", "-static-libgcc"],
            ["-O2", "-fpie"],
            ["-O2", "-fno-inline", "-fno-strict-aliasing", "-fwrapv", "-fno-common"], ["-O2", "-g0"],
            ["-O2", "-Wall", "-Wextra"], ["-O2", "-pg"], ["-O2", "-finstrument-functions"], ["-O2", "-fstack-usage"],
            ["-O2", "-fno-semantic-interposition", "-fvisibility=hidden"],
        ])
        func whitelistedOptionsAreLocationIndependent(_ flags: [String]) throws {
            let s = try TemporaryDirectory("facts-white")
            let base = try factsProgram.build(in: s.path + "/p", compile: flags, keep: s.path + "/base")
            let moved = try factsProgram.everyLocationMoved().renamed("c.c", to: "c_other.c")
                .build(in: s.path + "/p", compile: flags, keep: s.path + "/moved")
            #expect(base.partitions.count >= 2)
            for (key, p) in base.partitions {
                let q = try #require(moved.partitions[key], "\(flags): \(key)")
                #expect(try normalizedPartitionBytes(p.input) != normalizedPartitionBytes(q.input), "\(flags): \(key) did not change")
                #expect(sameBytes(p.output, q.output), "\(flags): \(key)")
            }
            #expect(sameBytes(base.program, moved.program), "\(flags)")
        }

        // MARK: what is data, not location

        /// `__LINE__`, `__FILE__` and `__builtin_LINE()` are constants in the IR: moving the line
        /// changes the object at -g0. A key that drops locations must keep them (it does: they are
        /// not location fields of the streams).
        @Test func lineMacrosAreData() throws {
            let s = try TemporaryDirectory("facts-line")
            let program = FactsProject(files: [
                "a.c": "int __attribute__((noinline)) where(void) { return __LINE__ * 7 + __builtin_LINE(); }\n",
                "b.c": "const char *__attribute__((noinline)) file(void) { return __FILE__; }\n",
                "main.c": "int where(void); const char *file(void);\nint main(void) { return where() + file()[0]; }\n",
            ])
            let base = try program.build(in: s.path + "/p", compile: ["-O2"], keep: s.path + "/base")
            let moved = try program.shifted("a.c").renamed("b.c", to: "bb.c").build(in: s.path + "/p", compile: ["-O2"], keep: s.path + "/moved")
            #expect(!sameBytes(try base.partition(defining: "where").output, try moved.partition(defining: "where").output))
            #expect(!sameBytes(try base.partition(defining: "file").output, try moved.partition(defining: "file").output))
            #expect(sameBytes(try base.partition(defining: "main").output, try moved.partition(defining: "main").output))
        }

        /// Warnings LTRANS prints carry locations (and quote the source line read from disk):
        /// the objects are identical, what LTRANS prints is not.
        @Test func diagnosticsCarryLocations() throws {
            let s = try TemporaryDirectory("facts-diag")
            let program = FactsProject(files: [
                "a.c": "#include <string.h>\nvoid copy(char *d, const char *s) { strcpy(d, s); }\n",
                "b.c": """
                    void copy(char *d, const char *s);
                    char out[4];
                    int __attribute__((noinline)) use(void) { copy(out, "hello world"); return out[1]; }
                    int main(void) { return use(); }

                    """,
            ])
            let flags = ["-O2", "-D_FORTIFY_SOURCE=2"]
            let base = try program.build(in: s.path + "/p", compile: flags, keep: s.path + "/base")
            let moved = try program.shifted("a.c").build(in: s.path + "/p", compile: flags, keep: s.path + "/moved")
            #expect(base.stderr.contains("a.c:2:") && moved.stderr.contains("a.c:5:"), "\(base.stderr)\n\(moved.stderr)")
            #expect(sameBytes(try base.partition(defining: "use").output, try moved.partition(defining: "use").output))
        }

        // MARK: C++ and generated programs

        /// g++ -flto: templates, inline member functions and a class in a header, an anonymous
        /// namespace, a static initializer; every location moved: same objects at -O2, and LTRANS
        /// reruns with other names give the same object; at -g the objects change.
        @Test func cplusplusLocations() throws {
            let s = try TemporaryDirectory("facts-cxx")
            var program = FactsProject(files: [
                "shape.h": """
                    #pragma once
                    #include <vector>
                    template <typename T> struct Acc {
                        std::vector<T> items;
                        void add(T x) { items.push_back(x * 3 + 1); }
                        T sum() const { T s{}; for (auto v : items) s += v; return s; }
                    };
                    struct Shape { virtual ~Shape() = default; virtual int area() const = 0; };
                    Shape *make(int kind, int size);
                    int total(int n);

                    """,
                "shapes.cc": """
                    #include "shape.h"
                    namespace {
                    struct Square : Shape { int s; explicit Square(int s) : s(s) {} int area() const override { return s * s; } };
                    struct Rect : Shape { int w, h; Rect(int w, int h) : w(w), h(h) {} int area() const override { return w * h; } };
                    }
                    Shape *make(int kind, int size) { if (kind) return new Square(size); return new Rect(size, size + 1); }

                    """,
                "total.cc": """
                    #include "shape.h"
                    #include <memory>
                    static Acc<long> global_acc;
                    static int seed = [] { return 17; }();
                    int total(int n) {
                        Acc<int> acc;
                        for (int i = 0; i < n; i++) { std::unique_ptr<Shape> p(make(i & 1, i + seed)); acc.add(p->area()); }
                        global_acc.add(acc.sum());
                        return acc.sum() + (int)global_acc.sum();
                    }

                    """,
                "main.cc": """
                    #include <cstdio>
                    #include "shape.h"
                    int main(int argc, char **) { std::printf("%d\\n", total(argc + 10)); return 0; }

                    """,
            ])
            program.driver = "g++"
            for debug in ["-g0", "-g"] {
                let base = try program.build(in: s.path + "/p", compile: ["-O2", debug], keep: s.path + "/base")
                let moved = try program.everyLocationMoved().build(in: s.path + "/p", compile: ["-O2", debug], keep: s.path + "/moved")
                #expect(base.partitions.count >= 3)
                var same = 0
                for (key, p) in base.partitions {
                    let q = try #require(moved.partitions[key], "\(key)")
                    #expect(try normalizedPartitionBytes(p.input) != normalizedPartitionBytes(q.input), "\(key)")
                    if sameBytes(p.output, q.output) { same += 1 }
                    if debug == "-g0" {
                        let r = try base.rerun(p, input: "zz/in.o", output: "zz/out.o", dumpdir: "other.", dumpbase: "other.ltrans5.ltrans",
                                               in: s.path + "/p")
                        #expect(sameBytes(r, p.output), "\(key)")
                    }
                }
                #expect(debug == "-g0" ? same == base.partitions.count : same < base.partitions.count, "\(debug): \(same) of \(base.partitions.count) unchanged")
                #expect(sameBytes(base.program, moved.program) == (debug == "-g0"))
            }
        }

        /// A generated program (SyntheticC), every line of every file moved: every partition
        /// changes, no LTRANS object does.
        @Test func generatedProgramLocations() throws {
            let s = try TemporaryDirectory("facts-synth")
            let generated = SyntheticC.generate(ProgramSpec(files: 6, functionsPerFile: 4, seed: 3))
            let program = FactsProject(files: generated.sources)
            let base = try program.build(in: s.path + "/p", compile: ["-O2"], keep: s.path + "/base")
            let moved = try program.everyLocationMoved().build(in: s.path + "/p", compile: ["-O2"], keep: s.path + "/moved")
            #expect(base.partitions.count >= 6)
            var changed = 0
            for (key, p) in base.partitions {
                let q = try #require(moved.partitions[key], "\(key)")
                if try normalizedPartitionBytes(p.input) != normalizedPartitionBytes(q.input) { changed += 1 }
                #expect(sameBytes(p.output, q.output), "\(key)")
            }
            #expect(changed == base.partitions.count)
            #expect(sameBytes(base.program, moved.program))
        }
    }
}
