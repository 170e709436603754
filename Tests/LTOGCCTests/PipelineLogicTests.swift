import LTOHash
import Testing
@testable import LTOGCC

/// The lists through which ltod hands finished objects to lto-wrapper and the linker.
@Suite struct WPAAnswerTests {
    static let wpaList = "1234\n/tmp/ccX.ltrans0.o\n99\n/tmp/ccX.ltrans1.o\n5\n/tmp/ccX.ltrans2.o\n"

    @Test func theOutputListRoundTrips() throws {
        let entries = try #require(LTRANSListEntry.parse(Self.wpaList))
        #expect(entries.map(\.priority) == [1234, 99, 5] && entries.allSatisfy { !$0.passThrough })
        #expect(LTRANSListEntry.render(entries) == Self.wpaList)
        let pass = [LTRANSListEntry(priority: 3, path: "/tmp/a.o", passThrough: true)]
        #expect(LTRANSListEntry.render(pass) == "3\n*/tmp/a.o\n")
        #expect(LTRANSListEntry.parse("3\n*/tmp/a.o\n") == pass)
        for bad in ["x\n/a.o\n", "1\n\n", "1\n/a.o\nstray"] { #expect(LTRANSListEntry.parse(bad) == nil, "\(bad)") }
    }

    @Test func serialLinksGetOneEntryNamingEveryFinishedObject() throws {
        let entries = try #require(LTRANSListEntry.parse(Self.wpaList))
        let outputs = (0..<3).map { "/tmp/ccX.ltrans\($0).ltrans.o" }
        let answer = WPAAnswer(entries: entries, outputs: outputs, serial: true, outputList: "/tmp/ccX.ltrans.out")
        #expect(answer.list == [LTRANSListEntry(priority: 1234, path: "/tmp/ccX.ltrans.ltod-objects", passThrough: true)])
        #expect(answer.objectList?.path == "/tmp/ccX.ltrans.ltod-objects")
        #expect(FinishedObjectList.parse(answer.objectList?.text ?? "") == outputs)
        #expect(answer.partitionsToRemove == entries.map(\.path) && answer.objectsToRemove.isEmpty)
    }

    @Test func parallelLinksAndSinglePartitionsGetPassThroughEntries() throws {
        let entries = try #require(LTRANSListEntry.parse(Self.wpaList))
        let outputs = (0..<3).map { "/tmp/ccX.ltrans\($0).ltrans.o" }
        let parallel = WPAAnswer(entries: entries, outputs: outputs, serial: false, outputList: "/tmp/ccX.ltrans.out")
        #expect(parallel.list == zip(entries, outputs).map { LTRANSListEntry(priority: $0.priority, path: $1, passThrough: true) })
        #expect(parallel.objectList == nil)
        let one = WPAAnswer(entries: [entries[0]], outputs: [outputs[0]], serial: true, outputList: "/tmp/ccX.ltrans.out")
        #expect(one.list == [LTRANSListEntry(priority: 1234, path: outputs[0], passThrough: true)] && one.objectList == nil)
    }

    @Test func fromTheFirstFailureOnLTOWrapperCompilesItself() throws {
        let entries = try #require(LTRANSListEntry.parse(Self.wpaList))
        let answer = WPAAnswer(entries: entries, outputs: ["/tmp/o0", nil, "/tmp/o2"], serial: true, outputList: "/tmp/ccX.ltrans.out")
        #expect(answer.list == [LTRANSListEntry(priority: 1234, path: "/tmp/o0", passThrough: true), entries[1], entries[2]])
        #expect(answer.partitionsToRemove == [entries[0].path] && answer.objectsToRemove == ["/tmp/o2"])
    }

    @Test func theShimExpandsFinishedObjectListsInLTOWrapperOutput() throws {
        let list = "/tmp/ccX.ltrans.ltod-objects"
        let files = [list: FinishedObjectList.render(["/tmp/o0", "/tmp/o1"])]
        let printed = "\(list)\n/tmp/ccY.debug.temp.o\n"
        guard case .success(let (output, lists)) = FinishedObjectList.expand(printed, read: { files[$0] }) else {
            Issue.record("not expanded")
            return
        }
        #expect(output == "/tmp/o0\n/tmp/o1\n/tmp/ccY.debug.temp.o\n" && lists == [list])
        guard case .failure(let error) = FinishedObjectList.expand("/tmp/gone.ltod-objects\n", read: { _ in nil }) else {
            Issue.record("a missing list was not an error")
            return
        }
        #expect(error.path == "/tmp/gone.ltod-objects")
        #expect(FinishedObjectList.parse("not a list\n/tmp/o0\n") == nil)
    }

    @Test func temporaryNamesAreRecognised() {
        #expect(TemporaryName.suffix(of: "/tmp/ccAb3dE9.ltrans12.ltrans.o") == ".ltrans12.ltrans.o")
        #expect(TemporaryName.suffix(of: "/tmp/ccAb3dE9.debug.temp.o") == ".debug.temp.o")
        #expect(TemporaryName.suffix(of: "app.ltrans0.ltrans.o") == nil)
        #expect(TemporaryName.suffix(of: "/tmp/cc-b3dE9.o") == nil)
        #expect(LinkAnswer.partitionIndex(".ltrans12.ltrans.o") == 12 && LinkAnswer.partitionIndex(".debug.temp.o") == nil)
    }
}

/// What diagnostics depend on, and the key of a whole link.
@Suite struct WholeLinkLogicTests {
    @Test func diagnosticsNameTheirSourceFiles() {
        let text = """
            In file included from lib/common.h:3,
                             from a.c:1:
            \u{1B}[01m\u{1B}[Ka.c:12:5:\u{1B}[m\u{1B}[K warning: unused [-Wunused]
            In function 'fill',
                inlined from 'main' at b.c:5:18:
            /usr/include/x.h:40:1: note: here
            a.c: In function 'main':
            lto1: warning: something
            <built-in>: note: x
            """
        #expect(DiagnosticsContext.sourceFiles(in: Array(text.utf8)) == ["lib/common.h", "a.c", "b.c", "/usr/include/x.h"])
    }

