import Foundation
import LTOGCC
import LTOHash
import LTOObject
import Synchronization

/// What changed in one input object since the target's previous link, at function granularity.
struct InputChange: Sendable {
    let path: String
    /// Function bodies (or variable initializers) whose GIMPLE changed, appeared or disappeared.
    let functions: [String]
    /// Per-file streams that changed: declarations, symbol table, IPA summaries (`ipa_fn_summary`, `jmpfuncs`, ...).
    let streams: [String]
    let added: Bool
    let removed: Bool
}

/// One input as ltod last read it: its parsed summary (ELF directory, LTO symbols,
/// per-section digests with GCC's random IDs removed).
struct InputState: Sendable {
    let name: String
    let summary: ObjectSummary?
    var sections: [String: LTOSectionDigest] {
        Dictionary((summary?.sectionDigests ?? []).map { ($0.normalizedName, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// What the daemon remembers about each LTO input object, keyed by its file stamp
/// (device, inode, size, mtime): an unchanged object is never read again.
final class ObjectMemo: Sendable {
    private let stats: Statistics
    private let known = Mutex<[String: InputState]>([:])

    init(stats: Statistics) { self.stats = stats }

    /// The inputs named in lto-wrapper's arguments, read only where they changed since last seen
    /// (an input is unchanged while its file has the identity it was read under).
    func inputs(wrapperArguments: [String], directory: String) -> [InputState] {
        var parsed = 0.0, reused = 0.0
        var out: [InputState] = []
        for input in Self.inputNames(wrapperArguments, directory: directory) {
            if let memo = known.withLock({ $0[input.name] }), let seen = memo.summary?.identity, FileIdentity(path: input.file) == seen {
                reused += 1
                out.append(memo)
                continue
            }
            parsed += 1
            let summary = input.member.map { try? readArchiveMember(archivePath: input.file, dataOffset: $0) }
                ?? (try? readObject(path: input.file))
            let state = InputState(name: input.name, summary: summary)
            known.withLock { $0[input.name] = state }
            out.append(state)
        }
        stats.add(["inputs.parsed": parsed, "inputs.reused": reused])
        return out
    }

    /// The objects lto-wrapper was given: `a.o`, or `libx.a@0x1f0` for an archive member.
    static func inputNames(_ args: [String], directory: String) -> [(name: String, file: String, member: Int?)] {
        let absolute = { (p: String) in p.hasPrefix("/") ? p : directory + "/" + p }
        return ResponseFile.expand(args) { readText(absolute($0)) }
            .filter { !$0.hasPrefix("-") }
            .map { arg in
                if let ref = ArchiveMemberReference(parsing: arg) {
                    let file = absolute(ref.archivePath)
                    return (file + "@0x" + String(ref.dataOffset, radix: 16), file, ref.dataOffset)
                }
                return (absolute(arg), absolute(arg), nil)
            }
    }

    /// Sections keyed by what they hold: the symbol for a function body, else the name.
    private static func bySymbol(_ sections: [String: LTOSectionDigest]) -> [String: LTOSectionDigest] {
        Dictionary(sections.map { name, section in
            if case .functionBody(let symbol, _)? = section.kind { return ("body " + symbol, section) }
            return (name, section)
        }, uniquingKeysWith: { a, _ in a })
    }

    /// Compares two links' inputs section by section.
    static func changes(from previous: [InputState], to current: [InputState]) -> [InputChange] {
        let before = Dictionary(previous.map { ($0.name, $0.sections) }, uniquingKeysWith: { a, _ in a })
        let now = Dictionary(current.map { ($0.name, $0.sections) }, uniquingKeysWith: { a, _ in a })
        var out: [InputChange] = []
        for input in current {
            guard let previousSections = before[input.name] else {
                let bodies = input.sections.values.compactMap { s -> String? in
                    if case .functionBody(let symbol, _)? = s.kind { return symbol }
                    return nil
                }
                out.append(InputChange(path: input.name, functions: bodies.sorted(), streams: [], added: true, removed: false))
                continue
            }
            // Bodies are compared by symbol: their section names also carry the symbol's order,
            // which shifts for every function after one added earlier in the same file.
            let (old, new) = (bySymbol(previousSections), bySymbol(input.sections))
            let differing = Set(old.keys).union(new.keys).filter { old[$0]?.digest != new[$0]?.digest }.sorted()
            guard !differing.isEmpty else { continue }
            var functions: [String] = [], streams: [String] = []
            for name in differing {
                switch (new[name] ?? old[name])?.kind {
                case .functionBody(let symbol, _): functions.append(symbol)
                case .named(let stream): streams.append(stream)
                case nil: streams.append(name)
                }
            }
            out.append(InputChange(path: input.name, functions: functions, streams: streams, added: false, removed: false))
        }
        for name in before.keys.sorted() where now[name] == nil {
            out.append(InputChange(path: name, functions: [], streams: [], added: false, removed: true))
        }
        return out
    }
}
