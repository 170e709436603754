// LTOGCCBackend: LTRANS jobs: answered from the cache (with what they printed when they
// were built), or compiled with the real driver and stored. Used for every partition of a
// WPA answered with finished objects, and for the LTRANS jobs lto-wrapper runs itself.
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

/// How an LTRANS job was answered.
struct LTRANSAnswer: Sendable {
    /// What to print and the status; the object is at the job's output when it is 0.
    let output: JobOutput
    /// The cache entry the object at the output is, when it is one.
    let cached: Digest?
}

/// Answers LTRANS jobs from the cache or by running the real LTRANS.
struct LTRANSStage: Sendable {
    let context: BackendContext
    let keys: KeyMaker
    let provenance: ProvenanceStore
    let audit: Auditor
    /// Shared by every link of the daemon: one key is built once.
    let inflight: InFlight

    /// The same stage counting into `stats`.
    func recording(to stats: any StatisticsRecorder) -> LTRANSStage {
        let counting = context.recording(to: stats)
        return LTRANSStage(context: counting, keys: KeyMaker(context: counting, compilers: keys.compilers, audit: keys.audit, locations: keys.locations),
                           provenance: provenance, audit: audit, inflight: inflight)
    }

    /// Answers an LTRANS job lto-wrapper asked for itself.
    func run(_ cmd: LTRANSCommand, job: DriverJob, session: GCCLinkSession) throws -> JobOutput {
        session.withRecord { $0.detail.stages.ltransRequests += 1 }
        if cmd.uncacheableReason != nil { return try answer(cmd, job: job, partition: nil, session: session).output }
        return try answer(cmd, job: job, partition: currentPartition(job.absolute(cmd.input), for: cmd, session: session), session: session).output
    }

    /// Answers `cmd` run as `job` on `partition` (as WPA wrote it; nil for an uncacheable job).
    func answer(_ cmd: LTRANSCommand, job: DriverJob, partition: PartitionRecord?, session: GCCLinkSession) throws -> LTRANSAnswer {
        let output = job.absolute(cmd.output)
        guard let partition, cmd.uncacheableReason == nil else {
            context.stats.add(.ltransUncacheable)
            unlink(output)
            let result = try job.run(context.runner, for: session)
            session.record(PartitionOutcome(index: partition?.index, key: nil, kind: .uncached, seconds: result.seconds, note: cmd.uncacheableReason))
            return LTRANSAnswer(output: result.output, cached: nil)
        }
        let key = try keys.key(for: cmd, job: job, partition: partition.keying)
        keys.count(key, partition.keying)
        let target = LTRANSTarget(key: key, keying: partition.keying, input: partition.path, inputIdentity: partition.identity,
                                  output: output, index: partition.index)
        let request = AuditRequest(command: cmd, job: job, compiler: key.compiler, key: key.key, partition: partition.path)
        // Set when the entry found was printed in another context: the build replaces it.
        var stale = false
        return try inflight.buildOnce(key.key, for: session, reuse: { reuse(target, job: job, session: session, audit: request, stale: &stale) },
                                      build: { owner in try build(job, target, session: session, replacing: stale, as: owner) })
    }

    /// Answers from the cache if it can: the object is placed at the job's output, and what the
    /// job printed when it was built is printed again, if it was printed in the same context.
    private func reuse(_ target: LTRANSTarget, job: DriverJob, session: GCCLinkSession, audit request: AuditRequest,
                       stale: inout Bool) -> LTRANSAnswer? {
        let key = target.key.key
        guard let hit = try? context.storage.retrieve(CacheKey(key), to: target.output) else { return nil }
        if let printed = hit.info.diagnostics,
           job.diagnosticsContext(of: printed.stdout + printed.stderr) != printed.context
            || !provenance.locationsMatch(of: target.key, keying: target.keying) {
            // Printed for another terminal, quoting a source file that has changed since, or
            // naming source lines that have moved since (its key leaves locations out).
            unlink(target.output)
            stale = true
            return nil
        }
        let seconds = hit.info.buildSeconds
        let origin = provenance.origin(of: target.key, keying: target.keying)
        session.record(PartitionOutcome(index: target.index, key: key, kind: .reused, seconds: seconds, note: origin.note))
        context.stats.add([.ltransReused: 1, .cacheHits: 1, .ltransSecondsSaved: seconds, .ltransCanonicalHits: origin.renumbering == nil ? 0 : 1,
                           .ltransLocationHits: origin.moved == nil ? 0 : 1, .ltransReplayed: hit.info.diagnostics == nil ? 0 : 1])
        var reasons = origin.auditReasons
        if hit.tier == .remote { reasons.insert(.remoteHit) }
        audit.sample(request, reasons: reasons)
        let printed = hit.info.diagnostics
        return LTRANSAnswer(output: JobOutput(exitStatus: printed?.exitStatus ?? 0, stdout: printed?.stdout ?? [], stderr: printed?.stderr ?? []),
                            cached: key)
    }

