import Foundation
import LTOTestSupport
import LTOLocalStorage
import LTOStorage
import LTOHash
import Testing

/// A small program of five files whose first file is edited in ways that renumber the
/// symbols of every file after it.
struct FiveFiles {
    var files: [String: String] = [
        "a.c": """
            static int scale(int x) { return 3 * x + 1; }
            int __attribute__((noinline)) alpha(int x) { return scale(x) ^ 5; }
            int __attribute__((noinline)) beta(int x) { return x * x - alpha(x); }

            """,
        "b.c": """
            int alpha(int); int beta(int);
            static int table[8] = {1, 2, 3, 5, 8, 13, 21, 34};
            int __attribute__((noinline)) gamma_(int x) { return alpha(x) + table[x & 7]; }
            int __attribute__((noinline)) moved(int x) { return x * 7 - 2; }

            """,
        "c.c": """
            int gamma_(int); int moved(int);
            int __attribute__((noinline)) delta(int x) { return gamma_(x) - moved(x); }
            __attribute__((constructor)) static void announce(void) { }

            """,
        "d.c": """
            int delta(int); int beta(int);
            static int counter;
            int __attribute__((noinline)) epsilon(int x) { counter += x; return delta(x) + beta(counter); }

            """,
        "main.c": """
            #include <stdio.h>
            int epsilon(int);
            int main(int argc, char **argv) { (void)argv; int s = 0; for (int i = 0; i < 10 + argc; i++) s += epsilon(i); printf("%d\\n", s); return 0; }

            """,
    ]
    var objects: [String] { ["a.o", "b.o", "c.o", "d.o", "main.o"] }

    func write(to dir: String, _ names: [String]) throws {
        for name in names { try files[name]!.write(toFile: dir + "/" + name, atomically: false, encoding: .utf8) }
    }
}

extension EndToEnd {
    /// Canonical partition keys: renumbered partitions are reused, anything else is
    /// rebuilt, and every binary is byte-identical to plain gcc's.
    @Suite struct CanonicalKeyTests {
        struct Fixture {
            let scratch: TemporaryDirectory
            let daemon: Daemon
            var program = FiveFiles()
            var check: LinkCheck

            init(_ name: String, env: [String: String] = [:]) throws {
                scratch = try TemporaryDirectory(name)
                daemon = try Daemon(in: scratch, extraEnv: env)
                check = LinkCheck(directory: try scratch.sub("src"), objects: program.objects)
                try program.write(to: check.directory, Array(program.files.keys))
                try check.compile(Array(program.files.keys))
            }

