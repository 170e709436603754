// LTOGCCBackend: the provenance entries kept beside canonical cache entries, and what a
// hit reused only thanks to its key's form.
import LTOGCC
import LTOHash
import LTOStorage
import LTOSystem
#if canImport(Glibc)
import Glibc
#endif

/// Reads and writes the provenance of canonical entries (see `Provenance`).
struct ProvenanceStore: Sendable {
    let context: BackendContext

    /// The provenance recorded beside the canonical entry `key`, if it is still cached.
    func provenance(of key: Digest) -> Provenance? {
        guard let bytes = context.storage.smallPayload(CacheKey(Provenance.key(for: key))),
              let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return Provenance(encoded: text)
    }

    /// Records what a canonical entry was built from (`replacing` the record of the entry it
    /// replaces); in audit mode also keeps the partition, so that a mismatch can be reported
    /// with both partitions.
    func record(_ key: JobKey, keying: PartitionKeying, partition: String, replacing: Bool = false) {
        guard let canonical = keying.canonical else { return }
        let path = context.scratch.newPath("provenance")
        defer { unlink(path) }
        var record = Provenance(bytesDigest: keying.bytesDigest, orders: canonical.orders)
        if key.form == .withoutLocations, case .success(let free)? = keying.withoutLocations {
            record = Provenance(bytesDigest: keying.bytesDigest, orders: canonical.orders, exactDigest: free.exactDigest, positions: free.positions)
        }
        do {
            if replacing {
                try context.storage.remove(CacheKey(Provenance.key(for: key.key)))
                try context.storage.remove(CacheKey(Provenance.partitionKey(for: key.key)))
            }
            try writeFile(path, Array(record.encoded.utf8))
            try context.storage.store(CacheKey(Provenance.key(for: key.key)), from: path, info: EntryInfo(buildSeconds: 0, target: "(provenance)"))
            if context.configuration.auditFraction > 0 {
                try context.storage.store(CacheKey(Provenance.partitionKey(for: key.key)), from: partition,
                                          info: EntryInfo(buildSeconds: 0, target: "(audit partition)"))
            }
        } catch {
            context.log.warning("provenance of \(key.key) not recorded: \(error)")
        }
    }

    /// What a hit under `key` reused only thanks to its key's form, against the partition the
    /// cached object was built from: renumbered symbols, moved source locations, or neither
    /// (the same bytes, or nothing recorded).
    func origin(of key: JobKey, keying: PartitionKeying) -> HitOrigin {
        guard key.form == .canonical || key.form == .withoutLocations, let canonical = keying.canonical,
              let provenance = provenance(of: key.key), provenance.bytesDigest != keying.bytesDigest
        else { return HitOrigin(renumbering: nil, moved: nil) }
        var moved: MovedLocations?
        if key.form == .withoutLocations, case .success(let free)? = keying.withoutLocations {
            moved = MovedLocations(cached: provenance, currentExact: free.exactDigest, currentPositions: free.positions, abstracted: free.abstracted)
        }
        return HitOrigin(renumbering: Renumbering(cached: provenance.orders, current: canonical), moved: moved)
    }
}

extension ProvenanceStore {
    /// Whether the partition of a hit under `key` has exactly the locations of the one its
    /// object was built from: always for keys with exact locations; for keys without them,
    /// only when the provenance recorded says so. Entries that printed diagnostics are reused
    /// only then, since their messages name source lines.
    func locationsMatch(of key: JobKey, keying: PartitionKeying) -> Bool {
        guard key.form == .withoutLocations else { return true }
        guard case .success(let free)? = keying.withoutLocations, let provenance = provenance(of: key.key) else { return false }
        return provenance.exactDigest == free.exactDigest
    }
}

/// What a hit reused only thanks to its key's form.
struct HitOrigin {
    let renumbering: Renumbering?
    let moved: MovedLocations?

    /// The note `explain` shows for the partition; nil for a plain hit.
    var note: String? {
        let notes = [moved?.summary, renumbering?.summary].compactMap { $0 }
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }

    /// Why the hit is worth auditing.
    var auditReasons: Set<AuditReason> {
        var reasons: Set<AuditReason> = []
        if renumbering != nil { reasons.insert(.canonicalOnly) }
        if moved != nil { reasons.insert(.locationOnly) }
        return reasons
    }
}
