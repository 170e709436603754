// LTOGCC: decoding of `.gnu.lto_.symtab`, `.gnu.lto_.ext_symtab` and the
// `.gnu.lto_.lto` format header.
//
// Formats (GCC 12: write_symbol / write_symbol_extension_info / produce_lto_section in
// gcc/lto-streamer-out.cc, parse_table_entry in lto-plugin/lto-plugin.c); none of these
// three sections is ever compressed:
//   symtab entry:     name NUL, comdat NUL, kind u8 (0..4), visibility u8 (0..3),
//                     size u64 LE, slot u32 LE
//   ext_symtab:       version u8 (1), then per symtab entry: type u8 (0..2), section kind u8
//   lto header:       major i16, minor i16, slim u8, padding u8, compression u16 (0 zlib, 1 zstd)
import LTOObject

/// One symbol of an object's LTO symbol table, as the linker plugin sees it.
public struct LTOSymbol: Hashable, Sendable {
    /// `gcc_plugin_symbol_kind`.
    public enum Kind: UInt8, Hashable, Sendable {
        case definition = 0, weakDefinition, undefined, weakUndefined, common
    }

    /// `gcc_plugin_symbol_visibility`.
    public enum Visibility: UInt8, Hashable, Sendable {
        case `default` = 0, protected, `internal`, hidden
    }

    /// `gcc_plugin_symbol_type`, from `.gnu.lto_.ext_symtab`.
    public enum SymbolType: UInt8, Hashable, Sendable {
        case unknown = 0, function, variable
    }

    /// The assembler name, decoded as UTF-8 (invalid bytes replaced).
    public let name: String
    /// The COMDAT group, nil when the symbol is in none.
    public let comdat: String?
    public let kind: Kind
    public let visibility: Visibility
    /// Size in bytes; GCC sets it only for common symbols.
    public let size: UInt64
    /// Index in the object's tree cache, as written in the linker resolution file.
    public let slot: UInt32
    /// From `.gnu.lto_.ext_symtab` when present.
    public var type: SymbolType?
    /// Section kind bits from `.gnu.lto_.ext_symtab` (bit 0: the variable goes to BSS).
    public var sectionKind: UInt8?

    public init(name: String, comdat: String?, kind: Kind, visibility: Visibility, size: UInt64,
                slot: UInt32, type: SymbolType? = nil, sectionKind: UInt8? = nil) {
        self.name = name
        self.comdat = comdat
        self.kind = kind
        self.visibility = visibility
        self.size = size
        self.slot = slot
        self.type = type
        self.sectionKind = sectionKind
    }

    /// True for definitions of any kind (including common symbols).
    public var isDefined: Bool { kind != .undefined && kind != .weakUndefined }

    /// Decodes the contents of one `.gnu.lto_.symtab` section. `path` is used in errors.
    public static func decodeTable(_ bytes: UnsafeRawBufferPointer, path: String) throws(ObjectError) -> [LTOSymbol] {
        let reader = ByteReader(bytes)
        var symbols: [LTOSymbol] = []
        var offset = 0
        while offset < reader.count {
            func bad(_ what: String) -> ObjectError {
                ObjectError(path: path, kind: .malformed,
                            detail: "LTO symbol table entry \(symbols.count) at offset \(offset) \(what)")
            }
            guard let name = reader.cString(at: offset, end: reader.count) else { throw bad("has an unterminated name") }
            let comdatOffset = offset + name.count + 1
            guard let comdat = reader.cString(at: comdatOffset, end: reader.count) else {
                throw bad("has an unterminated COMDAT name")
            }
            let fixed = comdatOffset + comdat.count + 1
            guard reader.contains(offset: fixed, length: 14) else { throw bad("is truncated") }
            guard let kind = Kind(rawValue: reader.u8(fixed)!) else {
                throw bad("has invalid kind \(reader.u8(fixed)!)")
            }
            guard let visibility = Visibility(rawValue: reader.u8(fixed + 1)!) else {
                throw bad("has invalid visibility \(reader.u8(fixed + 1)!)")
            }
            symbols.append(LTOSymbol(
                name: String(lossyUTF8: name), comdat: comdat.isEmpty ? nil : String(lossyUTF8: comdat),
                kind: kind, visibility: visibility, size: reader.u64(fixed + 2)!, slot: reader.u32(fixed + 10)!))
            offset = fixed + 14
        }
        return symbols
    }

    /// Decodes one `.gnu.lto_.ext_symtab` section into (type, section kind) pairs;
    /// nil for an extension version other than 1 (the linker plugin ignores those too).
    public static func decodeExtensionTable(_ bytes: UnsafeRawBufferPointer, path: String) throws(ObjectError)
        -> [(type: SymbolType, sectionKind: UInt8)]?
    {
        guard let version = bytes.first, version == 1 else { return nil }
        guard bytes.count % 2 == 1 else {
            throw ObjectError(path: path, kind: .malformed,
                              detail: "LTO symbol table extension has an odd payload size (\(bytes.count - 1) bytes)")
        }
        var result: [(type: SymbolType, sectionKind: UInt8)] = []
        result.reserveCapacity(bytes.count / 2)
        var offset = 1
        while offset + 1 < bytes.count {
            guard let type = SymbolType(rawValue: bytes[offset]) else {
                throw ObjectError(path: path, kind: .malformed,
                                  detail: "LTO symbol table extension entry \(result.count) has invalid type \(bytes[offset])")
            }
            result.append((type, bytes[offset + 1]))
            offset += 2
        }
        return result
    }
}

/// How GCC compressed the LTO streams of an object (`lto_compression`).
public enum LTOCompression: Hashable, Sendable {
    case zlib
    case zstd
    case unknown(UInt16)
}

/// The GCC LTO bytecode version, `LTO_major_version.LTO_minor_version` (12.0 for GCC 12).
public struct LTOVersion: Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }
    public var description: String { "\(major).\(minor)" }
}

/// The contents of a `.gnu.lto_.lto.ID` section (`struct lto_section`, 8 bytes).
public struct LTOSectionHeader: Hashable, Sendable {
    public let version: LTOVersion
    /// True for slim objects (no regular code besides the LTO streams).
    public let isSlim: Bool
    public let compression: LTOCompression

    /// Decodes the header; `path` is used in errors.
    public init(_ bytes: UnsafeRawBufferPointer, path: String) throws(ObjectError) {
        let reader = ByteReader(bytes)
        guard bytes.count >= 8 else {
            throw ObjectError(path: path, kind: .malformed,
                              detail: "LTO header section is \(bytes.count) bytes, expected at least 8")
        }
        let major = Int16(bitPattern: reader.u16(0)!)
        let minor = Int16(bitPattern: reader.u16(2)!)
        self.version = LTOVersion(major: Int(major), minor: Int(minor))
        self.isSlim = reader.u8(4)! != 0
        switch reader.u16(6)! {
        case 0: self.compression = .zlib
        case 1: self.compression = .zstd
        case let other: self.compression = .unknown(other)
        }
    }
}