            /// Applies an edit, recompiles the edited files, links both ways and compares.
            mutating func edit(_ changes: [String: String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Explain {
                for (name, text) in changes { program.files[name] = text }
                try program.write(to: check.directory, Array(changes.keys))
                try check.compile(Array(changes.keys))
                let explain = try check.compareLinks(daemon, sourceLocation: sourceLocation)
                try check.runBoth(sourceLocation: sourceLocation)
                return explain
            }
        }

        static func reusedCanonical(_ e: Explain) -> Int { (e.json["partitions"] as? [String: Any])?["reused_canonical"] as? Int ?? -1 }

        @Test func symbolsAddedAndRemovedInAnEarlyFile() throws {
            var f = try Fixture("canonical-add")
            try f.check.compareLinks(f.daemon)
            let total = try Explain(f.daemon).total
            #expect(total >= 5)
            let added = try f.edit(["a.c": f.program.files["a.c"]! + "int extra1(int x) { return x + 11; }\nint extra2(int x) { return x - 11; }\n"])
            #expect(added.rebuilt <= 2, "only a.c's partition (and one for new symbols) should change: \(added.json)")
            #expect(Self.reusedCanonical(added) >= total - 2, "\(added.json)")
            // Removed, leaving its line empty: extra2 keeps its line but not its order number.
            let removed = try f.edit(["a.c": f.program.files["a.c"]!.replacingOccurrences(of: "int extra1(int x) { return x + 11; }\n", with: "\n")])
            #expect(removed.rebuilt <= 2, "\(removed.json)")
            let changes = removed.json["changes"] as? [[String: Any]] ?? []
            #expect(changes.map { $0["functions"] as? [String] ?? [] } == [["extra1"]], "only extra1 changed: \(changes)")
            #expect(Self.reusedCanonical(removed) >= total - 2)
            let text = try f.daemon.ltoc("explain").stdout
            #expect(text.contains("reused only thanks to canonical keys"), "\(text)")
            #expect(try f.daemon.stat("ltrans.canonical_fallbacks") == 0)
        }

        @Test func staticsRenamedMovedFunctionsAndInliningChanges() throws {
            var f = try Fixture("canonical-edits")
            try f.check.compareLinks(f.daemon)
            // A static renamed: only its own file's partition holds the name.
            let renamed = try f.edit(["a.c": f.program.files["a.c"]!.replacingOccurrences(of: "scale", with: "scale_by_three")])
            #expect(renamed.rebuilt >= 1 && renamed.rebuilt <= 2, "\(renamed.json)")
            // A function moved from b.c to c.c: both partitions change.
            var b = f.program.files["b.c"]!, c = f.program.files["c.c"]!
            b = b.replacingOccurrences(of: "int __attribute__((noinline)) moved(int x) { return x * 7 - 2; }\n", with: "")
            c += "int __attribute__((noinline)) moved(int x) { return x * 7 - 2; }\n"
            let moved = try f.edit(["b.c": b, "c.c": c])
            #expect(moved.rebuilt >= 2, "\(moved.json)")
            // beta loses noinline and becomes tiny: callers in d.c may now inline it, so d.c's
            // partition (whose body and inlining decisions change) must be rebuilt.
            let inlined = try f.edit(["a.c": f.program.files["a.c"]!.replacingOccurrences(
                of: "int __attribute__((noinline)) beta(int x) { return x * x - alpha(x); }", with: "int beta(int x) { return x + 1; }")])
            let rebuiltFunctions = (inlined.json["rebuilt"] as? [[String: Any]] ?? []).flatMap { $0["functions"] as? [String] ?? [] }
            #expect(rebuiltFunctions.contains("epsilon"), "d.c's partition must be rebuilt: \(inlined.json)")
        }

        @Test func bytesKeysWhenCanonicalKeysAreOff() throws {
            var f = try Fixture("canonical-off", env: ["LTOD_CANONICAL_KEYS": "0"])
            try f.check.compareLinks(f.daemon)
            let total = try Explain(f.daemon).total
            let added = try f.edit(["a.c": f.program.files["a.c"]! + "int extra1(int x) { return x + 11; }\n"])
            #expect(Self.reusedCanonical(added) == 0)
            #expect(added.rebuilt > total / 2, "renumbering defeats bytes keys: \(added.json)")
            #expect(try f.daemon.stat("ltrans.canonical_keys") == 0)
        }

        /// Waits (bounded) until the background audit has compared `count` objects.
        func waitForAudits(_ daemon: Daemon, count: Double) throws {
            let deadline = Date().addingTimeInterval(120)
            while try daemon.stat("ltrans.audit_runs") < count {
                guard Date() < deadline else {
                    Issue.record("audit did not finish: \(try daemon.stats())")
                    return
                }
                usleep(100_000)
            }
        }

        @Test func theAuditConfirmsCanonicalHits() throws {
            var f = try Fixture("canonical-audit", env: ["LTOD_AUDIT": "1"])
            try f.check.compareLinks(f.daemon)
            let added = try f.edit(["a.c": f.program.files["a.c"]! + "int extra1(int x) { return x + 11; }\n"])
            let canonical = Self.reusedCanonical(added)
            #expect(canonical >= 3)
            try waitForAudits(f.daemon, count: Double(canonical))
            #expect(try f.daemon.stat("ltrans.audit_mismatches") == 0)
        }

        /// A cached object that does not match its partition (planted here, as a GCC that used
        /// absolute symbol numbers would produce) is caught by the audit, which removes it,
        /// keeps the evidence and turns canonical keys off.
        @Test func theAuditCatchesAMismatch() throws {
            var f = try Fixture("canonical-mismatch", env: ["LTOD_AUDIT": "1"])
            let first = try f.check.compareLinks(f.daemon)
            let rebuilt = first.json["rebuilt"] as? [[String: Any]] ?? []
            let hex = try #require(rebuilt.first { ($0["functions"] as? [String] ?? []).contains("epsilon") }?["key"] as? String)
            let key = CacheKey(try #require(Digest(hex: hex)))
            try plantAlteredObject(under: key, cache: f.daemon.cache, scratch: f.scratch)

            f.program.files["a.c"]! += "int extra1(int x) { return x + 11; }\n"
            try f.program.write(to: f.check.directory, ["a.c"])
            try f.check.compile(["a.c"])
            try f.check.linkPlain()
            try f.check.linkThroughLtod(f.daemon)
            #expect(!sameBytes(f.check.directory + "/app", f.check.directory + "/app.plain"), "the planted object should have been used")
            try waitForAudits(f.daemon, count: Double(Self.reusedCanonical(try Explain(f.daemon))))
            #expect(try f.daemon.stat("ltrans.audit_mismatches") == 1)
            let evidence = try FileManager.default.contentsOfDirectory(atPath: f.daemon.cache + "/audit")
            #expect(evidence.count == 1)
            let kept = try FileManager.default.contentsOfDirectory(atPath: f.daemon.cache + "/audit/" + evidence[0])
            #expect(Set(kept).isSuperset(of: ["partition.o", "rebuilt.ltrans.o", "cached.ltrans.o", "cached-from-partition.o"]), "\(kept)")

            // Canonical keys are now off for this compiler: the next link keys by bytes and is right.
            let before = try f.daemon.stat("ltrans.canonical_keys")
            let next = try f.edit(["a.c": f.program.files["a.c"]! + "int extra2(int x) { return x - 11; }\n"])
            #expect(Self.reusedCanonical(next) == 0)
            #expect(try f.daemon.stat("ltrans.canonical_keys") == before)
        }

        /// Replaces the cached object under `key` with a copy whose `.comment` text differs.
        func plantAlteredObject(under key: CacheKey, cache: String, scratch: TemporaryDirectory) throws {
            let store = try SQLiteStore(directory: cache)
            let original = try scratch.sub("planted") + "/object.o"
            #expect(try store.retrieve(key, to: original) != nil)
            var bytes = try #require(FileManager.default.contents(atPath: original).map { [UInt8]($0) })
            let marker = Array("GCC: (".utf8)
            let at = try #require((0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker })
            bytes[at] = UInt8(ascii: "X")
            try Data(bytes).write(to: URL(fileURLWithPath: original))
            #expect(try store.remove(key))
            try store.store(key, from: original, info: EntryInfo(buildSeconds: 1, target: "planted"))
        }
    }
}
