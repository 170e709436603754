// LTOGCCBackend: WPA jobs: WPA runs with the real driver, every partition it wrote is read
// and digested, and then, inside the same request, every partition's LTRANS job is
// answered (restored from the cache or compiled on the daemon's scheduler) and the LTRANS
// output list handed back names finished objects, so lto-wrapper starts no process for them.
import Foundation
import LTOBackend
import LTOGCC
import LTOObject
import LTOStatistics
import LTOSystem
import Synchronization

/// Runs WPA and answers its partitions (see the file header).
struct WPAStage: Sendable {
    let context: BackendContext
    let ltrans: LTRANSStage

    func run(_ wpa: WPACommand, job: DriverJob, session: GCCLinkSession) throws -> JobOutput {
        let result = try job.run(context.runner, for: session)
        context.stats.add([.wpaRuns: 1, .wpaSeconds: result.seconds, .wpaFailures: result.status.succeeded ? 0 : 1])
        session.withRecord { $0.wpaSeconds += result.seconds }
        let listPath = job.absolute(wpa.outputList)
        guard result.status.succeeded, let text = readFileText(listPath), let entries = LTRANSListEntry.parse(text) else {
            return result.output
        }
        let partitions = entries.map { job.absolute($0.path) }
        guard let commands = pipelineCommands(wpa, entries: entries) else {
            // lto-wrapper runs LTRANS itself, asking ltod for each job.
            record(readPartitions(partitions), in: session)
            return result.output
        }
        // Every partition counts towards the link's progress from now on.
        session.withRecord { r in for i in entries.indices where r.partitions[i] == nil { r.partitions[i] = [] } }
        do {
            let started = ContinuousClock.now
            let answers = try answerAll(commands, job: job, partitions: partitions, session: session)
            let output = try handBack(answers, commands: commands, wpa: wpa, entries: entries, job: job, listPath: listPath,
                                      wpaOutput: result.output, session: session)
            context.log.info("WPA answered with finished objects", metadata: [
                "target": "\(session.target)", "partitions": "\(commands.count)",
                "wpa_seconds": "\(result.seconds)", "partition_seconds": "\((ContinuousClock.now - started).seconds)",
            ])
            return output
        } catch {
            // Nothing half-done stays: the shim runs WPA again without ltod, and lto-wrapper its LTRANS.
            for (path, command) in zip(partitions, commands) {
                unlink(path)
                unlink(job.absolute(command.output))
            }
            unlink(FinishedObjectList.path(forOutputList: listPath))
            throw error
        }
    }

    /// The LTRANS command lto-wrapper would run for each partition; nil when the link keeps
    /// lto-wrapper's own LTRANS stage: `-save-temps` (the user wants its files), or a list
    /// not in the shape lto-wrapper itself would compile.
    private func pipelineCommands(_ wpa: WPACommand, entries: [LTRANSListEntry]) -> [LTRANSCommand]? {
        guard !wpa.args.contains(where: { $0.hasPrefix("-save-temps") }), !entries.isEmpty,
              !entries.contains(where: { $0.passThrough || $0.path.contains("\n") }) else { return nil }
        let commands = entries.enumerated().compactMap { wpa.predictedLTRANS(index: $0.offset, input: $0.element.path) }
        return commands.count == entries.count ? commands : nil
    }

