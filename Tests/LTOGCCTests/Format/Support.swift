// LTOGCCTests: reading objects as the GCC backend does, and looking at their function bodies.
import LTOGCC
import LTOObject

/// Reads and summarizes the object file at `path`.
func readObject(path: String) throws -> ObjectSummary {
    let (bytes, identity) = try readFile(path: path)
    return try ObjectSummary(bytes: bytes, path: path, identity: identity)
}

/// Names of the sections of an object that hold function bodies, mapped to their digests.
func functionBodyDigests(_ summary: ObjectSummary) -> [String: String] {
    var result: [String: String] = [:]
    for entry in summary.sectionDigests {
        if case .functionBody(let symbol, _) = entry.kind {
            result[symbol] = entry.digest.description
        }
    }
    return result
}

