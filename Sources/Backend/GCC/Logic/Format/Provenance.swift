// LTOGCC: what a canonical cache entry records about the partition it was built from, and
// how a later partition reused through the canonical key was renumbered against it or had
// its source locations moved.
import LTOConfig
import LTOHash

/// What the partition a canonical entry was built from looked like, so that a later hit can
/// tell whether it was reused only thanks to canonicalization: its bytes digest and orders
/// and, for an entry keyed without locations, its digest with exact locations and the
/// positions of its abstracted locations per source file. Kept as a small cache entry of its
/// own beside the object.
public struct Provenance: Equatable, Sendable {
    public let bytesDigest: Digest
    public let orders: [Int]
    /// The canonical digest with exact locations (entries keyed without locations only).
    public let exactDigest: Digest?
    /// Per source file, a digest of where its abstracted locations were.
    public let positions: [String: Digest]

    /// The key of the provenance of the object stored under `key`.
    public static func key(for key: Digest) -> Digest {
        let h = Hasher128()
        h.label("ltod.provenance.v1")
        h.add(key)
        return h.finish()
    }

    /// The key of the partition file kept (in audit mode) for the object under `key`.
    public static func partitionKey(for key: Digest) -> Digest {
        let h = Hasher128()
        h.label("ltod.audit-partition.v1")
        h.add(key)
        return h.finish()
    }

    /// Lines `bytes D`, `orders N,N,...`, then, for an entry keyed without locations,
    /// `exact D` and one `position D FILE` per source file (file names with a line break are
    /// left out: they only serve explanations).
    public var encoded: String {
        var text = "bytes \(bytesDigest)\norders \(orders.map(String.init).joined(separator: ","))\n"
        if let exactDigest { text += "exact \(exactDigest)\n" }
        for (file, digest) in positions.sorted(by: { $0.key < $1.key }) where !file.contains("\n") {
            text += "position \(digest) \(file)\n"
        }
        return text
    }

    public init(bytesDigest: Digest, orders: [Int], exactDigest: Digest? = nil, positions: [String: Digest] = [:]) {
        self.bytesDigest = bytesDigest
        self.orders = orders
        self.exactDigest = exactDigest
        self.positions = positions
    }

    public init?(encoded text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.count >= 2, lines[0].hasPrefix("bytes "), lines[1].hasPrefix("orders "),
              let digest = Digest(hex: String(lines[0].dropFirst(6)))
        else { return nil }
        let list = lines[1].dropFirst(7)
        let orders = list.isEmpty ? [] : list.split(separator: ",").compactMap { Int($0) }
        guard list.isEmpty || orders.count == list.split(separator: ",").count else { return nil }
        var exact: Digest?
        var positions: [String: Digest] = [:]
        for line in lines.dropFirst(2) {
            if line.hasPrefix("exact "), exact == nil, let d = Digest(hex: String(line.dropFirst(6))) {
                exact = d
                continue
            }
            let words = line.split(separator: " ", maxSplits: 2)
            guard words.count == 3, words[0] == "position", let d = Digest(hex: String(words[1])) else { return nil }
            positions[String(words[2])] = d
        }
        self.init(bytesDigest: digest, orders: orders, exactDigest: exact, positions: positions)
    }
}

/// The source files whose locations moved between the partition a hit's object was built
/// from and the one reused (both keyed without locations), with what was abstracted there.
public struct MovedLocations: Sendable, Equatable {
    /// Per moved file: the declarations and statements whose locations were abstracted.
    public let files: [(name: String, abstracted: AbstractedLocations)]

    /// Nil when nothing moved (the exact digests are equal) or the cached side is unrecorded.
    public init?(cached: Provenance, currentExact: Digest, currentPositions: [String: Digest],
                 abstracted: [String: AbstractedLocations]) {
        guard let cachedExact = cached.exactDigest, cachedExact != currentExact else { return nil }
        let names = Set(cached.positions.keys).union(currentPositions.keys).filter { cached.positions[$0] != currentPositions[$0] }
        files = names.sorted().map { ($0, abstracted[$0] ?? AbstractedLocations()) }
    }

    public var summary: String {
        guard !files.isEmpty else { return "reused: only source locations differ" }
        let parts = files.prefix(4).map { file -> String in
            var counts: [String] = []
            if file.abstracted.declarations > 0 { counts.append("\(file.abstracted.declarations) " + plural(file.abstracted.declarations, "declaration")) }
            if file.abstracted.statements > 0 { counts.append("\(file.abstracted.statements) " + plural(file.abstracted.statements, "statement")) }
            return counts.isEmpty ? file.name : "\(file.name): " + counts.joined(separator: ", ")
        }
        let more = files.count > 4 ? ", and \(files.count - 4) more files" : ""
        return "reused: only line numbers moved (" + parts.joined(separator: "; ") + more + ")"
    }

    public static func == (a: MovedLocations, b: MovedLocations) -> Bool {
        a.files.map(\.name) == b.files.map(\.name) && a.files.map(\.abstracted) == b.files.map(\.abstracted)
    }
}

/// How a partition reused through its canonical key was renumbered relative to the one
/// whose LTRANS output was cached.
public struct Renumbering: Sendable {
    /// Symbols (of all the partition's orders) whose number differs.
    public let renumbered: Int
    public let total: Int
    /// Smallest and largest change of a renumbered symbol's order.
    public let shifts: ClosedRange<Int>
    /// Up to three function bodies that were renumbered: name, old order, new order.
    public let examples: [(symbol: String, from: Int, to: Int)]

    public init?(cached old: [Int], current partition: CanonicalPartition) {
        let new = partition.orders
        guard old.count == new.count else { return nil }
        let moved = zip(old, new).filter { $0 != $1 }.map { $1 - $0 }
        guard let low = moved.min(), let high = moved.max() else { return nil }
        renumbered = moved.count
        total = new.count
        shifts = low...high
        let rank = Dictionary(uniqueKeysWithValues: new.enumerated().map { ($1, $0) })
        examples = partition.bodies.compactMap { body in
            guard let r = rank[body.order], old[r] != body.order else { return nil }
            return (body.symbol, old[r], body.order)
        }.prefix(3).map { $0 }
    }

    public var summary: String {
        let by = shifts.lowerBound == shifts.upperBound ? "by \(signed(shifts.lowerBound))" : "by \(signed(shifts.lowerBound)) to \(signed(shifts.upperBound))"
        var text = "reused only thanks to canonical keys: \(renumbered) of \(total) symbol numbers shifted \(by)"
        if !examples.isEmpty { text += " (" + examples.map { "\($0.symbol) \($0.from)→\($0.to)" }.joined(separator: ", ") + ")" }
        return text
    }

    private func signed(_ n: Int) -> String { n > 0 ? "+\(n)" : String(n) }
}
