// LTOObject owns reading ELF objects and GNU `ar` archives: the section directory, archive
// members and the bounded byte reads behind them. What the sections of a toolchain mean
// (GCC's `.gnu.lto_*` grammar) belongs to that toolchain's module. Parsing is pure and
// bounds-checked; only ObjectReader.swift touches the file system.

/// An error reading an object file or archive, with a message a user can act on.
///
/// `description` is `"<path>: <detail>"`, e.g. `"a.o: not an ELF file"`.
public struct ObjectError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, coarsely, so callers can branch without parsing messages.
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened, stat'ed or read.
        case io
        /// The file is larger than the caller's limit.
        case tooLarge
        /// The bytes are not an ELF file (bad magic) or not an archive.
        case wrongFormat
        /// A valid ELF or archive variant this module does not read (ELF32, big-endian, thin archives).
        case unsupported
        /// The file ends before a structure it describes.
        case truncated
        /// A field is out of range or inconsistent.
        case malformed
        /// No archive member starts at the requested offset.
        case noSuchMember
    }

    public let path: String
    public let kind: Kind
    public let detail: String

    public init(path: String, kind: Kind, detail: String) {
        self.path = path
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(path): \(detail)" }
}

/// Formats a value as `0x` + lowercase hex, for messages.
public func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
