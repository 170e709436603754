// LTOGCCBackend: LTRANS jobs: answered from the cache, or compiled with the real driver
// and stored; also the builds started ahead of lto-wrapper's request.
import Foundation
import LTOBackend
import LTOGCC
import LTOHash
import LTOObject
import LTOStatistics
import LTOStorage
import LTOSystem

/// Why an LTRANS job could not be answered.
enum LTRANSError: Error, CustomStringConvertible {
    case unreadablePartition(String)

    var description: String {
        switch self {
        case .unreadablePartition(let path): return "cannot read LTRANS partition \(path)"
        }
    }
}

/// One LTRANS job to answer: its key, the partition file the key was computed from, its output.
struct LTRANSTarget: Sendable {
    let key: JobKey
    let keying: PartitionKeying
    let input: String
    let inputIdentity: FileIdentity
    let output: String
    let index: Int?
}

/// Answers LTRANS jobs from the cache or by running the real LTRANS.
struct LTRANSStage: Sendable {
    let context: BackendContext
    let keys: KeyMaker
    let provenance: ProvenanceStore
    let audit: Auditor
    let inflight = InFlight()

    /// Answers one LTRANS job of `session`.
    func run(_ cmd: LTRANSCommand, job: DriverJob, session: GCCLinkSession) throws -> JobOutput {
        if let reason = cmd.uncacheableReason {
            context.stats.add(.ltransUncacheable)
            let result = try job.run(context.runner, for: session)
            session.record(PartitionOutcome(index: nil, key: nil, kind: .uncached, seconds: result.seconds, note: reason))
            return result.output
        }
        let input = job.absolute(cmd.input)
        let partition = try currentPartition(input, for: cmd, session: session)
        let key = try keys.key(for: cmd, job: job, partition: partition.keying)
        keys.count(key, partition.keying)
        let target = LTRANSTarget(key: key, keying: partition.keying, input: input, inputIdentity: partition.identity,
                                  output: job.absolute(cmd.output), index: partition.index)
        let request = AuditRequest(command: cmd, job: job, compiler: key.compiler, key: key.key, partition: input)
        return try inflight.buildOnce(key.key, for: session, reuse: { reuse(target, session: session, audit: request) },
                                      build: { owner in try build(job, target, session: session, as: owner) })
    }

    /// Answers from the cache if it can: the object is placed at the job's output (a private copy).
    private func reuse(_ target: LTRANSTarget, session: GCCLinkSession, audit request: AuditRequest) -> JobOutput? {
        let key = target.key.key
        guard let hit = try? context.storage.retrieve(CacheKey(key), to: target.output) else { return nil }
        let seconds = hit.info.buildSeconds
        if session.withRecord({ $0.detail.prefetched.contains(key) }) {
            session.record(PartitionOutcome(index: target.index, key: key, kind: .rebuilt, seconds: seconds, note: "built ahead of lto-wrapper's request"))
            context.stats.add([.ltransRebuilt: 1, .cacheMisses: 1])
            return JobOutput(exitStatus: 0, stdout: [], stderr: [])
        }
        let origin = provenance.origin(of: target.key, keying: target.keying)
        session.record(PartitionOutcome(index: target.index, key: key, kind: .reused, seconds: seconds, note: origin.note))
        context.stats.add([.ltransReused: 1, .cacheHits: 1, .ltransSecondsSaved: seconds, .ltransCanonicalHits: origin.renumbering == nil ? 0 : 1,
                           .ltransLocationHits: origin.moved == nil ? 0 : 1])
        var reasons = origin.auditReasons
        if hit.tier == .remote { reasons.insert(.remoteHit) }
        audit.sample(request, reasons: reasons)
        return JobOutput(exitStatus: 0, stdout: [], stderr: [])
    }

    /// Runs the real LTRANS as `owner`. The result is stored only if the partition file still is
    /// the one the key was computed from, so a file changed under ltod can never be cached under an old key.
    private func build(_ job: DriverJob, _ target: LTRANSTarget, session: GCCLinkSession, as owner: SharedJob) throws -> JobOutput {
        let (result, external) = try runListingReads(job, as: owner)
        if !result.status.succeeded, let full = context.scratch.fullFilesystem() {
            _ = session.noteStoreWarning(full)
            throw LTRANSRefusal(reason: full)
        }
        context.stats.add([.ltransRebuilt: 1, .cacheMisses: 1, .ltransSecondsSpent: result.seconds, .ltransFailures: result.status.succeeded ? 0 : 1])
        session.record(PartitionOutcome(index: target.index, key: target.key.key, kind: .rebuilt, seconds: result.seconds,
                                        note: external.map { "not stored: the assembler read " + $0.joined(separator: ", ") }))
        if external != nil { context.stats.add(.ltransUncacheable) }
        if result.status.succeeded && external == nil && FileIdentity(path: target.input) == target.inputIdentity {
            store(target.key, keying: target.keying, object: target.output, partition: target.input, result: result, session: session)
        }
        return result.output
    }

