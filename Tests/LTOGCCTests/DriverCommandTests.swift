import LTOConfig
import LTOHash
import Testing
@testable import LTOGCC

/// Command lines as GCC 12.2's lto-wrapper wrote them in a real link (see DESIGN.md).
enum Observed {
    static let head = ["-xlto", "-c", "-fno-openmp", "-fno-openacc", "-fPIC", "-fcf-protection=none", "-mtune=generic",
                       "-march=x86-64", "-O2", "-O2", "-flto-partition=1to1", "-B", "/opt/ltod/libexec/ltod/",
                       "-dumpdir", "app.", "-dumpbase"]
    static let wpa = head + ["./app.wpa", "-fltrans-output-list=/tmp/ccIYyf1W.ltrans.out", "-fwpa",
                             "-fresolution=/tmp/ccLwWafm.res", "-flinker-output=pie", "a.o", "b.o", "c.o"]
    static func ltrans(_ i: Int, _ temp: String = "ccIYyf1W") -> [String] {
        head + ["./app.ltrans\(i).ltrans", "-fltrans", "-o", "/tmp/\(temp).ltrans\(i).ltrans.o", "/tmp/\(temp).ltrans\(i).o"]
    }
}

@Suite struct DriverCommandTests {
    @Test func classifiesWPA() throws {
        guard case .wpa(let w) = DriverCommand.classify(Observed.wpa) else { Issue.record("not WPA"); return }
        #expect(w.outputList == "/tmp/ccIYyf1W.ltrans.out")
        #expect(w.dumpPrefix == "./app.")
        #expect(w.ltransHead == Observed.head)
    }

