import Foundation

/// Counts the objects whose contents changed since the previous compile: new ones, removed
/// ones, and those whose `objectDigest` differs. A cycle that changes none compiled nothing
/// new, whatever files its edit or commit touched.
struct ObjectChangeTracker {
    private var previous: [String: Int] = [:]

    mutating func changed(_ paths: [String]) throws -> Int {
        var current: [String: Int] = [:]
        for path in paths { current[path] = objectDigest(try Data(contentsOf: URL(fileURLWithPath: path))) }
        defer { previous = current }
        let removed = previous.keys.filter { current[$0] == nil }.count
        return current.filter { previous[$0.key] != $0.value }.count + removed
    }
}

/// A hash (for this process) of what an object holds. GCC names the LTO sections of each
/// compile with a random suffix (`.gnu.lto_.decls.f795b74eb9837df2`) unless given
/// `-frandom-seed`, so the same source compiled twice gives different bytes; for an ELF64
/// little-endian object this hashes every section's name without that suffix, its type and
/// its bytes, leaving out the section-name table. Other files are hashed whole. `data` is
/// indexed from 0, as read from a file.
func objectDigest(_ data: Data) -> Int {
    var hasher = Hasher()
    guard let sections = elfSections(data) else {
        data.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
    for s in sections {
        hasher.combine(s.name)
        hasher.combine(s.type)
        data[s.bytes].withUnsafeBytes { hasher.combine(bytes: $0) }
    }
    return hasher.finalize()
}

/// The sections of an ELF64 little-endian file but the section-name table, names without
/// the random suffix of LTO sections; nil when `data` is not such a file or is truncated.
private func elfSections(_ d: Data) -> [(name: String, type: Int, bytes: Range<Int>)]? {
    guard d.count >= 64, d.prefix(4) == Data([0x7F, 0x45, 0x4C, 0x46]), d[4] == 2, d[5] == 1,
          let table = d.little(0x28, 8), let entrySize = d.little(0x3A, 2), let count = d.little(0x3C, 2),
          let namesIndex = d.little(0x3E, 2), namesIndex < count,
          let names = d.sectionBytes(at: table + namesIndex * entrySize)
    else { return nil }
    var sections: [(name: String, type: Int, bytes: Range<Int>)] = []
    for i in 0..<count where i != namesIndex {
        let header = table + i * entrySize
        guard let nameOffset = d.little(header, 4), let type = d.little(header + 4, 4),
              let bytes = type == 8 ? 0..<0 : d.sectionBytes(at: header),  // SHT_NOBITS: no bytes in the file
              names.lowerBound + nameOffset < names.upperBound
        else { return nil }
        let name = d[(names.lowerBound + nameOffset)..<names.upperBound].prefix { $0 != 0 }
        sections.append((withoutRandomSuffix(String(decoding: name, as: UTF8.self)), type, bytes))
    }
    return sections
}

/// `.gnu.lto_NAME.HEX` -> `.gnu.lto_NAME`; other names as they are.
private func withoutRandomSuffix(_ name: String) -> String {
    guard name.hasPrefix(".gnu.lto_"), let dot = name.lastIndex(of: "."), name[name.index(after: dot)...].count >= 8,
          name[name.index(after: dot)...].allSatisfy(\.isHexDigit) else { return name }
    return String(name[..<dot])
}

private extension Data {
    /// The little-endian unsigned integer of `size` bytes at `offset`; nil past the end.
    func little(_ offset: Int, _ size: Int) -> Int? {
        guard offset >= 0, offset <= count - size else { return nil }
        return (0..<size).reversed().reduce(0) { $0 << 8 | Int(self[offset + $1]) }
    }

    /// The file range of the section whose 64-byte header is at `header`; nil past the end.
    func sectionBytes(at header: Int) -> Range<Int>? {
        guard let offset = little(header + 0x18, 8), let size = little(header + 0x20, 8),
              offset >= 0, size >= 0, offset <= count, size <= count - offset else { return nil }
        return offset..<(offset + size)
    }
}
