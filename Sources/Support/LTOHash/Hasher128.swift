import CXXHash

/// A streaming XXH3-128 hasher with unambiguous framing.
///
/// Every `add` call writes a one-byte tag and, for variable-length values, the
/// length before the bytes, so `add("ab"); add("c")` and `add("a"); add("bc")`
/// never collide. Cache keys are built only through this type.
public struct Hasher128: ~Copyable {
    private let state: OpaquePointer

    public init() {
        guard let state = XXH3_createState() else { fatalError("XXH3_createState: out of memory") }
        XXH3_128bits_reset(state)
        self.state = state
    }

    deinit { XXH3_freeState(state) }

    private enum Tag: UInt8 { case bytes = 1, string = 2, integer = 3, digest = 4, list = 5, label = 6 }

    private func raw(_ bytes: UnsafeRawBufferPointer) {
        _ = XXH3_128bits_update(state, bytes.baseAddress, bytes.count)
    }

    private func raw(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { raw($0) }
    }

    private func tag(_ t: Tag) {
        withUnsafeBytes(of: t.rawValue) { raw($0) }
    }

    /// Adds a length-framed byte buffer.
    public func add(_ bytes: UnsafeRawBufferPointer) {
        tag(.bytes)
        raw(UInt64(bytes.count))
        raw(bytes)
    }

    /// Adds a byte buffer in pieces that together count as one framed value of `totalCount` bytes.
    /// Use `beginBytes(count:)` then `continueBytes(_:)` for each piece.
    public func beginBytes(count totalCount: Int) {
        tag(.bytes)
        raw(UInt64(totalCount))
    }

    public func continueBytes(_ piece: UnsafeRawBufferPointer) {
        raw(piece)
    }

    public func add(_ string: String) {
        tag(.string)
        var copy = string
        copy.withUTF8 { utf8 in
            raw(UInt64(utf8.count))
            raw(UnsafeRawBufferPointer(utf8))
        }
    }

    public func add(_ value: UInt64) {
        tag(.integer)
        raw(value)
    }

    public func add(_ value: Int) { add(UInt64(bitPattern: Int64(value))) }

    public func add(_ digest: Digest) {
        tag(.digest)
        raw(digest.high)
        raw(digest.low)
    }

    /// Adds a list of strings, framed by its count.
    public func add(_ strings: [String]) {
        tag(.list)
        raw(UInt64(strings.count))
        for s in strings { add(s) }
    }

    /// Adds a field label, so that fields cannot be confused with each other.
    public func label(_ name: StaticString) {
        tag(.label)
        raw(UInt64(name.utf8CodeUnitCount))
        raw(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    public func finish() -> Digest {
        let h = XXH3_128bits_digest(state)
        return Digest(high: h.high64, low: h.low64)
    }
}