    /// The partitions WPA writes beside its output list, for removing those of an interrupted link.
    @Test func knowsTheNamesOfThePartitionsWPAWrites() throws {
        guard case .wpa(let w) = DriverCommand.classify(Observed.wpa) else { Issue.record("not WPA"); return }
        for name in ["ccIYyf1W.ltrans0.o", "ccIYyf1W.ltrans17.o"] { #expect(w.writesPartition(named: name), "\(name)") }
        for name in ["ccIYyf1W.ltrans.out", "ccIYyf1W.ltrans0.ltrans.o", "ccIYyf1W.ltrans.o", "ccOTHER1.ltrans0.o", "ccIYyf1W.ltransx.o"] {
            #expect(!w.writesPartition(named: name), "\(name)")
        }
    }

    @Test func classifiesWPAWithJobs() {
        guard case .wpa(let serial) = DriverCommand.classify(Observed.wpa) else { Issue.record("not WPA"); return }
        #expect(serial.ltransRunsSerially)
        for jobs in ["-fwpa=jobserver", "-fwpa=2"] {
            guard case .wpa(let w) = DriverCommand.classify(Observed.wpa.map { $0 == "-fwpa" ? jobs : $0 }) else { Issue.record("not WPA"); return }
            #expect(!w.ltransRunsSerially)
        }
    }

    @Test func classifiesLTRANS() {
        guard case .ltrans(let l) = DriverCommand.classify(Observed.ltrans(3)) else { Issue.record("not LTRANS"); return }
        #expect(l.input == "/tmp/ccIYyf1W.ltrans3.o")
        #expect(l.output == "/tmp/ccIYyf1W.ltrans3.ltrans.o")
        #expect(l.dumpbase == "./app.ltrans3.ltrans")
    }

    @Test func otherCommandsAreOther() {
        #expect(DriverCommand.classify(["-xlto", "-c", "-o", "/tmp/x.lto.o", "a.o"]) == .other)
        #expect(DriverCommand.classify(["-v"]) == .other)
    }

    @Test func predictionMatchesWhatLTOWrapperRuns() throws {
        guard case .wpa(let w) = DriverCommand.classify(Observed.wpa) else { Issue.record("not WPA"); return }
        let predicted = try #require(w.predictedLTRANS(index: 2, input: "/tmp/ccIYyf1W.ltrans2.o"))
        #expect(predicted.args == Observed.ltrans(2))
    }

    @Test func keyArgumentsDropOnlyPerRunNames() throws {
        guard case .ltrans(let a) = DriverCommand.classify(Observed.ltrans(0, "ccAAAA")),
              case .ltrans(let b) = DriverCommand.classify(Observed.ltrans(5, "ccBBBB"))
        else { Issue.record("not LTRANS"); return }
        #expect(a.keyArguments(scope: .exact) == b.keyArguments(scope: .exact))
        #expect(a.keyArguments(scope: .exact).suffix(6) == ["-dumpbase", "<dumpbase>", "-fltrans", "-o", "<output>", "<input>"])
        let o3 = Observed.ltrans(0).map { $0 == "-O2" ? "-O3" : $0 }
        guard case .ltrans(let c) = DriverCommand.classify(o3) else { Issue.record("not LTRANS"); return }
        #expect(c.keyArguments(scope: .exact) != a.keyArguments(scope: .exact))
    }

    @Test func theDumpDirectoryIsLeftOutOnlyOutsideTheExactScope() throws {
        let args = ["-xlto", "-c", "-O2", "-B", "/opt/ltod/libexec/ltod/", "-dumpdir", "app.", "-dumpbase", "app.ltrans0.ltrans", "-fltrans", "-o", "a.o", "p.o"]
        let renamed = args.map { $0 == "app." ? "app2." : $0 }
        guard case .ltrans(let a) = DriverCommand.classify(args), case .ltrans(let b) = DriverCommand.classify(renamed)
        else { Issue.record("not LTRANS"); return }
        #expect(a.keyScope == .withoutLocations)
        #expect(a.keyArguments(scope: .exact) != b.keyArguments(scope: .exact))
        #expect(a.keyArguments(scope: .withoutNames) == b.keyArguments(scope: .withoutNames))
        #expect(a.keyArguments(scope: .withoutNames).contains("<dumpdir>"))
    }

    @Test func prefixDirectoriesAreKeyedByWhatTheyHoldNotWhereTheyAre() throws {
        let args = ["-xlto", "-c", "-B", "/usr/local/libexec/ltod/", "-B/opt/tools/", "-O2", "-fltrans", "-o", "/tmp/x.ltrans.o", "/tmp/x.o"]
        guard case .ltrans(let cmd) = DriverCommand.classify(args) else { Issue.record("not LTRANS"); return }
        #expect(cmd.keyArguments(scope: .exact) == ["-xlto", "-c", "-B", "<prefix>", "-B<prefix>", "-O2", "-fltrans", "-o", "<output>", "<input>"])
        #expect(DriverOptions.prefixes(cmd.args) == ["-B", "/usr/local/libexec/ltod/", "-B/opt/tools/"], "the probe still sees them")
    }

    @Test func sideOutputOptionsAreUncacheable() {
        for option in ["-save-temps", "-fdump-tree-all", "-fstack-usage", "-fprofile-use=/p", "-fplugin=x.so", "-flto-report",
                       "-fsave-optimization-record", "-gsplit-dwarf", "--coverage", "-ftest-coverage", "-Wa,-alh=list.txt",
                       "-Wa,--noexecstack,--MD,x.d", "-Wa,@opts"] {
            guard case .ltrans(let l) = DriverCommand.classify([option] + Observed.ltrans(0)) else { Issue.record("not LTRANS"); continue }
            #expect(l.uncacheableReason != nil, "\(option)")
        }
        guard case .ltrans(let plain) = DriverCommand.classify(Observed.ltrans(0)) else { return }
        #expect(plain.uncacheableReason == nil)
        guard case .ltrans(let hardened) = DriverCommand.classify(["-Wa,--noexecstack"] + Observed.ltrans(0)) else { return }
        #expect(hardened.uncacheableReason == nil)
        guard case .ltrans(let x) = DriverCommand.classify(["-Xassembler", "--noexecstack"] + Observed.ltrans(0)) else { return }
        #expect(x.uncacheableReason != nil)
    }
}

@Suite struct ResponseFileTests {
    @Test func splitsLikeLibiberty() {
        #expect(ResponseFile.split("-O2\n-o 'a b.o'  \"c\\\"d\" e\\ f\n") == ["-O2", "-o", "a b.o", "c\"d", "e f"])
        #expect(ResponseFile.split("''") == [""])
        #expect(ResponseFile.split("   ") == [])
        // Only ASCII white space separates; a no-break space or a combining mark stays inside.
        #expect(ResponseFile.split("a\u{00A0}b c\u{0301}d") == ["a\u{00A0}b", "c\u{0301}d"])
        #expect(ResponseFile.split("x\\\u{0301}y") == ["x\u{0301}y"])
    }

    @Test func expandsNestedFilesAndKeepsUnreadableOnes() {
        let files = ["/r1": "-c @/r2 x.o", "/r2": "-O2"]
        #expect(ResponseFile.expand(["@/r1", "@/missing", "y.o"]) { files[$0] } == ["-c", "-O2", "x.o", "@/missing", "y.o"])
    }

