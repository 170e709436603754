import Foundation
import LTOCache
import LTOGCC
import LTOHash
import LTOObject

/// A partition's digests: by its bytes (normalized, or raw when its layout is unusual)
/// and, where the LTO format is one ltod has verified, canonical (orders replaced by ranks).
struct PartitionKeying: Sendable {
    let bytesDigest: Digest
    let bytesForm: PartitionForm
    let canonical: CanonicalPartition?
    /// Why there is no canonical digest.
    let canonicalFailure: String?

    /// With `canonical` false (canonical keys turned off), the stream is not parsed at all.
    init(_ bytes: [UInt8], canonical wanted: Bool) {
        if let d = normalizedPartitionDigest(of: bytes) {
            (bytesDigest, bytesForm) = (d, .normalized)
        } else {
            (bytesDigest, bytesForm) = (Digest.of(bytes), .raw)
        }
        guard wanted else {
            (canonical, canonicalFailure) = (nil, "canonical keys are turned off")
            return
        }
        switch canonicalPartition(of: bytes) {
        case .success(let c): (canonical, canonicalFailure) = (c, nil)
        case .failure(let why): (canonical, canonicalFailure) = (nil, why.description)
        }
    }
}

/// What a canonical cache entry records about the partition it was built from, so that a
/// later hit can tell whether it was reused only thanks to canonicalization, and how the
/// symbols were renumbered. Kept as a small cache entry of its own beside the object.
struct Provenance: Equatable, Sendable {
    let bytesDigest: Digest
    let orders: [Int]

    /// The cache key of the provenance of the object stored under `key`.
    static func key(for key: Digest) -> CacheKey {
        let h = Hasher128()
        h.label("ltod.provenance.v1")
        h.add(key)
        return CacheKey(h.finish())
    }

    /// The cache key of the partition file kept (in audit mode) for the object under `key`.
    static func partitionKey(for key: Digest) -> CacheKey {
        let h = Hasher128()
        h.label("ltod.audit-partition.v1")
        h.add(key)
        return CacheKey(h.finish())
    }

    var encoded: String {
        "bytes \(bytesDigest)\norders \(orders.map(String.init).joined(separator: ","))\n"
    }

    init(bytesDigest: Digest, orders: [Int]) {
        self.bytesDigest = bytesDigest
        self.orders = orders
    }

    init?(encoded text: String) {
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
struct Renumbering: Sendable {
    /// Symbols (of all the partition's orders) whose number differs.
    let renumbered: Int
    let total: Int
    /// Smallest and largest change of a renumbered symbol's order.
    let shifts: ClosedRange<Int>
    /// Up to three function bodies that were renumbered: name, old order, new order.
    let examples: [(symbol: String, from: Int, to: Int)]

    init?(cached old: [Int], current partition: CanonicalPartition) {
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

    var summary: String {
        let by = shifts.lowerBound == shifts.upperBound ? "by \(signed(shifts.lowerBound))" : "by \(signed(shifts.lowerBound)) to \(signed(shifts.upperBound))"
        var text = "reused only thanks to canonical keys: \(renumbered) of \(total) symbol numbers shifted \(by)"
        if !examples.isEmpty { text += " (" + examples.map { "\($0.symbol) \($0.from)→\($0.to)" }.joined(separator: ", ") + ")" }
        return text
    }

    private func signed(_ n: Int) -> String { n > 0 ? "+\(n)" : String(n) }
}
