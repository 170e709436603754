// LTOGCCBackend: partition digests with every source location abstracted, the digest of keys
// under `KeyScope.withoutLocations`: the partition's tree and GIMPLE streams read with
// LTOGCC's stream reader, and the reading remembered by the partition's bytes digest, so an
// unchanged partition is read once.
import LTOBackend
import LTOGCC
import LTOHash
import LTOObject
import Synchronization

/// A partition digested with every source location abstracted.
struct LocationFreeDigest: Sendable {
    let digest: Digest
    /// The canonical digest with exact locations, recorded so a hit can say what moved.
    let exactDigest: Digest
    /// Per source file, a digest of where its abstracted locations are.
    let positions: [String: Digest]
    /// Per source file, the declarations and statements whose locations were abstracted.
    let abstracted: [String: AbstractedLocations]
}

/// Why a partition has no location-free digest: it is keyed with exact locations.
struct LocationKeyRefusal: Error, Sendable, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// Makes location-free digests (see the file header); remembers the last 8192 readings.
final class LocationDigester: Sendable {
    private let memo = Mutex(RecentlyUsed<Digest, Result<LocationFreeDigest, LocationKeyRefusal>>(capacity: 8192))

    /// The location-free digest of `bytes`, whose canonical digest with exact locations is `exact`.
    func digest(_ bytes: [UInt8], bytesDigest: Digest, exact: Digest) -> Result<LocationFreeDigest, LocationKeyRefusal> {
        if let known = memo.withLock({ $0.use(bytesDigest) }) { return known }
        let result = bytes.withUnsafeBytes { Self.read($0, exact: exact) }
        _ = memo.withLock { $0.insert(result, for: bytesDigest) }
        return result
    }

    /// Reads every stream with locations abstracted; refuses a partition whose code can
    /// depend on its locations (a function at -O0, a sanitizer check) or that the reader
    /// does not fully understand.
    private static func read(_ raw: UnsafeRawBufferPointer, exact: Digest) -> Result<LocationFreeDigest, LocationKeyRefusal> {
        guard let elf = try? ELFFile(bytes: raw, path: "<partition>") else { return .failure(LocationKeyRefusal(reason: "not an ELF file")) }
        let inflater = ZstdInflater()
        let streams: CanonicalStreams
        switch canonicalStreams(elf: elf, bytes: raw, policy: .abstractAll, decompress: inflater.inflate) {
        case .success(let s): streams = s
        case .failure(let why): return .failure(LocationKeyRefusal(reason: "stream not read: \(why)"))
        }
        if let dependence = streams.locationDependence {
            return .failure(LocationKeyRefusal(reason: "its code can depend on locations: \(dependence)"))
        }
        switch canonicalPartition(of: raw, streams: streams) {
        case .success(let c):
            return .success(LocationFreeDigest(digest: c.digest, exactDigest: exact, positions: streams.positionsByFile,
                                               abstracted: streams.abstractedByFile))
        case .failure(let why):
            return .failure(LocationKeyRefusal(reason: "\(why)"))
        }
    }
}