    @Test func selfReferenceTerminates() {
        let out = ResponseFile.expand(["@/loop"]) { _ in "@/loop" }
        #expect(out == ["@/loop"])
    }
}

@Suite struct OutputListTests {
    @Test func parsesPrioritiesAndPassThrough() {
        let text = "120\n/tmp/cc.ltrans0.o\n7\n*/tmp/done.o\n"
        #expect(LTRANSListEntry.parse(text) == [
            .init(priority: 120, path: "/tmp/cc.ltrans0.o", passThrough: false),
            .init(priority: 7, path: "/tmp/done.o", passThrough: true),
        ])
    }

    @Test func refusesOddShapes() {
        #expect(LTRANSListEntry.parse("x\n/tmp/a.o\n") == nil)
        #expect(LTRANSListEntry.parse("5\n") == nil)
        #expect(LTRANSListEntry.parse("") == [])
    }
}

@Suite struct CollectOptionsTests {
    @Test func optionsForModes() {
        #expect(CollectOptions.partitionOption(for: .oneToOne, in: "'-O2'") == "-flto-partition=1to1")
        #expect(CollectOptions.partitionOption(for: .keep, in: "'-O2'") == nil)
        #expect(CollectOptions.partitionOption(for: PartitionMode(rawValue: "balanced")!, in: "") == "-flto-partition=balanced")
    }

    @Test func singlePartitionRequestsAreHonoured() {
        #expect(CollectOptions.partitionOption(for: .oneToOne, in: "'-O2' '-flto-partition=one' '-o' 'app'") == nil)
        #expect(CollectOptions.partitionOption(for: .oneToOne, in: "'-flto-partition=none'") == nil)
        #expect(CollectOptions.partitionOption(for: .oneToOne, in: "'-flto-partition=balanced'") == "-flto-partition=1to1")
    }

    @Test func appendsToCollectOptionsWithGCCQuoting() {
        #expect(CollectOptions.appending("-flto-partition=1to1", to: "'-O2' '-o' 'app'") == "'-O2' '-o' 'app' '-flto-partition=1to1'")
        #expect(CollectOptions.appending("a'b", to: "") == "'a'\\''b'")
    }

    @Test func theLinkTargetIsTheOutputMadeAbsolute() {
        #expect(CollectOptions.linkTarget("'-O2' '-o' 'app'", directory: "/w") == "/w/app")
        #expect(CollectOptions.linkTarget("'-o' '/x/y'", directory: "/w") == "/x/y")
        #expect(CollectOptions.linkTarget(nil, directory: "/w") == "/w/a.out")
    }

    @Test func launcherAddsBOnlyToLTOLinks() {
        #expect(Launcher.arguments(compiler: "gcc", args: ["-flto", "-o", "app", "a.o"], libexecDir: "/x") == ["gcc", "-B", "/x/", "-flto", "-o", "app", "a.o"])
        #expect(Launcher.arguments(compiler: "gcc", args: ["-flto", "-c", "a.c"], libexecDir: "/x") == ["gcc", "-flto", "-c", "a.c"])
        #expect(Launcher.arguments(compiler: "gcc", args: ["-o", "app", "a.o"], libexecDir: "/x") == ["gcc", "-o", "app", "a.o"])
        #expect(!Launcher.isLTOLink(["-flto=auto", "-fno-lto", "a.o"]))
        #expect(Launcher.isLTOLink(["-flto=jobserver", "a.o"]))
    }
}

@Suite struct CacheKeyTests {
    func inputs() -> LTRANSKeyInputs {
        LTRANSKeyInputs(compiler: ["driver", "/usr/bin/gcc-12"], arguments: ["-O2", "<input>"], directory: "/src",
                        environment: [:], partition: Digest.of("p"), partitionForm: .normalized)
    }

    @Test func everyInputChangesTheKey() {
        let base = inputs().key
        var k = inputs(); k.compiler.append("x"); #expect(k.key != base)
        k = inputs(); k.arguments = ["-O3", "<input>"]; #expect(k.key != base)
        k = inputs(); k.directory = "/other"; #expect(k.key != base)
        k = inputs(); k.directory = nil; #expect(k.key != base)
        k = inputs(); k.nativeExpansion = ["-march=znver3"]; #expect(k.key != base)
        k = inputs(); k.environment["SOURCE_DATE_EPOCH"] = "1"; #expect(k.key != base)
        k = inputs(); k.environment["LD_PRELOAD"] = ""; #expect(k.key != base)
        k = inputs(); k.environment["COMPILER_PATH"] = "/opt/gcc/libexec/"; #expect(k.key == base, "keyed by the contents it chooses")
        k = inputs(); k.partition = Digest.of("q"); #expect(k.key != base)
        k = inputs(); k.partitionForm = .raw; #expect(k.key != base)
        #expect(inputs().key == base)
    }

