// LTOTestSupport: hand-made ELF files for malformed-input tests, and checking object errors.
import LTOObject
import Testing

/// Builds minimal ELF64 little-endian relocatable files for malformed-input tests.
public struct ELFWriter {
    public struct Section {
        public var name: String
        public var type: UInt32 = 1
        public var contents: [UInt8] = []
        public var flags: UInt64 = 0
        public var link: UInt32 = 0
        public var offsetOverride: UInt64? = nil
        public var sizeOverride: UInt64? = nil

        public init(name: String, type: UInt32 = 1, contents: [UInt8] = [], flags: UInt64 = 0, link: UInt32 = 0,
                    offsetOverride: UInt64? = nil, sizeOverride: UInt64? = nil) {
            self.name = name
            self.type = type
            self.contents = contents
            self.flags = flags
            self.link = link
            self.offsetOverride = offsetOverride
            self.sizeOverride = sizeOverride
        }
    }

    public var sections: [Section]
    public var useExtendedCount = false
    public var useExtendedNameIndex = false

    public init(sections: [Section], useExtendedCount: Bool = false, useExtendedNameIndex: Bool = false) {
        self.sections = sections
        self.useExtendedCount = useExtendedCount
        self.useExtendedNameIndex = useExtendedNameIndex
    }

    /// Layout: header, contents of each section, .shstrtab, then the section header table.
    public func build() -> [UInt8] {
        var names: [UInt8] = [0]
        var nameOffsets: [UInt32] = []
        for s in sections + [Section(name: ".shstrtab", type: 3)] {
            nameOffsets.append(UInt32(names.count))
            names += Array(s.name.utf8) + [0]
        }
        var all = sections
        all.append(Section(name: ".shstrtab", type: 3, contents: names))
        var file = [UInt8](repeating: 0, count: 64)
        var offsets: [Int] = []
        for s in all {
            offsets.append(file.count)
            file += s.contents
        }
        while file.count % 8 != 0 { file.append(0) }
        let shoff = file.count
        let count = all.count + 1
        // Section 0.
        var null = [UInt8](repeating: 0, count: 64)
        if useExtendedCount { put64(&null, 32, UInt64(count)) }
        if useExtendedNameIndex { put32(&null, 40, UInt32(count - 1)) }
        file += null
        for (i, s) in all.enumerated() {
            var h = [UInt8](repeating: 0, count: 64)
            put32(&h, 0, nameOffsets[i])
            put32(&h, 4, s.type)
            put64(&h, 8, s.flags)
            put64(&h, 24, s.offsetOverride ?? UInt64(offsets[i]))
            put64(&h, 32, s.sizeOverride ?? UInt64(s.contents.count))
            put32(&h, 40, s.link)
            put64(&h, 48, 1)
            file += h
        }
        file.replaceSubrange(0..<4, with: [0x7f, 0x45, 0x4c, 0x46])
        file[4] = 2; file[5] = 1; file[6] = 1
        put16(&file, 16, 1)
        put16(&file, 18, 62)
        put32(&file, 20, 1)
        put64(&file, 40, UInt64(shoff))
        put16(&file, 52, 64)
        put16(&file, 58, 64)
        put16(&file, 60, useExtendedCount ? 0 : UInt16(count))
        put16(&file, 62, useExtendedNameIndex ? 0xffff : UInt16(count - 1))
        return file
    }
}

public func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) { for i in 0..<2 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
public func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) { for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
public func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) { for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
public func get16(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }
public func get64(_ b: [UInt8], _ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }

/// Offset of section `index`'s header in an ELF64 file.
public func sectionHeaderOffset(_ bytes: [UInt8], _ index: Int) -> Int { get64(bytes, 40) + index * 64 }

/// Expects `body` to throw an `ObjectError` of `kind` whose description contains `fragment`.
public func expectError<T>(_ kind: ObjectError.Kind, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected an error containing \"\(fragment)\"", sourceLocation: sourceLocation)
    } catch let error as ObjectError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
