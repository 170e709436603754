// LTOStorage: the form in which an entry travels to and from a remote tier. It carries
// its key and a hash of its contents, so that a remote hit is verified before anything
// uses it, and a version and tagged fields, so that what is recorded beside a payload can
// grow without breaking the ltods that share a tier.
import LTOHash

/// An entry as a remote tier keeps it. Written by hand: a fixed little-endian layout of a
/// few fields, which no general serializer would make smaller or safer.
///
///     magic "LTODENTR" | version u16 | key (16) | body length u64 | body XXH3-128 (16) | body
///     body = field count u32 | fields (tag u16, length u32, bytes)... | payload length u64 | payload
///
/// A reader skips fields whose tag it does not know, so adding a field to `EntryInfo` is a
/// new tag (and an older ltod still reads the entry); changing what a known field means, or
/// a field no reader may skip, is a new `version`, which older readers take as a miss.
///
/// Version 2 adds the diagnostics field (what the job printed, which a hit prints again): an
/// entry with diagnostics is written as version 2, so that an ltod that would drop them reads
/// it as a miss; an entry without them is still written as version 1, which every ltod reads.
public struct RemoteEntry: Equatable, Sendable {
    public let payload: [UInt8]
    public let info: EntryInfo

    static let magic: [UInt8] = Array("LTODENTR".utf8)
    /// The newest format this ltod writes and reads.
    public static let version: UInt16 = 2
    /// The format of entries without diagnostics (read by every ltod that reads a remote tier).
    static let plainVersion: UInt16 = 1
    static let maxTargetBytes = 4096
    static let maxFields = 64
    static let maxFieldBytes = 1 << 20

    /// The fields of `EntryInfo`, by tag.
    enum Tag: UInt16 {
        case buildSeconds = 1
        case target = 2
        /// exit status i32 | context digest (16) | stdout length u32 | stdout | stderr length u32 | stderr
        case diagnostics = 3
    }

    /// Whether `info` fits the format's field limits (diagnostics of at most about 1 MiB).
    public static func canCarry(_ info: EntryInfo) -> Bool {
        guard let d = info.diagnostics else { return true }
        return d.stdout.count + d.stderr.count + 28 <= maxFieldBytes
    }

    public init(payload: [UInt8], info: EntryInfo) {
        self.payload = payload
        self.info = info
    }

    /// The blob stored under `key`.
    public func encoded(key: CacheKey) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(payload.count + Self.maxTargetBytes + 64)
        var fields: [(Tag, [UInt8])] = [
            (.buildSeconds, bytes(of: info.buildSeconds.bitPattern)),
            (.target, Array(info.target.utf8.prefix(Self.maxTargetBytes))),
        ]
        if let diagnostics = info.diagnostics { fields.append((.diagnostics, Self.encode(diagnostics))) }
        append(UInt32(fields.count), to: &body)
        for (tag, value) in fields {
            append(tag.rawValue, to: &body)
            append(UInt32(value.count), to: &body)
            body += value
        }
        append(UInt64(payload.count), to: &body)
        body += payload
        var out = Self.magic
        append(info.diagnostics == nil ? Self.plainVersion : Self.version, to: &out)
        append(key.digest, to: &out)
        append(UInt64(body.count), to: &out)
        append(Digest.of(body), to: &out)
        return out + body
    }

    /// Decodes and verifies a blob fetched under `key`: the key it was stored under, its
    /// length and its hash must all match, or the blob is refused with the reason.
    public init(decoding blob: [UInt8], key: CacheKey) throws(RemoteEntryError) {
        var r = BlobReader(blob[...])
        guard try r.take(Self.magic.count).elementsEqual(Self.magic) else { throw .malformed("no entry header") }
        let version = try r.u16()
        guard (Self.plainVersion...Self.version).contains(version) else { throw .unsupportedVersion(version) }
        guard try r.digest() == key.digest else { throw .wrongKey }
        let length = try r.u64()
        let hash = try r.digest()
        guard length == UInt64(r.remaining) else { throw .malformed("body of \(r.remaining) bytes where the header says \(length)") }
        guard blob[r.offset...].withUnsafeBytes({ Digest.of($0) }) == hash else { throw .hashMismatch }
        var info = EntryInfo(buildSeconds: 0, target: "")
        let count = try r.u32()
        guard count <= UInt32(Self.maxFields) else { throw .malformed("\(count) fields") }
        for _ in 0..<count {
            let tag = try r.u16()
            let size = try r.u32()
            guard size <= UInt32(Self.maxFieldBytes) else { throw .malformed("a field of \(size) bytes") }
            let value = try r.take(Int(size))
            switch Tag(rawValue: tag) {
            case .buildSeconds?:
                guard value.count == 8 else { throw .malformed("build time of \(value.count) bytes") }
                var v = BlobReader(value)
                info.buildSeconds = Double(bitPattern: try v.u64())
            case .target?:
                guard value.count <= Self.maxTargetBytes else { throw .malformed("target of \(value.count) bytes") }
                info.target = String(decoding: value, as: UTF8.self)
            case .diagnostics?:
                guard version >= 2 else { throw .malformed("diagnostics in a format \(version) entry") }
                info.diagnostics = try Self.decodeDiagnostics(value)
            case nil:
                continue
            }
        }
        guard info.buildSeconds.isFinite, info.buildSeconds >= 0 else { throw .malformed("build time \(info.buildSeconds)") }
        let payloadLength = try r.u64()
        guard payloadLength == UInt64(r.remaining) else { throw .malformed("payload of \(r.remaining) bytes where the body says \(payloadLength)") }
        self.init(payload: Array(try r.take(r.remaining)), info: info)
    }
}