    @Test func framingSeparatesFields() {
        var a = inputs(); a.arguments = ["ab", "c"]
        var b = inputs(); b.arguments = ["a", "bc"]
        #expect(a.key != b.key)
    }
}

@Suite struct AssemblerDependenciesTests {
    @Test func plainLTRANSReadsNothingElse() throws {
        // As written by GNU as 2.40 for a GCC 12 LTRANS job run with TMPDIR=/c/tmp/job-1.
        let deps = try #require(AssemblerDependencies.parse("/tmp/ccpnCT7i.ltrans0.ltrans.o: <artificial> /c/tmp/job-1/cclfsXOO.s\n"))
        #expect(AssemblerDependencies.externalInputs(deps, privateDirectory: "/c/tmp/job-1") == [])
    }

    @Test func incbinIsAnExternalInput() throws {
        let deps = try #require(AssemblerDependencies.parse("/tmp/cct4LUjs.ltrans0.ltrans.o: /tmp/blob.bin <artificial> \\\n /j/ccfVMp3P.s\n"))
        #expect(AssemblerDependencies.externalInputs(deps, privateDirectory: "/j") == ["/tmp/blob.bin"])
    }

    @Test func onlyThePrivateDirectoryIsTheJobsOwn() throws {
        // With -pipe no assembler file is listed; an included file named like one is still external.
        let deps = try #require(AssemblerDependencies.parse("o: /a\\ b/x.bin <artificial> /tmp/ccAAAAAA.s /j/x.s /jj/y.s\n"))
        #expect(AssemblerDependencies.externalInputs(deps, privateDirectory: "/j/") == ["/a b/x.bin", "/tmp/ccAAAAAA.s", "/jj/y.s"])
        #expect(AssemblerDependencies.parse("no rule here") == nil)
    }
}

@Suite struct MachineDependenceTests {
    @Test func findsTheOptionsTheDriverExpandsHere() {
        #expect(MachineDependence.usesNative(["-O2", "-march=native", "<input>"]))
        #expect(MachineDependence.usesNative(["-mtune=native"]) && MachineDependence.usesNative(["-mcpu=native"]))
        #expect(!MachineDependence.usesNative(["-march=x86-64-v3", "-mtune=generic"]))
        #expect(MachineDependence.nativeProbeArguments(["-O2", "-m32", "-march=native", "-fPIC", "-mno-avx"])
            == ["-m32", "-march=native", "-mno-avx", "-###", "-xlto", "-c", "-fltrans", "-o", "/dev/null", "/dev/null"])
    }

    /// `gcc -march=native -### -xlto -c -fltrans -o /dev/null /dev/null` as GCC 12 prints it (shortened).
    @Test func readsTheExpansionFromTheDriversCommandLine() {
        let output = """
            Using built-in specs.
            COLLECT_GCC=gcc
            Target: x86_64-linux-gnu
            gcc version 12.2.0 (Debian 12.2.0-14+deb12u1)\u{20}
            COLLECT_GCC_OPTIONS='-march=native' '-c' '-fltrans' '-o' '/dev/null'
             /usr/lib/gcc/x86_64-linux-gnu/12/lto1 "-march=znver3" -mmmx -mno-avx512f \
            --param "l1-cache-size=32" --param "l2-cache-size=512" "-mtune=znver3" -quiet -dumpbase null -fltrans /dev/null -o /tmp/cc1.s "a\\"b"
             as --64 -o /dev/null /tmp/cc1.s -mx
            COMPILER_PATH=/usr/lib/gcc/x86_64-linux-gnu/12/
            """
        #expect(MachineDependence.nativeExpansion(fromDriverOutput: output)
            == ["-march=znver3", "-mmmx", "-mno-avx512f", "--param", "l1-cache-size=32", "--param", "l2-cache-size=512", "-mtune=znver3"])
        #expect(MachineDependence.commandWords(#" "a\"b" c "d e" "\\""#) == ["a\"b", "c", "d e", "\\"])
        #expect(MachineDependence.nativeExpansion(fromDriverOutput: "gcc: error: unrecognized option\n") == nil)
    }
}

@Suite struct LauncherNamesTests {
    @Test func compilerNamesAreNeverTakenForCommands() {
        for name in ["gcc", "cc", "c++", "g++", "gcc-12", "x86_64-linux-gnu-gcc-12", "x86_64-linux-gnu-g++", "arm-none-eabi-cc", "/usr/bin/stat", "./gc"] {
            #expect(Launcher.namesCompiler(name), "\(name)")
        }
        for name in ["stat", "gc", "expalin", "clang-ish"] { #expect(!Launcher.namesCompiler(name), "\(name)") }
    }
}
