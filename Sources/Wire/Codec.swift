// LTOWire owns the protocol between `ltoc` and `ltod`: framing, the message
// set, the binary field codec, socket I/O and where the socket lives.
// It is Foundation-free because the shim links it and must start in milliseconds.

/// Why a frame or message could not be decoded. Each case names what a peer did wrong.
public enum WireError: Error, Equatable, CustomStringConvertible {
    case frameTooLarge(UInt32, limit: UInt32)
    case truncated(expected: Int, got: Int)
    case unknownMessage(UInt8)
    case malformed(String)
    case unsupportedVersion(UInt16)
    case invalidField(String)
    case io(String)
    case closed

    public var description: String {
        switch self {
        case .frameTooLarge(let n, let limit): return "frame of \(n) bytes exceeds the limit of \(limit) bytes"
        case .truncated(let expected, let got): return "truncated frame: expected \(expected) bytes, got \(got)"
        case .unknownMessage(let t): return "unknown message type \(t)"
        case .malformed(let what): return "malformed message: \(what)"
        case .unsupportedVersion(let v):
            return "protocol version \(v) is not supported (this build speaks \(Protocol.version)); restart the daemon with `ltoc shutdown`"
        case .invalidField(let what): return "invalid field: \(what)"
        case .io(let what): return what
        case .closed: return "connection closed by peer"
        }
    }
}

/// Encodes message fields as little-endian integers and length-prefixed byte strings.
///
/// Written by hand because the shim must stay Foundation-free (no Codable/JSON there),
/// and the format is ours: a handful of integer, string and list fields per message.
public struct WireWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    public mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func i64(_ v: Int64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func blob(_ v: [UInt8]) {
        u32(UInt32(v.count))
        bytes.append(contentsOf: v)
    }

    public mutating func string(_ v: String) { blob(Array(v.utf8)) }

    public mutating func strings(_ v: [String]) {
        u32(UInt32(v.count))
        for s in v { string(s) }
    }
}

/// Decodes what `WireWriter` wrote, with every length checked against the bytes left.
public struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ n: Int) throws(WireError) -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - offset >= n else {
            throw .malformed("field of \(n) bytes runs past the end of the frame")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func u8() throws(WireError) -> UInt8 { try take(1).first! }

    public mutating func u32() throws(WireError) -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func i64() throws(WireError) -> Int64 {
        Int64(bitPattern: try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) })
    }

    public mutating func blob() throws(WireError) -> [UInt8] {
        Array(try take(Int(try u32())))
    }

    public mutating func string() throws(WireError) -> String {
        let raw = try blob()
        guard let s = String(validating: raw, as: UTF8.self) else { throw .malformed("string is not valid UTF-8") }
        guard !s.utf8.contains(0) else { throw .malformed("string contains a NUL byte") }
        return s
    }

    public mutating func strings() throws(WireError) -> [String] {
        let count = Int(try u32())
        // Every string takes at least its 4-byte length, which bounds the count.
        guard count <= (bytes.count - offset) / 4 else { throw .malformed("list count \(count) exceeds the frame") }
        var out: [String] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try string()) }
        return out
    }
}
