// LTOHash owns content hashing: XXH3-128 digests (libxxhash) and the framed
// hasher that every cache key and every section hash in ltod is built with.
import CXXHash

/// A 128-bit XXH3 digest. Printed as 32 lowercase hex digits (high half first).
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the 32-hex-digit form produced by `description`; nil for anything else.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 32,
              let high = UInt64(hex.prefix(16), radix: 16),
              let low = UInt64(hex.suffix(16), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    public var description: String { Self.hex16(high) + Self.hex16(low) }

    public static func < (a: Digest, b: Digest) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// The digest of one contiguous buffer.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> Digest {
        let h = XXH3_128bits(bytes.baseAddress, bytes.count)
        return Digest(high: h.high64, low: h.low64)
    }

    public static func of(_ bytes: [UInt8]) -> Digest {
        bytes.withUnsafeBytes { of($0) }
    }

    public static func of(_ string: String) -> Digest {
        var copy = string
        return copy.withUTF8 { of(UnsafeRawBufferPointer($0)) }
    }

    private static func hex16(_ v: UInt64) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
