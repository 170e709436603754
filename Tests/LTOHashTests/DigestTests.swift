import Testing
@testable import LTOHash

@Suite struct DigestTests {
    @Test func matchesLibxxhashXXH3_128() {
        // Reference values printed by a C program calling XXH3_128bits from libxxhash 0.8.1.
        #expect(Digest.of([UInt8]()).description == "99aa06d3014798d86001c324468d497f")
        #expect(Digest.of("ltod").description == "400fe4dc684ca036cc8f35e0d6a9dea3")
    }

    @Test func hexRoundTripAndRejects() {
        let d = Digest.of("x")
        #expect(Digest(hex: d.description) == d)
        #expect(Digest(hex: "00000000000000000000000000000001") == Digest(high: 0, low: 1))
        #expect(Digest(hex: "abc") == nil)
        #expect(Digest(hex: String(repeating: "g", count: 32)) == nil)
    }

    @Test func framedHasherSeparatesValues() {
        func digest(_ body: (borrowing Hasher128) -> Void) -> Digest {
            let h = Hasher128()
            body(h)
            return h.finish()
        }
        let ab_c = digest { $0.add("ab"); $0.add("c") }
        let a_bc = digest { $0.add("a"); $0.add("bc") }
        #expect(ab_c != a_bc)
        #expect(digest { $0.add(["a", "b"]) } != digest { $0.add("a"); $0.add("b") })
        #expect(digest { $0.add(UInt64(1)) } != digest { $0.add("1") })
        #expect(digest { $0.label("x"); $0.add("y") } != digest { $0.add("x"); $0.add("y") })
        #expect(ab_c == digest { $0.add("ab"); $0.add("c") })
    }

    @Test func piecewiseBytesEqualOneBuffer() {
        let bytes: [UInt8] = Array(0..<200)
        let whole = Hasher128()
        bytes.withUnsafeBytes { whole.add($0) }
        let pieces = Hasher128()
        pieces.beginBytes(count: bytes.count)
        bytes[..<77].withUnsafeBytes { pieces.continueBytes($0) }
        bytes[77...].withUnsafeBytes { pieces.continueBytes($0) }
        #expect(whole.finish() == pieces.finish())
    }
}