    /// Starts the LTRANS job lto-wrapper is about to ask for, when its key misses. Used when
    /// lto-wrapper runs LTRANS serially: ltod then builds the misses in parallel on its scheduler.
    /// (When lto-wrapper is parallel itself, building ahead measured slower, 7.8 s against 6.8 s
    /// for a cold 201-partition link, so it is left to lto-wrapper.)
    /// It runs on a private copy of the partition's bytes (the ones the key was computed
    /// from), so nothing lto-wrapper does to its files can make the stored object stale.
    func buildAhead(_ predicted: LTRANSCommand, bytes: [UInt8], keying: PartitionKeying, job: DriverJob, session: GCCLinkSession) {
        guard predicted.uncacheableReason == nil, let key = try? keys.key(for: predicted, job: job, partition: keying),
              !context.storage.contains(CacheKey(key.key)), let owner = inflight.claim(key.key, for: session)
        else { return }
        _ = session.withRecord { $0.detail.prefetched.insert(key.key) }
        context.stats.add(.ltransPrefetched)
        let privateBase = context.scratch.newPath("prefetch")
        Thread.detachNewThread { [self] in
            defer {
                inflight.release(key.key)
                unlink(privateBase + ".o")
                unlink(privateBase + ".ltrans.o")
            }
            guard (try? writeFile(privateBase + ".o", bytes)) != nil else { return }
            let args = predicted.retargeted(input: privateBase + ".o", output: privateBase + ".ltrans.o")
            guard let (result, external) = try? runListingReads(job.with(arguments: args), as: owner) else { return }
            context.stats.add([.ltransSecondsSpent: result.seconds, .ltransFailures: result.status.succeeded ? 0 : 1])
            if result.status.succeeded && external == nil {
                store(key, keying: keying, object: privateBase + ".ltrans.o", partition: privateBase + ".o", result: result, session: session)
            }
        }
    }

    /// Runs an LTRANS job with `-Wa,--MD,<file>` (which changes nothing in the object) so that
    /// the assembler lists what it read. Returns nil as the second value only when it read
    /// nothing but lto1's output; otherwise the files (or a reason), and the result is not stored.
    private func runListingReads(_ job: DriverJob, as owner: SharedJob) throws -> (ProcessResult, external: [String]?) {
        // A private TMPDIR, so that lto1's temporary assembler file is known to be the job's own.
        let jobDirectory = try context.scratch.makeDirectory("job")
        defer { try? FileManager.default.removeItem(atPath: jobDirectory) }
        let deps = jobDirectory + "/deps.d"
        guard !deps.contains(",") else { return (try job.run(context.runner, for: owner), ["(the cache path has a comma)"]) }
        let listing = job.with(arguments: job.rawArguments + ["-Wa,--MD," + deps], setting: ["TMPDIR": jobDirectory])
        let result = try listing.run(context.runner, for: owner)
        guard let text = readFileText(deps), let listed = AssemblerDependencies.parse(text) else {
            return (result, ["(no dependency list from the assembler)"])
        }
        let external = AssemblerDependencies.externalInputs(listed, privateDirectory: jobDirectory)
        return (result, external.isEmpty ? nil : external)
    }

    /// Stores a finished LTRANS object, and the provenance of a canonical entry. Jobs that
    /// printed diagnostics are not stored, so their warnings are shown again on every link
    /// rather than lost on a hit. A failure to store is logged, and told to the user when the
    /// link closes, once per link.
    private func store(_ key: JobKey, keying: PartitionKeying, object: String, partition: String, result: ProcessResult,
                       session: GCCLinkSession) {
        guard result.stderr.isEmpty, result.stdout.isEmpty else { return }
        do {
            try context.storage.store(CacheKey(key.key), from: object, info: EntryInfo(buildSeconds: result.seconds, target: session.target))
        } catch {
            context.stats.add(.cacheStoreFailures)
            if session.noteStoreWarning("\(error)") {
                context.log.warning("not cached: \(error)", metadata: ["target": "\(session.target)"])
            }
            return
        }
        provenance.record(key, keying: keying, partition: partition)
    }

    /// The partition at `path` as WPA wrote it in this link, or read now if it changed, is
    /// unknown or was digested without the location-free digest `cmd`'s key can use.
    private func currentPartition(_ path: String, for cmd: LTRANSCommand, session: GCCLinkSession) throws -> PartitionRecord {
        let locations = keys.locationDigester(for: cmd)
        if let known = session.withRecord({ $0.detail.partitions[path] }), FileIdentity(path: path) == known.identity,
           locations == nil || known.keying.withoutLocations != nil {
            return known
        }
        guard let (bytes, identity) = try? readFile(path: path) else { throw LTRANSError.unreadablePartition(path) }
        let keying = PartitionKeying(bytes, canonical: context.configuration.canonicalKeys, locations: locations)
        return PartitionRecord(index: nil, path: path, identity: identity, keying: keying, functions: functionBodies(in: bytes))
    }
}

/// An LTRANS job ltod declines to answer (the shim then runs it itself), with the reason.
struct LTRANSRefusal: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// The symbols whose GIMPLE bodies a partition carries (from its section names).
func functionBodies(in bytes: [UInt8]) -> [String] {
    guard let elf = try? ELFFile(bytes: bytes, path: "<partition>") else { return [] }
    return elf.sections.compactMap { section in
        guard case .functionBody(let symbol, _)? = LTOSectionName(section.name)?.kind else { return nil }
        return symbol
    }
}
