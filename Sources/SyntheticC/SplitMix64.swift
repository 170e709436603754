// SyntheticC — SplitMix64: the module's only source of pseudo-randomness.
//
// Everything the generator chooses comes from this PRNG, seeded from the
// program's seed and a fixed path of integers (module index, purpose tag,
// edit generation), so a program and every edit of it are pure functions of
// their inputs, on every platform and Swift version.

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and deterministic.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A generator for one purpose: the seed mixed with a path of integers.
    init(seed: UInt64, path: [UInt64]) {
        var s = SplitMix64.mix(seed ^ 0x5359_4E54_4845_5449)  // "SYNTHETI"
        for p in path {
            s = SplitMix64.mix(s &+ 0x9E37_79B9_7F4A_7C15 ^ p)
        }
        state = s
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: next() >> 32) }

    /// An odd 32-bit constant (a bijective multiplier).
    mutating func oddU32() -> UInt32 { u32() | 1 }

    /// Uniform in `range` (bias is irrelevant at these sizes).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(next() % width)
    }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}
