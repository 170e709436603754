import LTOGCC
import Testing

@Suite struct KeyScopeTests {
    /// What GCC 12.2's lto-wrapper puts on LTRANS lines for C links (docs/LTRANS-FACTS.md).
    let line = ["-xlto", "-c", "-fno-openmp", "-fno-openacc", "-fPIC", "-fcf-protection=none", "-mtune=generic", "-march=x86-64",
                "-O2", "-O2", "-flto-partition=1to1", "-dumpdir", "app.", "-dumpbase", "./app.ltrans0.ltrans", "-fltrans",
                "-o", "./app.ltrans0.ltrans.o", "./app.ltrans0.o"]

    func with(_ extra: [String]) -> [String] { Array(line.prefix(9)) + extra + Array(line.dropFirst(9)) }

    @Test func realLinesAtG0MayLeaveOutLocations() {
        #expect(LTRANSWhitelist.scope(of: line) == .withoutLocations)
        #expect(LTRANSWhitelist.scope(of: with(["-g", "-g0"])) == .withoutLocations)
        #expect(LTRANSWhitelist.scope(of: with(["-Wall", "-Wextra", "-fno-tree-vrp", "-shared-libgcc"])) == .withoutLocations)
        #expect(LTRANSWhitelist.scope(of: with(["-B", "/usr/local/libexec/ltod/", "-B/opt/gcc/"])) == .withoutLocations,
                "-B only chooses programs, which the compiler's identity keys")
    }

    @Test func debugInformationKeepsLocationsButNotNames() {
        #expect(LTRANSWhitelist.scope(of: with(["-g"])) == .withoutNames)
        #expect(LTRANSWhitelist.scope(of: with(["-g0", "-g3"])) == .withoutNames)
    }

    @Test(arguments: [["-O0"], ["-fsanitize=undefined"], ["-gsplit-dwarf"], ["-g", "-gdwarf-4"], ["-Wl,-z,now"], ["-Wa,-adhln"],
                      ["-fstack-usage"], ["--coverage"], ["-fprofile-use"], ["-mavx2"], ["-Oz"], ["-frecord-gcc-switches"],
                      ["-ffile-prefix-map=/a=."], ["-v"], ["-save-temps"], ["-fopt-info"], ["-fbranch-probabilities"]])
    func anythingElseKeepsTheKeyExact(extra: [String]) {
        #expect(LTRANSWhitelist.scope(of: with(extra)) == .exact, "\(extra)")
    }

    @Test func withoutAnOptimizationLevelTheKeyStaysExact() {
        #expect(LTRANSWhitelist.scope(of: line.filter { $0 != "-O2" }) == .exact)
        #expect(LTRANSWhitelist.scope(of: ["-fltrans"]) == .exact)
        #expect(LTRANSWhitelist.scope(of: ["-O2", "-o", "in.o"]) == .exact)
    }
}
