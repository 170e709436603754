// LTOGCCBackend: what every stage of the GCC backend works with, and its record of a link.
import LTOBackend
import LTOConfig
import LTOGCC
import LTOHash
import LTOStatistics
import LTOStorage
import LTOSystem
import Logging

/// The services the GCC backend's stages share: the cache, the process runner (scratch area
/// and scheduler), the statistics, the settings and the log.
struct BackendContext: Sendable {
    let storage: any CacheStorage
    let runner: ProcessRunner
    let stats: any StatisticsRecorder
    let configuration: Configuration
    let log: Logger

    var scratch: ScratchArea { runner.scratch }
}

/// The GCC backend's own record of one link.
struct GCCLinkDetail: Sendable {
    /// The partitions WPA wrote, by path, with the digests their keys are made of.
    var partitions: [String: PartitionRecord] = [:]
    /// Keys being built ahead of lto-wrapper's request in this link.
    var prefetched: Set<Digest> = []
    /// The link's inputs as read when the session opened.
    var inputs: [InputObject] = []
    /// What changed in them since the target's previous link; nil on its first link.
    var changes: [InputChange]?
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
