// LTOGCC: what changed in a link's inputs since the target's previous link, at function
// granularity, from the per-section digests of the objects (GCC's random section IDs removed).
import LTOObject

/// One input as ltod last read it: its name (`a.o`, or `libx.a@0x1f0` for an archive
/// member) and its parsed summary (nil when it could not be read as an object).
public struct InputObject: Sendable {
    public let name: String
    public let summary: ObjectSummary?

    public init(name: String, summary: ObjectSummary?) {
        self.name = name
        self.summary = summary
    }

    /// The object's section digests by normalized name.
    var sections: [String: LTOSectionDigest] {
        Dictionary((summary?.sectionDigests ?? []).map { ($0.normalizedName, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// What changed in one input object since the target's previous link.
public struct InputChange: Equatable, Sendable {
    public let path: String
    /// Function bodies (or variable initializers) whose GIMPLE changed, appeared or disappeared.
    public let functions: [String]
    /// Per-file streams that changed: declarations, symbol table, IPA summaries (`ipa_fn_summary`, ...).
    public let streams: [String]
    public let added: Bool
    public let removed: Bool
}

public enum InputChanges {
    /// Compares two links' inputs section by section.
    public static func between(_ previous: [InputObject], _ current: [InputObject]) -> [InputChange] {
        let before = Dictionary(previous.map { ($0.name, $0.sections) }, uniquingKeysWith: { a, _ in a })
        let now = Dictionary(current.map { ($0.name, $0.sections) }, uniquingKeysWith: { a, _ in a })
        var out: [InputChange] = []
        for input in current {
            if let previousSections = before[input.name] {
                if let change = changed(input.name, from: previousSections, to: input.sections) { out.append(change) }
            } else {
                out.append(InputChange(path: input.name, functions: bodies(input.sections).sorted(), streams: [], added: true, removed: false))
            }
        }
        for name in before.keys.sorted() where now[name] == nil {
            out.append(InputChange(path: name, functions: [], streams: [], added: false, removed: true))
        }
        return out
    }

    /// Bodies are compared by symbol: their section names also carry the symbol's order,
    /// which shifts for every function after one added earlier in the same file.
    private static func changed(_ path: String, from previous: [String: LTOSectionDigest], to current: [String: LTOSectionDigest]) -> InputChange? {
        let (old, new) = (bySymbol(previous), bySymbol(current))
        let differing = Set(old.keys).union(new.keys).filter { old[$0]?.digest != new[$0]?.digest }.sorted()
        guard !differing.isEmpty else { return nil }
        var functions: [String] = [], streams: [String] = []
        for name in differing {
            switch (new[name] ?? old[name])?.kind {
            case .functionBody(let symbol, _): functions.append(symbol)
            case .named(let stream): streams.append(stream)
            case nil: streams.append(name)
            }
        }
        return InputChange(path: path, functions: functions, streams: streams, added: false, removed: false)
    }

    /// Sections keyed by what they hold: the symbol for a function body, else the name.
    private static func bySymbol(_ sections: [String: LTOSectionDigest]) -> [String: LTOSectionDigest] {
        Dictionary(sections.map { name, section in
            if case .functionBody(let symbol, _)? = section.kind { return ("body " + symbol, section) }
            return (name, section)
        }, uniquingKeysWith: { a, _ in a })
    }

    private static func bodies(_ sections: [String: LTOSectionDigest]) -> [String] {
        sections.values.compactMap { s in
            if case .functionBody(let symbol, _)? = s.kind { return symbol }
            return nil
        }
    }
}
