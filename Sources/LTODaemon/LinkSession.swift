import Foundation
import LTOGCC
import LTOHash
import LTOObject
import Synchronization

/// A WPA partition as ltod saw it right after WPA wrote it.
struct PartitionRecord: Sendable {
    /// The partition's position in WPA's output list; nil when not known from this link's WPA.
    let index: Int?
    let path: String
    /// The file as it was when read for `digest`; a request finding it different re-reads it.
    let identity: FileIdentity
    let keying: PartitionKeying
    /// The functions (and variables) whose bodies the partition carries, by assembler name.
    let functions: [String]
}

/// What happened to one partition's LTRANS job in a link. Why a rebuilt partition's key
/// was new is worked out by `explain` from the partition's functions and the input changes.
struct LTRANSOutcome: Sendable {
    enum Kind: String, Sendable { case reused, rebuilt, uncached }
    let index: Int?
    let key: Digest?
    let kind: Kind
    /// Build time (for a reused partition: the recorded build time it saved).
    let seconds: Double
    /// For uncached jobs, why; for rebuilt ones, how (e.g. built ahead of lto-wrapper's request);
    /// for reused ones, the renumbering forgiven when only the canonical key matched.
    let note: String?
}

/// One link: from the wrapper's `openSession` to its `closeSession`.
final class LinkSession: Sendable {
    let id: String
    let target: String
    let directory: String
    let started = Date()
    private let state = Mutex(State())

    struct State {
        var partitions: [String: PartitionRecord] = [:]
        var prefetched: Set<Digest> = []
        var outcomes: [LTRANSOutcome] = []
        var wpaSeconds = 0.0
        var exitStatus: Int32?
        var inputs: [InputState] = []
        /// nil on a target's first link (nothing to compare with).
        var changes: [InputChange]?
    }

    init(id: String, target: String, directory: String) {
        self.id = id
        self.target = target
        self.directory = directory
    }

    func recordWPA(partitions: [PartitionRecord], seconds: Double) {
        state.withLock { s in
            s.wpaSeconds += seconds
            for p in partitions { s.partitions[p.path] = p }
        }
    }

    func recordInputs(_ inputs: [InputState], changes: [InputChange]?) {
        state.withLock {
            $0.inputs = inputs
            $0.changes = changes
        }
    }

    func partition(at path: String) -> PartitionRecord? { state.withLock { $0.partitions[path] } }
    func markPrefetched(_ key: Digest) { _ = state.withLock { $0.prefetched.insert(key) } }
    func wasPrefetched(_ key: Digest) -> Bool { state.withLock { $0.prefetched.contains(key) } }
    func record(_ outcome: LTRANSOutcome) { state.withLock { $0.outcomes.append(outcome) } }
    func finish(status: Int32) { state.withLock { $0.exitStatus = status } }
    var snapshot: State { state.withLock { $0 } }
}

/// The link target named by a wrapper invocation: the `-o` in COLLECT_GCC_OPTIONS
/// (GCC's default `a.out` otherwise), made absolute against the link's directory.
func linkTarget(collectOptions: String?, directory: String) -> String {
    let options = ResponseFile.split(collectOptions ?? "")
    var output = "a.out"
    if let o = options.lastIndex(of: "-o"), o + 1 < options.count { output = options[o + 1] }
    return output.hasPrefix("/") ? output : directory + "/" + output
}