    /// Answers every partition's LTRANS job, several at once (the scheduler bounds the
    /// compilers), taken in partition order. After a job fails, later partitions are left
    /// unanswered (nil): lto-wrapper compiles them itself, as GCC would have gone on.
    private func answerAll(_ commands: [LTRANSCommand], job: DriverJob, partitions: [String], session: GCCLinkSession) throws -> [LTRANSAnswer?] {
        let results = Mutex<[Int: Result<LTRANSAnswer, any Error>]>([:])
        let counts = BatchedStatistics()
        let ltrans = ltrans.recording(to: counts)
        defer { counts.flush(to: context.stats) }
        // A session cancelled (its shim went away) or closed meanwhile is a link that was
        // interrupted: nothing more is started.
        let cursor = PartitionCursor(count: commands.count) { session.cancellation.isCancelled || session.withRecord { $0.exitStatus != nil } }
        let workers = DispatchGroup()
        for _ in 0..<min(commands.count, context.runner.scheduler.limit + 1) {
            workers.enter()
            Thread.detachNewThread { [self] in
                defer { workers.leave() }
                while let i = cursor.next() {
                    let result = Result {
                        let partition = try PartitionRecord(reading: partitions[i], index: i, canonical: context.configuration.canonicalKeys,
                                                            locations: ltrans.keys.locationDigester(for: commands[i]))
                        record([partition], in: session)
                        return try ltrans.answer(commands[i], job: job.with(arguments: commands[i].args), partition: partition, session: session)
                    }
                    results.withLock { $0[i] = result }
                    if (try? result.get().output.exitStatus) != 0 { cursor.stop(after: i) }
                }
            }
        }
        workers.wait()
        try session.cancellation.check()
        if cursor.linkEnded || session.withRecord({ $0.exitStatus != nil }) {
            throw LTRANSRefusal(reason: "the link ended before its partitions were answered")
        }
        let all = results.withLock { $0 }
        return try commands.indices.map { i in try all[i]?.get() }
    }

    /// Writes the LTRANS output list lto-wrapper reads back (`WPAAnswer`), removes what nobody
    /// reads any more, and returns what WPA and the LTRANS jobs before the first failure printed.
    private func handBack(_ answers: [LTRANSAnswer?], commands: [LTRANSCommand], wpa: WPACommand, entries: [LTRANSListEntry], job: DriverJob,
                          listPath: String, wpaOutput: JobOutput, session: GCCLinkSession) throws -> JobOutput {
        let outputs = zip(commands, answers).map { command, answer in answer?.output.exitStatus == 0 ? command.output : nil }
        let plan = WPAAnswer(entries: entries, outputs: outputs, serial: wpa.ltransRunsSerially, outputList: listPath)
        if let (path, text) = plan.objectList { try replaceFile(path, Array(text.utf8)) }
        try replaceFile(listPath, Array(LTRANSListEntry.render(plan.list).utf8))
        plan.partitionsToRemove.forEach { unlink(job.absolute($0)) }
        for (command, answer) in zip(commands, answers) where answer?.output.exitStatus != 0 { unlink(job.absolute(command.output)) }
        plan.objectsToRemove.forEach { unlink(job.absolute($0)) }
        let done = answers.prefix(plan.partitionsToRemove.count).compactMap { $0 }
        session.withRecord { r in
            for (command, answer) in zip(commands, done) { if let key = answer.cached { r.detail.finished[job.absolute(command.output)] = key } }
            r.detail.stages.answeredWPA = done.count == answers.count
        }
        return JobOutput(exitStatus: wpaOutput.exitStatus, stdout: wpaOutput.stdout + done.flatMap(\.output.stdout),
                         stderr: wpaOutput.stderr + done.flatMap(\.output.stderr))
    }

    private func readPartitions(_ paths: [String]) -> [PartitionRecord] {
        paths.enumerated().compactMap { try? PartitionRecord(reading: $0.element, index: $0.offset, canonical: context.configuration.canonicalKeys) }
    }

    private func record(_ partitions: [PartitionRecord], in session: GCCLinkSession) {
        session.withRecord { r in
            for p in partitions {
                r.detail.partitions[p.path] = p
                if let index = p.index { r.partitions[index] = p.functions }
            }
        }
    }
}

/// Hands out partition indexes in order to the workers of one WPA answer, up to the first
/// partition that failed, and none once the link has ended.
private final class PartitionCursor: Sendable {
    private let following = Atomic<Int>(0)
    private let end: Atomic<Int>
    private let ended = Atomic<Bool>(false)
    private let hasEnded: @Sendable () -> Bool

    init(count: Int, hasEnded: @escaping @Sendable () -> Bool) {
        end = Atomic(count)
        self.hasEnded = hasEnded
    }

    /// Whether the link ended while partitions were still to be answered.
    var linkEnded: Bool { ended.load(ordering: .relaxed) }

    func next() -> Int? {
        if hasEnded() {
            ended.store(true, ordering: .relaxed)
            return nil
        }
        let i = following.add(1, ordering: .relaxed).oldValue
        return i < end.load(ordering: .relaxed) ? i : nil
    }

    /// No index after `i` is handed out any more.
    func stop(after i: Int) { end.min(i + 1, ordering: .relaxed) }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
