// LTOGCCBackend owns the GCC backend's I/O: link sessions opened from lto-wrapper's
// invocation, whole links answered from the cache, WPA with the real driver answered with
// finished objects (every partition restored from the cache or compiled on the link's job
// slots), the LTRANS jobs lto-wrapper still runs itself, the compiler's identity, partition
// keys (canonical or by bytes), their audit, the memo of input objects, and what an
// interrupted link's jobs leave. What it knows about GCC as pure logic is in LTOGCC.
import Foundation
import LTOBackend
import LTOConfig
import LTOGCC
import LTOStatistics
import LTOStorage
import LTOSystem
import Logging

/// The daemon side of GCC's WHOPR pipeline: answers unchanged links whole, runs WPA with
/// the real driver, keys each partition and answers its LTRANS job from the cache or by
/// running the real LTRANS.
public final class GCCBackend: LinkBackend {
    private let context: BackendContext
    private let sessions: SessionRegistry<GCCLinkDetail>
    private let objects: ObjectMemo
    private let wholeLinks: WholeLinks
    private let wpa: WPAStage
    private let ltrans: LTRANSStage
    private let reports: any LinkReportSink

    /// A backend over `storage`; the report of every link it closes goes to `reports`.
    public init(storage: any CacheStorage, scheduler: Scheduler, stats: any StatisticsRecorder, configuration: Configuration,
                reports: any LinkReportSink, log: Logger) throws(ScratchAreaError) {
        self.reports = reports
        let scratch = try ScratchArea(path: configuration.cacheDirectory + "/tmp")
        let context = BackendContext(storage: storage, runner: ProcessRunner(scratch: scratch, scheduler: scheduler), stats: stats,
                                     configuration: configuration, log: log)
        self.context = context
        sessions = SessionRegistry(keepingLast: configuration.maxTargets)
        objects = ObjectMemo(stats: stats)
        let audit = Auditor(context: context)
        let compilers = CompilerIdentity(scratch: scratch)
        wholeLinks = WholeLinks(context: context, compilers: compilers)
        ltrans = LTRANSStage(context: context, keys: KeyMaker(context: context, compilers: compilers, audit: audit, locations: LocationDigester()),
                             provenance: ProvenanceStore(context: context), audit: audit, inflight: InFlight())
        wpa = WPAStage(context: context, ltrans: ltrans)
    }

    public func openSession(_ wrapper: Invocation, jobserver: Jobserver?) -> SessionOpening {
        let inputs = objects.inputs(wrapperArguments: Array(wrapper.argv.dropFirst()), directory: wrapper.cwd)
        // Offloading runs mkoffload, which finds the accelerator compiler next to COLLECT_GCC.
        if let offload = inputs.first(where: { $0.summary?.elf.sections.contains { $0.name.hasPrefix(".gnu.offload_lto_") } ?? false }) {
            return .declined(reason: "\(offload.name) has offloading sections")
        }
        // The link-scope settings (partition) are the link's own: the shim sends them with it.
        let link: Configuration
        do { link = try context.configuration.applyingLink(environment: wrapper.environment) } catch {
            return .declined(reason: "\(error)")
        }
        let options = wrapper.env("COLLECT_GCC_OPTIONS") ?? ""
        let partitionOption = CollectOptions.partitionOption(for: link.partition, in: options)
        let target = CollectOptions.linkTarget(options, directory: wrapper.cwd)
        let previous = sessions.lastLink(of: target)?.snapshot.detail.inputs
        let id = UUID().uuidString
        let linkKey = wholeLinks.key(wrapper, inputs: inputs, options: partitionOption.map { CollectOptions.appending($0, to: options) } ?? options,
                                     session: id)
        if case .failure(let why) = linkKey { context.log.debug("link not answerable whole", metadata: ["target": "\(target)", "reason": "\(why)"]) }
        let session = GCCLinkSession(id: id, target: target, directory: wrapper.cwd, jobserver: jobserver,
                                     detail: GCCLinkDetail(inputs: inputs, previousInputs: previous, wrapper: wrapper, linkKey: try? linkKey.get()))
        sessions.add(session)
        context.stats.add(.sessionsTotal)
        if let key = try? linkKey.get(), let (output, objects) = wholeLinks.answer(key, wrapper: wrapper) {
            return answered(session, output: output, objects: objects)
        }
        context.stats.add([.sessionsJobservers: jobserver == nil ? 0 : 1])
        context.log.debug("session opened", metadata: ["session": "\(session.id)", "target": "\(session.target)"])
        return .opened(id: session.id, partitionOption: partitionOption)
    }

    /// Closes a session answered whole when it opened: its objects restored, nothing ran.
    private func answered(_ session: GCCLinkSession, output: JobOutput, objects: [(LinkAnswer.Object, seconds: Double)]) -> SessionOpening {
        session.withRecord { r in
            for (object, seconds) in objects {
                guard let index = LinkAnswer.partitionIndex(object.suffix) else { continue }
                r.outcomes.append(PartitionOutcome(index: index, key: object.key, kind: .reused, seconds: seconds, note: nil))
            }
            r.exitStatus = output.exitStatus
        }
        if let closed = sessions.close(session.id) { finish(closed) }
        reports.linkFinished(LinkReports.report(session))
        let partitions = objects.filter { LinkAnswer.partitionIndex($0.0.suffix) != nil }
        context.stats.add([.sessionsAnswered: 1, .ltransReused: Double(partitions.count), .cacheHits: Double(partitions.count),
                           .ltransSecondsSaved: partitions.reduce(0) { $0 + $1.seconds }])
        context.log.info("link answered whole", metadata: ["target": "\(session.target)", "objects": "\(objects.count)"])
        return .answered(output)
    }

