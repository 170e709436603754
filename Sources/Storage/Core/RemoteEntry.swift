// LTOStorage: the form in which an entry travels to and from a remote tier. It carries
// the payload's hash, so that a remote hit is verified before anything uses it.
import LTOHash

/// An entry as a remote tier keeps it: a header (magic, key, payload length and hash,
/// build time, target) followed by the payload. Written by hand: a fixed little-endian
/// layout of six fields, which no general serializer would make smaller or safer.
public struct RemoteEntry: Equatable, Sendable {
    public let payload: [UInt8]
    public let info: EntryInfo

    static let magic: [UInt8] = Array("LTODENT1".utf8)
    static let maxTargetBytes = 4096

    public init(payload: [UInt8], info: EntryInfo) {
        self.payload = payload
        self.info = info
    }

    /// The blob stored under `key`.
    public func encoded(key: CacheKey) -> [UInt8] {
        var out = Self.magic
        append(key.digest, to: &out)
        append(UInt64(payload.count), to: &out)
        append(Digest.of(payload), to: &out)
        append(info.buildSeconds.bitPattern, to: &out)
        let target = Array(info.target.utf8.prefix(Self.maxTargetBytes))
        append(UInt64(target.count), to: &out)
        out += target
        out += payload
        return out
    }

    /// Decodes and verifies a blob fetched under `key`: the key it was stored under, its
    /// length and its payload hash must all match, or the blob is refused with the reason.
    public init(decoding blob: [UInt8], key: CacheKey) throws(RemoteEntryError) {
        var r = BlobReader(blob)
        guard try r.take(Self.magic.count) == Self.magic else { throw .malformed("no entry header") }
        guard try r.digest() == key.digest else { throw .wrongKey }
        let length = try r.u64()
        let hash = try r.digest()
        let seconds = Double(bitPattern: try r.u64())
        let targetLength = try r.u64()
        guard targetLength <= UInt64(Self.maxTargetBytes) else { throw .malformed("target of \(targetLength) bytes") }
        let target = String(decoding: try r.take(Int(targetLength)), as: UTF8.self)
        guard length == UInt64(r.remaining) else { throw .malformed("payload of \(r.remaining) bytes where the header says \(length)") }
        let payload = try r.take(r.remaining)
        guard Digest.of(payload) == hash else { throw .hashMismatch }
        guard seconds.isFinite, seconds >= 0 else { throw .malformed("build time \(seconds)") }
        self.init(payload: payload, info: EntryInfo(buildSeconds: seconds, target: target))
    }
}

/// Why a blob from a remote tier was not used.
public enum RemoteEntryError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case wrongKey
    case hashMismatch

    public var description: String {
        switch self {
        case .malformed(let what): return "malformed remote entry: \(what)"
        case .wrongKey: return "remote entry was stored under another key"
        case .hashMismatch: return "remote entry's payload does not match its hash"
        }
    }
}

private func append(_ value: UInt64, to out: inout [UInt8]) {
    for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
}

private func append(_ digest: Digest, to out: inout [UInt8]) {
    append(digest.high, to: &out)
    append(digest.low, to: &out)
}

private struct BlobReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ n: Int) throws(RemoteEntryError) -> [UInt8] {
        guard n >= 0, n <= remaining else { throw .malformed("truncated") }
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    mutating func u64() throws(RemoteEntryError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func digest() throws(RemoteEntryError) -> Digest {
        Digest(high: try u64(), low: try u64())
    }
}
