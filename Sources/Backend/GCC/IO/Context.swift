// LTOGCCBackend: what every stage of the GCC backend works with, and its record of a link.
import LTOBackend
import LTOConfig
import LTOGCC
import LTOHash
import LTOStatistics
import LTOStorage
import LTOSystem
import Logging
import Synchronization

/// The services the GCC backend's stages share: the cache, the process runner (scratch area
/// and scheduler), the statistics, the settings and the log.
struct BackendContext: Sendable {
    let storage: any CacheStorage
    let runner: ProcessRunner
    let stats: any StatisticsRecorder
    let configuration: Configuration
    let log: Logger

    var scratch: ScratchArea { runner.scratch }

    /// The same services, counting into `stats`.
    func recording(to stats: any StatisticsRecorder) -> BackendContext {
        BackendContext(storage: storage, runner: runner, stats: stats, configuration: configuration, log: log)
    }
}

/// Counts gathered over many jobs and handed to the daemon's recorder at once: its every
/// `add` is a write transaction on the cache's index, three a partition when counted one by
/// one.
final class BatchedStatistics: StatisticsRecorder {
    private let deltas = Mutex<[Statistic: Double]>([:])

    func add(_ more: [Statistic: Double]) {
        deltas.withLock { d in for (statistic, delta) in more { d[statistic, default: 0] += delta } }
    }

    /// Hands what was counted to `recorder`, once.
    func flush(to recorder: any StatisticsRecorder) {
        let counted = deltas.withLock { d in
            defer { d = [:] }
            return d
        }
        if !counted.isEmpty { recorder.add(counted) }
    }
}

/// The GCC backend's own record of one link.
struct GCCLinkDetail: Sendable {
    /// The partitions WPA wrote, by path, with the digests their keys are made of.
    var partitions: [String: PartitionRecord] = [:]
    /// The link's inputs as read when the session opened.
    var inputs: [InputObject] = []
    /// The inputs of the target's previous link; nil on its first link.
    var previousInputs: [InputObject]?
    /// What changed in the inputs since the target's previous link; nil on its first link.
    /// Worked out when asked (`explain`), never on the link's path.
    var changes: [InputChange]? { previousInputs.map { InputChanges.between($0, inputs) } }
    /// lto-wrapper's invocation.
    var wrapper: Invocation?
    /// The key of the whole link, when it may be answered whole next time (`WholeLinks`).
    var linkKey: Digest?
    /// The finished objects ltod placed, by path, with the cache key each is kept under.
    var finished: [String: Digest] = [:]
    /// How lto-wrapper's stages went, for deciding whether the link can be recorded whole.
    var stages = StageRecord()
}

/// Which of lto-wrapper's stages reached ltod in a link, and how they ended.
struct StageRecord: Sendable {
    /// WPA ran and ltod handed back finished objects for every partition.
    var answeredWPA = false
    /// A job that is neither WPA nor LTRANS ran (the single step of `-flto-partition=none`).
    var singleSteps = 0
    /// lto-wrapper asked for LTRANS jobs itself.
    var ltransRequests = 0
    /// A job failed, printed on stdout, or was refused (the shim then ran it without ltod).
    var incomplete = false
}

/// A WPA partition as ltod saw it right after WPA wrote it.
struct PartitionRecord: Sendable {
    /// The partition's position in WPA's output list; nil when not known from this link's WPA.
    let index: Int?
    let path: String
    /// The file as it was when read for the digests; a request finding it different re-reads it.
    let identity: FileIdentity
    let keying: PartitionKeying
    /// The functions (and variables) whose bodies the partition carries, by assembler name.
    let functions: [String]
}

typealias GCCLinkSession = LinkSession<GCCLinkDetail>