    public func runJob(_ invocation: Invocation, session id: String) -> JobOutcome {
        guard let driver = invocation.env(ShimEnvironment.driver), !driver.isEmpty else {
            return .refused("driver request without \(ShimEnvironment.driver): ltoc must be started by ltod's lto-wrapper")
        }
        // Only the links this daemon opened: it writes nowhere else (a daemon restarted
        // mid-link has no session; the shim then runs the job itself).
        guard let session = sessions.session(id) else {
            return .refused("ltod has no link session \(id.prefix(64)); the job runs without ltod")
        }
        let job = DriverJob(driver: driver, invocation: invocation)
        let command = DriverCommand.classify(job.arguments)
        let outcome = session.slots.serving { run(command, job: job, session: session) }
        guard !session.cancellation.isCancelled else {
            InterruptedJob(command: command, job: job).removeOutputs()
            return .refused(LinkCancelled().description)
        }
        return outcome
    }

    private func run(_ command: DriverCommand, job: DriverJob, session: GCCLinkSession) -> JobOutcome {
        do {
            try session.cancellation.check()
            let output: JobOutput
            switch command {
            case .wpa(let wpaCommand): output = try wpa.run(wpaCommand, job: job, session: session)
            case .ltrans(let ltransCommand): output = try ltrans.run(ltransCommand, job: job, session: session)
            case .other: output = try singleStep(job, session: session)
            }
            // A job that failed, or printed on stdout (which an answer could not replay), makes
            // the link unrecordable.
            if output.exitStatus != 0 || !output.stdout.isEmpty { session.withRecord { $0.detail.stages.incomplete = true } }
            return .finished(output)
        } catch {
            session.withRecord { $0.detail.stages.incomplete = true }
            return .refused("\(error)")
        }
    }

    /// Runs a job that is neither WPA nor LTRANS, uncached: the one compilation of a link
    /// without partitions (`-flto-partition=none`, `-r`), or anything else lto-wrapper runs.
    /// A link whose compilation read files besides its inputs is never answered whole.
    private func singleStep(_ job: DriverJob, session: GCCLinkSession) throws -> JobOutput {
        guard job.arguments.contains("-xlto") else {
            session.withRecord { $0.detail.stages.incomplete = true }
            return try job.run(context.runner, for: session).output
        }
        let (result, external) = try job.runListingReads(context, for: session)
        session.withRecord { r in
            r.detail.stages.singleSteps += 1
            if external != nil { r.detail.stages.incomplete = true }
        }
        return result.output
    }

    public func closeSession(_ id: String, exitStatus: Int32, printed: [UInt8], messages: [UInt8]?) -> String? {
        guard let closed = sessions.close(id) else { return nil }
        let session = closed.session
        // An interrupted link: its shim went away (-1) or a signal ended it (128 + signal).
        let interrupted = session.cancellation.isCancelled || exitStatus < 0 || exitStatus > 128
        if interrupted { context.stats.add(.sessionsCancelled) }
        finish(closed)
        let record = session.withRecord { r in
            r.exitStatus = exitStatus
            return r
        }
        if exitStatus == 0 && !interrupted, let messages { wholeLinks.record(session, printed: printed, messages: messages) }
        context.log.info("link finished", metadata: [
            "target": "\(session.target)", "status": "\(exitStatus)",
            "reused": "\(record.outcomes.filter { $0.kind == .reused }.count)",
            "rebuilt": "\(record.outcomes.filter { $0.kind == .rebuilt }.count)",
        ])
        reports.linkFinished(LinkReports.report(session))
        let warnings = [record.storeWarning.map { "ltod did not cache this link's results: \($0)" },
                        context.storage.linkWarning(since: session.started)].compactMap { $0 }
        return warnings.isEmpty ? nil : warnings.joined(separator: "\n")
    }

    /// A closed link's work is over: what is still running (an interrupted link's jobs) stops
    /// unless another link waits for it, and make's tokens are given back. The link is kept:
    /// its inputs too; those of the links it made the registry forget are released.
    private func finish(_ closed: SessionRegistry<GCCLinkDetail>.Closed) {
        closed.session.cancellation.cancel()
        closed.session.slots.close()
        objects.retain(closed.session.snapshot.detail.inputs)
        for forgotten in closed.forgotten { objects.release(forgotten.snapshot.detail.inputs) }
    }

    public func cancelSession(_ id: String) {
        guard let session = sessions.session(id), !session.cancellation.isCancelled else { return }
        session.cancellation.cancel()
        context.log.info("link interrupted", metadata: ["target": "\(session.target)", "session": "\(id)"])
    }

    public func progress(of id: String) -> LinkProgress? {
        guard let session = sessions.session(id) else { return nil }
        let r = session.snapshot
        return LinkProgress(done: r.outcomes.count, total: r.partitions.count, reused: r.outcomes.filter { $0.kind == .reused }.count,
                            running: context.runner.scheduler.running)
    }

    public func memoryUse() -> MemoryUse {
        MemoryUse(targets: sessions.targetsKept, inputs: objects.count)
    }
}
