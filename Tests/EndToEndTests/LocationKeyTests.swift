import Foundation
import LTOHash
import LTOStorage
import LTOTestSupport
import Testing

extension EndToEnd {
    /// Keys that leave out what LTRANS output was shown not to depend on (docs/LTRANS-FACTS.md):
    /// source locations at -g0, output names, and the working directory at -g0. Every link is
    /// compared byte for byte with plain gcc's, and the programs are run.
    @Suite struct LocationKeyTests {
        typealias Fixture = CanonicalKeyTests.Fixture

        /// `text` with `lines` comment lines put at its top: every later line and every
        /// declaration after it moves, nothing else changes.
        static func movedDown(_ text: String, lines: Int) -> String {
            String(repeating: "/* moved */\n", count: lines) + text
        }

        static func notes(_ e: Explain) -> [String] {
            (e.json["reused_canonical"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
        }

        @Test func movedLinesAreReusedAndTheAuditAgrees() throws {
            var f = try Fixture("locations-moved", env: ["LTOD_AUDIT_LOCATIONS": "1"])
            let first = try f.check.compareLinks(f.daemon)
            try f.check.runBoth()
            let moved = try f.edit(["a.c": Self.movedDown(f.program.files["a.c"]!, lines: 3)])
            #expect(moved.rebuilt == 0, "only a.c's locations moved: \(moved.json)")
            #expect(moved.reused == first.total)
            let notes = Self.notes(moved)
            #expect(notes.contains { $0.hasPrefix("reused: only line numbers moved (a.c: ") }, "\(notes)")
            let hits = try f.daemon.stat("ltrans.location_hits")
            #expect(hits >= 1 && hits == Double(notes.count))
            #expect(try f.daemon.stat("ltrans.location_fallbacks") == 0)
            try CanonicalKeyTests().waitForAudits(f.daemon, count: hits)
            #expect(try f.daemon.stat("ltrans.audit_mismatches") == 0)

            // A real edit that also moves lines: the changed function's partition is rebuilt.
            let edited = try f.edit(["a.c": Self.movedDown(f.program.files["a.c"]!, lines: 2)
                .replacingOccurrences(of: "return scale(x) ^ 5;", with: "return scale(x) ^ 6;")])
            let rebuilt = (edited.json["rebuilt"] as? [[String: Any]] ?? []).flatMap { $0["functions"] as? [String] ?? [] }
            #expect(rebuilt.contains("alpha"), "\(edited.json)")
        }

        @Test func debugInformationKeepsLocationsInTheKey() throws {
            var f = try Fixture("locations-debug")
            f.check.compileFlags = ["-O2", "-g"]
            f.check.linkFlags = ["-O2", "-g", "-flto"]
            try f.check.compile(Array(f.program.files.keys))
            try f.check.compareLinks(f.daemon)
            let moved = try f.edit(["a.c": Self.movedDown(f.program.files["a.c"]!, lines: 3)])
            #expect(moved.rebuilt >= 1, "with -g the moved lines are in the debug information: \(moved.json)")
            #expect(try f.daemon.stat("ltrans.location_keys") == 0)
        }

        @Test func aRenamedOutputReusesEveryPartition() throws {
            for debug in [false, true] {
                var f = try Fixture(debug ? "renamed-output-g" : "renamed-output")
                if debug {
                    f.check.compileFlags = ["-O2", "-g"]
                    f.check.linkFlags = ["-O2", "-g", "-flto"]
                    try f.check.compile(Array(f.program.files.keys))
                }
                let first = try f.check.compareLinks(f.daemon)
                f.check.output = "app2"
                let renamed = try f.check.compareLinks(f.daemon)
                try f.check.runBoth()
                #expect(renamed.rebuilt == 0 && renamed.reused == first.total, "-g: \(debug): \(renamed.json)")
            }
        }

        @Test func aSecondCheckoutAtAnotherPathReusesEveryPartition() throws {
            let f = try Fixture("second-checkout")
            let first = try f.check.compareLinks(f.daemon)
            let other = try f.scratch.sub("elsewhere")
            var check = LinkCheck(directory: other, objects: f.program.objects)
            try f.program.write(to: other, Array(f.program.files.keys))
            check.compileFlags = f.check.compileFlags
            try check.compile(Array(f.program.files.keys))
            let second = try check.compareLinks(f.daemon)
            try check.runBoth()
            #expect(second.rebuilt == 0 && second.reused == first.total, "\(second.json)")
        }

        /// An entry whose job printed a warning names source lines: it is reused only where
        /// the lines did not move, and rebuilt (printing the new lines) where they did.
        @Test func entriesWithWarningsAreReusedOnlyWithExactLocations() throws {
            let scratch = try TemporaryDirectory("locations-warnings")
            let daemon = try Daemon(in: scratch, extraEnv: ["LTOD_WHOLE_LINK": "0"])
            let check = try WholeLinkTests.warningProgram(in: try scratch.sub("src"))
            for moved in [false, true] {
                if moved {
                    // fill, inlined into main where it overflows, moves: the warning names its new line.
                    let a = check.directory + "/a.c"
                    try Self.movedDown(try String(contentsOfFile: a, encoding: .utf8), lines: 2).write(toFile: a, atomically: false, encoding: .utf8)
                    try check.compile(["a.c"])
                }
                let plain = try Shell.check(["gcc"] + check.linkFlags + check.plainExtra + ["-o", "app.plain"] + check.objects, cwd: check.directory)
                #expect(plain.stderr.contains("-Wstringop-overflow"), "\(plain.stderr)")
                let rebuiltBefore = try daemon.stat("ltrans.rebuilt")
                let r = try check.linkThroughLtod(daemon)
                #expect(r.stderr == WholeLinkTests.withoutSerialWarning(plain.stderr), "moved: \(moved)\n\(r.stderr)")
                #expect(sameBytes(check.directory + "/app", check.directory + "/app.plain"))
                if moved {
                    #expect(try daemon.stat("ltrans.rebuilt") - rebuiltBefore == 1, "only the partition that warns is rebuilt")
                    #expect(try daemon.stat("ltrans.location_hits") >= 1, "a.c's own partition is reused though its lines moved")
                }
            }
            try check.runBoth()
        }

        /// A cached object that does not match its partition, found only because locations
        /// were abstracted, is caught by the default audit of such hits (here at 1), which
        /// removes it, keeps the evidence and turns the abstraction off for the compiler.
        @Test func theAuditCatchesALocationOnlyMismatch() throws {
            var f = try Fixture("locations-mismatch", env: ["LTOD_AUDIT_LOCATIONS": "1"])
            let first = try f.check.compareLinks(f.daemon)
            let rebuilt = first.json["rebuilt"] as? [[String: Any]] ?? []
            let hex = try #require(rebuilt.first { ($0["functions"] as? [String] ?? []).contains("alpha") }?["key"] as? String)
            try CanonicalKeyTests().plantAlteredObject(under: CacheKey(try #require(Digest(hex: hex))), cache: f.daemon.cache,
                                                       scratch: f.scratch)

            f.program.files["a.c"] = Self.movedDown(f.program.files["a.c"]!, lines: 1)
            try f.program.write(to: f.check.directory, ["a.c"])
            try f.check.compile(["a.c"])
            try f.check.linkPlain()
            try f.check.linkThroughLtod(f.daemon)
            #expect(!sameBytes(f.check.directory + "/app", f.check.directory + "/app.plain"), "the planted object should have been used")
            try CanonicalKeyTests().waitForAudits(f.daemon, count: try f.daemon.stat("ltrans.location_hits"))
            #expect(try f.daemon.stat("ltrans.audit_mismatches") == 1)
            let evidence = try FileManager.default.contentsOfDirectory(atPath: f.daemon.cache + "/audit")
            #expect(evidence.count == 1)
            let kept = try FileManager.default.contentsOfDirectory(atPath: f.daemon.cache + "/audit/" + evidence[0])
            #expect(Set(kept).isSuperset(of: ["partition.o", "rebuilt.ltrans.o", "cached.ltrans.o"]), "\(kept)")

            // Keys without locations are now off for this compiler: the next link keeps them exact and is right.
            let before = try f.daemon.stat("ltrans.location_keys")
            let next = try f.edit(["a.c": Self.movedDown(f.program.files["a.c"]!, lines: 1)])
            #expect(Self.notes(next).allSatisfy { !$0.contains("line numbers moved") }, "\(next.json)")
            #expect(try f.daemon.stat("ltrans.location_keys") == before)
            #expect(try f.daemon.stat("ltrans.location_fallbacks") > 0)
        }
    }
}
