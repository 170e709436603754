// LTOBackend: one link from the wrapper's open to its close (with its job slots and its
// cancellation), and the registry of open sessions and of the last link of the targets
// used most recently.
#if canImport(Glibc)
import Glibc
#endif
import LTOHash
import Synchronization

/// What happened to one partition's job in a link.
public struct PartitionOutcome: Sendable {
    public enum Kind: String, Sendable { case reused, rebuilt, uncached }
    /// The partition's position in WPA's output list; nil when not known from this link.
    public let index: Int?
    public let key: Digest?
    public let kind: Kind
    /// Build time (for a reused partition: the recorded build time it saved).
    public let seconds: Double
    /// For uncached jobs, why; for rebuilt ones, how (e.g. not stored, and why); for
    /// reused ones, why a cached entry built from other bytes applied.
    public let note: String?

    public init(index: Int?, key: Digest?, kind: Kind, seconds: Double, note: String?) {
        self.index = index
        self.key = key
        self.kind = kind
        self.seconds = seconds
        self.note = note
    }
}

/// What a link session records; `Detail` is the backend's own per-link state.
public struct LinkRecord<Detail: Sendable>: Sendable {
    public var outcomes: [PartitionOutcome] = []
    /// Partitions WPA wrote, by index, with the functions each holds.
    public var partitions: [Int: [String]] = [:]
    public var wpaSeconds = 0.0
    public var exitStatus: Int32?
    /// The first reason this link's results could not be stored, told to the user at close.
    public var storeWarning: String?
    public var detail: Detail
}

/// One link: from the wrapper's `openSession` to its `closeSession`. Its compiler processes
/// run on its job slots (make's tokens, when its shim handed the jobserver over) and stop when
/// it is cancelled (its shim went away) unless another link waits for them.
public final class LinkSession<Detail: Sendable>: JobOwner {
    public let id: String
    /// The link's output, absolute: what `explain TARGET` names.
    public let target: String
    public let directory: String
    /// Seconds since the Unix epoch.
    public let started: Double
    public let slots: JobSlots
    public let cancellation = Cancellation()
    private let state: Mutex<LinkRecord<Detail>>

    public init(id: String, target: String, directory: String, jobserver: Jobserver? = nil, detail: Detail) {
        self.id = id
        self.target = target
        self.directory = directory
        slots = JobSlots(jobserver: jobserver)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        started = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        state = Mutex(LinkRecord(detail: detail))
    }

    /// Reads or changes the record under the session's lock.
    public func withRecord<T>(_ body: (inout LinkRecord<Detail>) -> T) -> T {
        state.withLock { body(&$0) }
    }

    public func record(_ outcome: PartitionOutcome) { withRecord { $0.outcomes.append(outcome) } }

    /// Keeps `message` as the link's store warning unless it already has one; true if kept.
    public func noteStoreWarning(_ message: String) -> Bool {
        withRecord { r in
            guard r.storeWarning == nil else { return false }
            r.storeWarning = message
            return true
        }
    }

    public var snapshot: LinkRecord<Detail> { withRecord { $0 } }
}

/// The open sessions by id, and the last finished link of each of the `keepingLast` targets
/// linked most recently (older ones are forgotten, so memory follows use, not history).
public final class SessionRegistry<Detail: Sendable>: Sendable {
    private let open = Mutex<[String: LinkSession<Detail>]>([:])
    private let last: Mutex<RecentlyUsed<String, LinkSession<Detail>>>

    public init(keepingLast targets: Int) { last = Mutex(RecentlyUsed(capacity: targets)) }

    public func add(_ session: LinkSession<Detail>) { open.withLock { $0[session.id] = session } }
    public func session(_ id: String) -> LinkSession<Detail>? { open.withLock { $0[id] } }

    /// A closed session, and the last links it made the registry forget: its target's previous
    /// one, and the least recently linked target's beyond the bound.
    public struct Closed {
        public let session: LinkSession<Detail>
        public let forgotten: [LinkSession<Detail>]
    }

    /// Removes an open session and makes it its target's last link.
    public func close(_ id: String) -> Closed? {
        guard let session = open.withLock({ $0.removeValue(forKey: id) }) else { return nil }
        let forgotten = last.withLock { $0.insert(session, for: session.target) }
        return Closed(session: session, forgotten: forgotten)
    }

    /// The last finished link of `target`.
    public func lastLink(of target: String) -> LinkSession<Detail>? { last.withLock { $0[target] } }

    /// How many targets' last links are kept.
    public var targetsKept: Int { last.withLock { $0.count } }
}
