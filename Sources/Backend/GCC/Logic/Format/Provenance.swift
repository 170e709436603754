// LTOGCC: what a canonical cache entry records about the partition it was built from, and
// how a later partition reused through the canonical key was renumbered against it.
import LTOHash

/// The bytes digest and orders of the partition a canonical entry was built from, so that a
/// later hit can tell whether it was reused only thanks to canonicalization. Kept as a small
/// cache entry of its own beside the object.
public struct Provenance: Equatable, Sendable {
    public let bytesDigest: Digest
    public let orders: [Int]

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

    public var encoded: String {
        "bytes \(bytesDigest)\norders \(orders.map(String.init).joined(separator: ","))\n"
    }

    public init(bytesDigest: Digest, orders: [Int]) {
        self.bytesDigest = bytesDigest
        self.orders = orders
    }

    public init?(encoded text: String) {
        let lines = text.split(separator: "\n")
        guard lines.count == 2, lines[0].hasPrefix("bytes "), lines[1].hasPrefix("orders "),
              let digest = Digest(hex: String(lines[0].dropFirst(6)))
        else { return nil }
        let list = lines[1].dropFirst(7)
        let orders = list.isEmpty ? [] : list.split(separator: ",").compactMap { Int($0) }
        guard list.isEmpty || orders.count == list.split(separator: ",").count else { return nil }
        self.init(bytesDigest: digest, orders: orders)
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
