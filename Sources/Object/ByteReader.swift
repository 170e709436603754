// LTOObject: bounds-checked little-endian reads from a byte buffer.

/// A read-only view of bytes where every access is range-checked and returns nil
/// instead of trapping when it would leave the buffer.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var count: Int { bytes.count }

    /// True when `[offset, offset + length)` lies inside the buffer (overflow-safe).
    public func contains(offset: Int, length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count && length <= count - offset
    }

    public func u8(_ offset: Int) -> UInt8? {
        contains(offset: offset, length: 1) ? bytes[offset] : nil
    }

    public func u16(_ offset: Int) -> UInt16? {
        guard contains(offset: offset, length: 2) else { return nil }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    public func u32(_ offset: Int) -> UInt32? {
        guard contains(offset: offset, length: 4) else { return nil }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    public func u64(_ offset: Int) -> UInt64? {
        guard contains(offset: offset, length: 8) else { return nil }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The sub-buffer `[offset, offset + length)`, or nil when it is out of range.
    public func slice(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard contains(offset: offset, length: length) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }

    /// The bytes from `offset` up to (not including) the next NUL, searching at most
    /// up to `end`; nil when there is no NUL before `end` or `offset` is out of range.
    public func cString(at offset: Int, end: Int) -> UnsafeRawBufferPointer? {
        let end = min(end, count)
        guard offset >= 0, offset < end else { return nil }
        var i = offset
        while i < end {
            if bytes[i] == 0 { return UnsafeRawBufferPointer(rebasing: bytes[offset..<i]) }
            i += 1
        }
        return nil
    }
}

extension String {
    /// Decodes bytes as UTF-8, replacing invalid sequences (for display and lookup only;
    /// anything that feeds a cache key must use the raw bytes).
    public init(lossyUTF8 bytes: UnsafeRawBufferPointer) {
        self = String(decoding: bytes, as: UTF8.self)
    }
}
