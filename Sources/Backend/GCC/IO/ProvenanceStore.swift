// LTOGCCBackend: the provenance entries kept beside canonical cache entries.
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

    /// Records what a canonical entry was built from; in audit mode also keeps the partition,
    /// so that a mismatch can be reported with both partitions.
    func record(_ key: Digest, keying: PartitionKeying, partition: String) {
        guard let canonical = keying.canonical else { return }
        let path = context.scratch.newPath("provenance")
        defer { unlink(path) }
        let record = Provenance(bytesDigest: keying.bytesDigest, orders: canonical.orders)
        do {
            try writeFile(path, Array(record.encoded.utf8))
            try context.storage.store(CacheKey(Provenance.key(for: key)), from: path, info: EntryInfo(buildSeconds: 0, target: "(provenance)"))
            if context.configuration.auditFraction > 0 {
                try context.storage.store(CacheKey(Provenance.partitionKey(for: key)), from: partition,
                                          info: EntryInfo(buildSeconds: 0, target: "(audit partition)"))
            }
        } catch {
            context.log.warning("provenance of \(key) not recorded: \(error)")
        }
    }

    /// How the partition was renumbered against the one the cached object was built from;
    /// nil when their bytes were the same (a bytes key would have hit too) or unrecorded.
    func renumbering(of key: Digest, keying: PartitionKeying) -> Renumbering? {
        guard let canonical = keying.canonical, let provenance = provenance(of: key),
              provenance.bytesDigest != keying.bytesDigest
        else { return nil }
        return Renumbering(cached: provenance.orders, current: canonical)
    }
}
