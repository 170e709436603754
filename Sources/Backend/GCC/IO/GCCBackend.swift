// LTOGCCBackend owns the GCC backend's I/O: link sessions opened from lto-wrapper's
// invocation, WPA with the real driver, LTRANS answered from the cache or compiled, builds
// ahead of lto-wrapper's requests, the compiler's identity, partition keys (canonical or by
// bytes), their audit, and the memo of input objects. What it knows about GCC as pure logic
// is in LTOGCC.
import Foundation
import LTOBackend
import LTOConfig
import LTOGCC
import LTOStatistics
import LTOStorage
import LTOSystem
import Logging

/// The daemon side of GCC's WHOPR pipeline: runs WPA with the real driver, keys each
/// partition, and answers LTRANS requests from the cache or by running the real LTRANS.
public final class GCCBackend: LinkBackend {
    private let context: BackendContext
    private let sessions = SessionRegistry<GCCLinkDetail>()
    private let objects: ObjectMemo
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
        objects = ObjectMemo(stats: stats)
        let audit = Auditor(context: context)
        ltrans = LTRANSStage(context: context, keys: KeyMaker(context: context, compilers: CompilerIdentity(), audit: audit),
                             provenance: ProvenanceStore(context: context), audit: audit)
        wpa = WPAStage(context: context, ltrans: ltrans)
    }

    public func openSession(_ wrapper: Invocation) -> SessionOpening {
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
        let target = CollectOptions.linkTarget(options, directory: wrapper.cwd)
        let previous = sessions.lastLink(of: target)?.snapshot.detail.inputs
        let session = GCCLinkSession(id: UUID().uuidString, target: target, directory: wrapper.cwd,
                                     detail: GCCLinkDetail(inputs: inputs, changes: previous.map { InputChanges.between($0, inputs) }))
        sessions.add(session)
        context.stats.add(.sessionsTotal)
        context.log.debug("session opened", metadata: ["session": "\(session.id)", "target": "\(session.target)"])
        return .opened(id: session.id, partitionOption: CollectOptions.partitionOption(for: link.partition, in: options))
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
        do {
            switch DriverCommand.classify(job.arguments) {
            case .wpa(let command): return .finished(try wpa.run(command, job: job, session: session))
            case .ltrans(let command): return .finished(try ltrans.run(command, job: job, session: session))
            case .other: return .finished(try job.run(context.runner).output)
            }
        } catch {
            return .refused("\(error)")
        }
    }

    public func closeSession(_ id: String, exitStatus: Int32) -> String? {
        guard let session = sessions.close(id) else { return nil }
        let record = session.withRecord { r in
            r.exitStatus = exitStatus
            return r
        }
        context.log.info("link finished", metadata: [
            "target": "\(session.target)", "status": "\(exitStatus)",
            "reused": "\(record.outcomes.filter { $0.kind == .reused }.count)",
            "rebuilt": "\(record.outcomes.filter { $0.kind == .rebuilt }.count)",
        ])
        reports.linkFinished(LinkReports.report(session))
        return record.storeWarning.map { "ltod did not cache this link's results: \($0)" }
    }

    public func progress(of id: String) -> LinkProgress? {
        guard let session = sessions.session(id) else { return nil }
        let r = session.snapshot
        return LinkProgress(done: r.outcomes.count, total: r.partitions.count, reused: r.outcomes.filter { $0.kind == .reused }.count,
                            running: context.runner.scheduler.running)
    }
}