    /// Runs the real LTRANS as `owner`. The result is stored only if the partition file still is
    /// the one the key was computed from, so a file changed under ltod can never be cached under an old key.
    private func build(_ job: DriverJob, _ target: LTRANSTarget, session: GCCLinkSession, replacing: Bool,
                       as owner: SharedJob) throws -> LTRANSAnswer {
        // A file placed at the output may share a cache payload (a hard link): the compiler
        // must write a new file, never into that one.
        unlink(target.output)
        let (result, external) = try job.runListingReads(context, for: owner)
        if !result.status.succeeded, let full = context.scratch.fullFilesystem() {
            _ = session.noteStoreWarning(full)
            throw LTRANSRefusal(reason: full)
        }
        context.stats.add([.ltransRebuilt: 1, .cacheMisses: 1, .ltransSecondsSpent: result.seconds, .ltransFailures: result.status.succeeded ? 0 : 1])
        session.record(PartitionOutcome(index: target.index, key: target.key.key, kind: .rebuilt, seconds: result.seconds,
                                        note: external.map { "not stored: the assembler read " + $0.joined(separator: ", ") }))
        if external != nil { context.stats.add(.ltransUncacheable) }
        var stored = false
        if result.status.succeeded && external == nil && FileIdentity(path: target.input) == target.inputIdentity {
            stored = store(target.key, keying: target.keying, object: target.output, partition: target.input, job: job, result: result,
                           session: session, replacing: replacing)
        }
        return LTRANSAnswer(output: result.output, cached: stored ? target.key.key : nil)
    }

    /// Stores a finished LTRANS object with what the job printed (and the context it printed
    /// it in), and the provenance of a canonical entry. Failed jobs never reach here. A failure
    /// to store is logged, and told to the user when the link closes, once per link. Returns
    /// whether the object is now the entry under the key.
    private func store(_ key: JobKey, keying: PartitionKeying, object: String, partition: String, job: DriverJob, result: ProcessResult,
                       session: GCCLinkSession, replacing: Bool) -> Bool {
        let printed = result.stdout + result.stderr
        let diagnostics = printed.isEmpty ? nil
            : EntryDiagnostics(stdout: result.stdout, stderr: result.stderr, exitStatus: result.status.code, context: job.diagnosticsContext(of: printed))
        do {
            if replacing { try context.storage.remove(CacheKey(key.key)) }
            try context.storage.store(CacheKey(key.key), from: object,
                                      info: EntryInfo(buildSeconds: result.seconds, target: session.target, diagnostics: diagnostics))
        } catch {
            context.stats.add(.cacheStoreFailures)
            if session.noteStoreWarning("\(error)") {
                context.log.warning("not cached: \(error)", metadata: ["target": "\(session.target)"])
            }
            return false
        }
        provenance.record(key, keying: keying, partition: partition, replacing: replacing)
        return true
    }

    /// The partition at `path` as WPA wrote it in this link, or read now if it changed, is
    /// unknown or was digested without the location-free digest `cmd`'s key can use.
    private func currentPartition(_ path: String, for cmd: LTRANSCommand, session: GCCLinkSession) throws -> PartitionRecord {
        let locations = keys.locationDigester(for: cmd)
        if let known = session.withRecord({ $0.detail.partitions[path] }), FileIdentity(path: path) == known.identity,
           locations == nil || known.keying.withoutLocations != nil {
            return known
        }
        return try PartitionRecord(reading: path, index: nil, canonical: context.configuration.canonicalKeys, locations: locations)
    }
}

/// An LTRANS job ltod declines to answer (the shim then runs it itself), with the reason.
struct LTRANSRefusal: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

extension PartitionRecord {
    /// Reads and digests the partition at `path`; with `locations`, also without its locations.
    init(reading path: String, index: Int?, canonical: Bool, locations: LocationDigester? = nil) throws {
        guard let (bytes, identity) = try? readFile(path: path) else { throw LTRANSError.unreadablePartition(path) }
        self.init(index: index, path: path, identity: identity, keying: PartitionKeying(bytes, canonical: canonical, locations: locations),
                  functions: functionBodies(in: bytes))
    }
}

/// The symbols whose GIMPLE bodies a partition carries (from its section names).
func functionBodies(in bytes: [UInt8]) -> [String] {
    guard let elf = try? ELFFile(bytes: bytes, path: "<partition>") else { return [] }
    return elf.sections.compactMap { section in
        guard case .functionBody(let symbol, _)? = LTOSectionName(section.name)?.kind else { return nil }
        return symbol
    }
}