    @Test func everyPartOfTheContextChangesItsDigest() {
        let base = DiagnosticsContext(terminal: "stderr=tty columns=80", environment: ["TERM": "xterm"], sources: ["a.c": Digest.of("a")])
        var changes = [base]
        for name in DiagnosticsContext.environmentNames {
            var c = base
            c.environment[name] = "other"
            changes.append(c)
        }
        var terminal = base
        terminal.terminal = "stderr=other columns=none"
        var source = base
        source.sources["a.c"] = Digest.of("edited")
        var gone = base
        gone.sources["a.c"] = .some(nil)
        changes += [terminal, source, gone]
        #expect(Set(changes.map(\.digest)).count == changes.count)
    }

    @Test func terminalFactsRoundTrip() {
        for t in [ShimTerminal(stderrIsTerminal: true, columns: 120), ShimTerminal(stderrIsTerminal: false, columns: nil)] {
            #expect(ShimTerminal(encoded: t.encoded) == t)
        }
        #expect(ShimTerminal(encoded: "stderr=tty columns=0") == nil && ShimTerminal(encoded: "garbage") == nil)
    }

    static func inputs(_ change: (inout LinkKeyInputs) -> Void = { _ in }) -> LinkKeyInputs {
        var k = LinkKeyInputs(compiler: ["driver", "/usr/bin/gcc-12"], arguments: ["-fresolution=<resolution>", "a.o"],
                              collectOptions: "'-o' 'app' '-flto'", directory: "/src", environment: ["PATH": "/usr/bin"],
                              inputs: [("/src/a.o", Digest.of("a"))], resolution: Digest.of("res"))
        change(&k)
        return k
    }

    @Test func everyInputOfTheLinkChangesItsKey() {
        let keys = [
            Self.inputs(),
            Self.inputs { $0.compiler.append("x") },
            Self.inputs { $0.arguments.append("-flinker-output=pie") },
            Self.inputs { $0.collectOptions += " '-g'" },
            Self.inputs { $0.directory = "/other" },
            Self.inputs { $0.environment["SOURCE_DATE_EPOCH"] = "1" },
            Self.inputs { $0.inputs[0].digest = Digest.of("b") },
            Self.inputs { $0.inputs[0].name = "/src/b.o" },
            Self.inputs { $0.inputs.append(("/src/c.o", Digest.of("c"))) },
            Self.inputs { $0.resolution = Digest.of("other") },
            Self.inputs { $0.resolution = nil },
        ].map(\.key)
        #expect(Set(keys).count == keys.count)
    }

    @Test func theResolutionFileIsKeyedByItsContents() {
        let (args, file) = LinkKeyInputs.splitResolution(["-fresolution=/tmp/ccA.res", "-flinker-output=exec", "a.o"])
        #expect(args == ["-fresolution=<resolution>", "-flinker-output=exec", "a.o"] && file == "/tmp/ccA.res")
        #expect(LinkKeyInputs.makeFlagsForKey(" -j4 --jobserver-auth=3,4") == "-j4 --jobserver-auth=<jobserver>")
        #expect(LinkKeyInputs.makeFlagsForKey("-j --jobserver-auth=fifo:/tmp/GMfifo1") == LinkKeyInputs.makeFlagsForKey("-j --jobserver-auth=fifo:/tmp/GMfifo2"))
    }

    @Test func linksThatDoMoreThanPrintObjectsAreNeverAnsweredWhole() {
        #expect(wholeLinkRefusal(collectOptions: ["-o", "app", "-O2", "-flto"], collectAsOptions: nil) == nil)
        for option in ["-v", "-save-temps", "-fdump-tree-all", "-flto-report", "-fprofile-use"] {
            #expect(wholeLinkRefusal(collectOptions: ["-o", "app", option], collectAsOptions: nil) != nil, "\(option)")
        }
        #expect(wholeLinkRefusal(collectOptions: ["-o", "app"], collectAsOptions: "-W") != nil)
    }

    @Test func aLinkAnswerRoundTripsAndRefusesWhatItDidNotWrite() throws {
        let answer = LinkAnswer(objects: [LinkAnswer.Object(key: Digest.of("a"), suffix: ".ltrans0.ltrans.o"),
                                          LinkAnswer.Object(key: Digest.of("b"), suffix: ".debug.temp.o")])
        #expect(LinkAnswer(encoded: answer.encoded) == answer)
        for bad in ["", "ltod link answer 1\n", "ltod link answer 1\nnothex .o\n", "ltod link answer 2\n\(Digest.of("a")) .o\n",
                    "ltod link answer 1\n\(Digest.of("a")) a/b.o\n"] {
            #expect(LinkAnswer(encoded: bad) == nil, "\(bad)")
        }
        #expect(LinkAnswer.contentKey(of: Digest.of("x")) != Digest.of("x"))
    }
}