extension RemoteEntry {
    static func encode(_ d: EntryDiagnostics) -> [UInt8] {
        var out: [UInt8] = []
        append(UInt32(bitPattern: d.exitStatus), to: &out)
        append(d.context, to: &out)
        append(UInt32(d.stdout.count), to: &out)
        out += d.stdout
        append(UInt32(d.stderr.count), to: &out)
        out += d.stderr
        return out
    }

    static func decodeDiagnostics(_ value: ArraySlice<UInt8>) throws(RemoteEntryError) -> EntryDiagnostics {
        var r = BlobReader(value)
        let status = Int32(bitPattern: try r.u32())
        let context = try r.digest()
        let stdout = Array(try r.take(Int(try r.u32())))
        let stderr = Array(try r.take(Int(try r.u32())))
        guard r.remaining == 0 else { throw .malformed("diagnostics with \(r.remaining) bytes left over") }
        return EntryDiagnostics(stdout: stdout, stderr: stderr, exitStatus: status, context: context)
    }
}

/// Why a blob from a remote tier was not used.
public enum RemoteEntryError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case wrongKey
    case hashMismatch
    /// Written by an ltod with another entry format: not an error of the tier, a miss.
    case unsupportedVersion(UInt16)

    public var description: String {
        switch self {
        case .malformed(let what): return "malformed remote entry: \(what)"
        case .wrongKey: return "remote entry was stored under another key"
        case .hashMismatch: return "remote entry does not match its hash"
        case .unsupportedVersion(let v): return "remote entry has format \(v); this ltod reads format \(RemoteEntry.version)"
        }
    }
}

private func bytes(of value: UInt64) -> [UInt8] {
    var out: [UInt8] = []
    append(value, to: &out)
    return out
}

private func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    for shift in stride(from: 0, to: T.bitWidth, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
}

private func append(_ digest: Digest, to out: inout [UInt8]) {
    append(digest.high, to: &out)
    append(digest.low, to: &out)
}

private struct BlobReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    var remaining: Int { bytes.endIndex - offset }

    mutating func take(_ n: Int) throws(RemoteEntryError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw .malformed("truncated") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(RemoteEntryError) -> T {
        try take(T.bitWidth / 8).reversed().reduce(T(0)) { $0 << 8 | T($1) }
    }

    mutating func u16() throws(RemoteEntryError) -> UInt16 { try integer(UInt16.self) }
    mutating func u32() throws(RemoteEntryError) -> UInt32 { try integer(UInt32.self) }
    mutating func u64() throws(RemoteEntryError) -> UInt64 { try integer(UInt64.self) }

    mutating func digest() throws(RemoteEntryError) -> Digest {
        Digest(high: try u64(), low: try u64())
    }
}
