// LTOGCC: the grammar of GCC's `.gnu.lto_*` section names.
//
// GCC 12 (lto_get_section_name in gcc/lto-streamer.cc) names LTO sections
//   ".gnu.lto_" + "." + KIND + "." + ID        e.g. .gnu.lto_.decls.4b642512c96696b5
//   ".gnu.lto_" + SYMBOL + "." + ORDER + "." + ID   e.g. .gnu.lto_main.16.4b642512c96696b5
//   ".gnu.lto_.opts"                           (never has an ID)
// where ID is a 64-bit number printed with "%lx" (lowercase hex, no leading zeros),
// random per LGEN compilation and per WPA run, and ORDER is the symbol's order
// printed with "%d". SYMBOL is the assembler name without a leading '*'; it may
// contain dots (foo.part.0, bar.lto_priv.0).
import LTOObject

/// A parsed `.gnu.lto_*` section name.
public struct LTOSectionName: Hashable, Sendable {
    /// What the section holds.
    public enum Kind: Hashable, Sendable {
        /// A per-file stream such as "decls", "symtab", "ext_symtab", "opts", "lto",
        /// "ipa_fn_summary" (spelled "inline" in GCC 12), "jmpfuncs", "ipa_modref".
        case named(String)
        /// The GIMPLE body of the function (or variable initializer) `symbol`.
        case functionBody(symbol: String, order: Int)
    }

    public static let prefix = ".gnu.lto_"
    /// The only LTO section GCC writes without an ID suffix.
    public static let optionsSectionName = ".gnu.lto_.opts"

    public let kind: Kind
    /// The random per-file ID from the suffix; nil only for `.gnu.lto_.opts`.
    public let id: UInt64?
    /// The full name with the ".ID" suffix removed (e.g. ".gnu.lto_main.16").
    public let normalized: String

    /// Parses `name`; nil when it is not a `.gnu.lto_*` name in the form GCC writes.
    public init?(_ name: String) {
        let utf8 = Array(name.utf8)
        let prefix = Array(Self.prefix.utf8)
        guard utf8.count > prefix.count, utf8.starts(with: prefix) else { return nil }
        if name == Self.optionsSectionName {
            self.kind = .named("opts")
            self.id = nil
            self.normalized = name
            return
        }
        guard let split = splitLTOSuffix(utf8[...]), split.baseLength >= prefix.count else { return nil }
        let body = utf8[prefix.count..<split.baseLength]
        guard let kind = Self.parseKind(body) else { return nil }
        self.kind = kind
        self.id = split.id
        self.normalized = String(decoding: utf8[..<split.baseLength], as: UTF8.self)
    }

    /// Parses what lies between the prefix and the ID suffix.
    private static func parseKind(_ body: ArraySlice<UInt8>) -> Kind? {
        let dot = UInt8(ascii: ".")
        if body.first == dot {
            let rest = body.dropFirst()
            if !rest.isEmpty, !rest.contains(dot) { return .named(String(decoding: rest, as: UTF8.self)) }
        }
        guard let lastDot = body.lastIndex(of: dot) else { return nil }
        let symbol = body[body.startIndex..<lastDot]
        let digits = body[(lastDot + 1)...]
        guard !symbol.isEmpty, !digits.isEmpty, digits.count <= 18,
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let order = Int(String(decoding: digits, as: UTF8.self))
        else { return nil }
        return .functionBody(symbol: String(decoding: symbol, as: UTF8.self), order: order)
    }
}

/// Splits a name ending in "." + ID, where ID is 1 to 16 lowercase hex digits with no
/// leading zero (or exactly "0"), the form "%lx" prints. Returns the length of the
/// name without the suffix and the ID; nil for any other ending.
func splitLTOSuffix<C: BidirectionalCollection<UInt8>>(_ name: C) -> (baseLength: Int, id: UInt64)? where C.Index == Int {
    guard let dot = name.lastIndex(of: UInt8(ascii: ".")) else { return nil }
    let digits = name[(dot + 1)...]
    guard (1...16).contains(digits.count) else { return nil }
    if digits.count > 1, digits.first == UInt8(ascii: "0") { return nil }
    var id: UInt64 = 0
    for c in digits {
        let value: UInt8
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = c - UInt8(ascii: "a") + 10
        default: return nil
        }
        id = id << 4 | UInt64(value)
    }
    return (dot - name.startIndex, id)
}
