// LTOGCC: the primitive encodings of GCC 12's LTO streams (data-streamer.{h,cc},
// data-streamer-in.cc): LEB128 numbers, NUL-free bytes, and the bit-packs that
// hold every flag, enum and location. Reads are strict: an encoding GCC's writer
// would not produce (an overlong number, a nonzero bit the writer left unused) is
// an error, so that one stream has one reading and every bit of it matters.

/// Why a stream could not be read; `reason` is meant for a person.
public struct StreamReadError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A position in one stream of a section (the bytes between two header-given offsets).
struct LTOInput {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        self.bytes = bytes
        self.position = start
        self.end = end
    }

    var atEnd: Bool { position == end }

    /// streamer_read_uchar.
    mutating func byte() throws(StreamReadError) -> UInt8 {
        guard position < end else { throw StreamReadError("stream ends inside a value") }
        defer { position += 1 }
        return bytes[position]
    }

    /// streamer_read_uhwi: unsigned LEB128 as streamer_write_uhwi_stream writes it (shortest form).
    mutating func uhwi() throws(StreamReadError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            let b = try byte()
            guard shift < 64, shift < 63 || b & 0x7e == 0 else { throw StreamReadError("number too large at offset \(start)") }
            result |= UInt64(b & 0x7f) << shift
            shift += 7
            if b & 0x80 == 0 {
                guard b != 0 || position - start == 1 else { throw StreamReadError("overlong number at offset \(start)") }
                return result
            }
        }
    }

    /// streamer_read_hwi: signed LEB128, shortest form as streamer_write_hwi_stream writes it.
    mutating func shwi() throws(StreamReadError) -> Int64 {
        var result: Int64 = 0
        var shift: Int64 = 0
        let start = position
        while true {
            let b = try byte()
            guard shift < 64 else { throw StreamReadError("number too large at offset \(start)") }
            result |= Int64(b & 0x7f) << shift
            shift += 7
            if b & 0x80 == 0 {
                if shift < 64, b & 0x40 != 0 { result |= -1 << shift }
                guard signedLength(result) == position - start else { throw StreamReadError("overlong number at offset \(start)") }
                return result
            }
        }
    }
}

/// The length streamer_write_hwi_stream gives `value`.
func signedLength(_ value: Int64) -> Int {
    var v = value
    var n = 1
    while true {
        v >>= 6
        if v == 0 || v == -1 { return n }
        v >>= 1
        n += 1
    }
}

/// The state of a bit-pack being read (bitpack_d): the current 64-bit word and how many of
/// its bits were taken. A value that does not fit the rest of a word starts the next word,
/// and the rest of the old word must be zero.
struct BitpackState {
    var word: UInt64 = 0
    var used = 64
    /// Where the current word starts in the stream.
    var wordStart = 0
}
