import Synchronization

/// Why a link's results could not be stored in the cache (a full disk, a refused path),
/// kept per session so that the user gets one warning per link rather than one per partition.
final class StoreWarnings: Sendable {
    private let first = Mutex<[String: String]>([:])
    /// A session closes (and its warning goes) before a late prefetch could add one; the
    /// bound keeps such leftovers from growing without limit.
    private static let limit = 1024

    /// Records `message` for `session`; true if it is the session's first.
    func note(_ message: String, session: String) -> Bool {
        first.withLock { warnings in
            guard warnings[session] == nil, warnings.count < Self.limit else { return false }
            warnings[session] = message
            return true
        }
    }

    /// The warning to show when the session closes, removed from the record.
    func take(session: String) -> String? {
        first.withLock { $0.removeValue(forKey: session) }
    }
}
