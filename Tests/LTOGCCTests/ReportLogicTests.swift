import LTOGCC
import LTOHash
import LTOTestSupport
import Testing

@Suite struct ProvenanceTests {
    @Test func provenanceRoundTripsAndRejectsGarbage() throws {
        let record = Provenance(bytesDigest: Digest.of(Array("partition".utf8)), orders: [3, 7, 12])
        #expect(Provenance(encoded: record.encoded) == record)
        #expect(Provenance(encoded: Provenance(bytesDigest: record.bytesDigest, orders: []).encoded)?.orders == [])
        #expect(Provenance(encoded: "bytes zz\norders 1\n") == nil)
        #expect(Provenance(encoded: record.encoded.replacingOccurrences(of: "7", with: "x")) == nil)
        #expect(Provenance.key(for: record.bytesDigest) != Provenance.partitionKey(for: record.bytesDigest))
        let located = Provenance(bytesDigest: record.bytesDigest, orders: [1], exactDigest: Digest.of(Array("exact".utf8)),
                                 positions: ["src/ltable.c": Digest.of(Array("l".utf8)), "lvm.c": Digest.of(Array("v".utf8))])
        #expect(Provenance(encoded: located.encoded) == located)
        #expect(Provenance(encoded: located.encoded + "position zz a.c\n") == nil)
    }

    @Test func movedLocationsNameTheFilesWhosePositionsDiffer() throws {
        let d = { (s: String) in Digest.of(Array(s.utf8)) }
        let cached = Provenance(bytesDigest: d("old"), orders: [], exactDigest: d("exact-old"), positions: ["a.c": d("1"), "b.c": d("2")])
        let abstracted = ["a.c": AbstractedLocations(declarations: 12, statements: 3), "b.c": AbstractedLocations(declarations: 1)]
        let moved = try #require(MovedLocations(cached: cached, currentExact: d("exact-new"), currentPositions: ["a.c": d("9"), "b.c": d("2")],
                                                abstracted: abstracted))
        #expect(moved.summary == "reused: only line numbers moved (a.c: 12 declarations, 3 statements)")
        #expect(MovedLocations(cached: cached, currentExact: d("exact-old"), currentPositions: [:], abstracted: abstracted) == nil,
                "the same exact digest: nothing moved")
        let unrecorded = Provenance(bytesDigest: d("old"), orders: [])
        #expect(MovedLocations(cached: unrecorded, currentExact: d("x"), currentPositions: [:], abstracted: [:]) == nil)
    }
}

@Suite struct RebuildReasonTests {
    @Test func reasonsNameTheChangedFunctionsAPartitionHolds() throws {
        let dir = try TemporaryDirectory("reasons")
        let before = try summarized(dir, "m", "int f(int x) { return x + 1; }\nint g(int x) { return x * 2; }\n")
        let after = try summarized(dir, "m", "int f(int x) { return x + 3; }\nint g(int x) { return x * 2; }\n")
        let changes = InputChanges.between([before], [after])
        #expect(changes.map(\.functions) == [["f"]])
        let holding = RebuildReason(functions: ["f.constprop.0", "h"], changes: changes, uncachedNote: nil, buildNote: nil)
        #expect(holding.text == "new key: holds changed function f")
        #expect(holding.reachedBy == [before.name])
        let other = RebuildReason(functions: ["g"], changes: changes, uncachedNote: nil, buildNote: "built ahead")
        #expect(!other.text.contains("holds changed") && other.reachedBy.isEmpty)
        #expect(other.text.hasPrefix("new key: none of its functions changed, but what WPA read for it did: \(before.name): "), "\(other.text)")
        #expect(other.text.hasSuffix("; built ahead"))
        #expect(RebuildReason(functions: [], changes: nil, uncachedNote: nil, buildNote: nil).text.contains("first link"))
        #expect(RebuildReason(functions: [], changes: [], uncachedNote: "option -save-temps", buildNote: nil).text == "not cached: option -save-temps")
        let added = InputChanges.between([], [after])
        #expect(added.first?.added == true && InputChanges.between([after], []).first?.removed == true)
    }

    @Test func driverPrefixesAreCollectedInOrder() {
        #expect(DriverOptions.prefixes(["-O2", "-B", "/a", "-B/b", "-c"]) == ["-B", "/a", "-B/b"])
    }

    private func summarized(_ dir: TemporaryDirectory, _ name: String, _ source: String) throws -> InputObject {
        let object = try dir.compile(name, source)
        return InputObject(name: object, summary: try readObject(path: object))
    }
}
