// LTOGCCBackend: WPA jobs: run with the real driver, then every partition it wrote is read
// and digested once, and (when lto-wrapper will run LTRANS serially) misses are built ahead.
import LTOBackend
import LTOGCC
import LTOObject
import LTOStatistics
import LTOSystem

/// Runs WPA and records the partitions it wrote in the session.
struct WPAStage: Sendable {
    let context: BackendContext
    let ltrans: LTRANSStage

    func run(_ wpa: WPACommand, job: DriverJob, session: GCCLinkSession) throws -> JobOutput {
        let result = try job.run(context.runner, for: session)
        context.stats.add([.wpaRuns: 1, .wpaSeconds: result.seconds, .wpaFailures: result.status.succeeded ? 0 : 1])
        guard result.status.succeeded,
              let text = readFileText(job.absolute(wpa.outputList)),
              let entries = LTRANSListEntry.parse(text)
        else { return result.output }
        var records: [PartitionRecord] = []
        for (index, entry) in entries.enumerated() where !entry.passThrough {
            guard let (bytes, identity) = try? readFile(path: job.absolute(entry.path)) else { continue }
            let predicted = wpa.predictedLTRANS(index: index, input: entry.path)
            let keying = PartitionKeying(bytes, canonical: context.configuration.canonicalKeys,
                                         locations: predicted.flatMap(ltrans.keys.locationDigester(for:)))
            records.append(PartitionRecord(index: index, path: job.absolute(entry.path), identity: identity, keying: keying,
                                           functions: functionBodies(in: bytes)))
            if context.configuration.prefetch && wpa.ltransRunsSerially, let predicted {
                ltrans.buildAhead(predicted, bytes: bytes, keying: keying, job: job, session: session)
            }
        }
        session.withRecord { r in
            r.wpaSeconds += result.seconds
            for p in records {
                r.detail.partitions[p.path] = p
                if let index = p.index { r.partitions[index] = p.functions }
            }
        }
        return result.output
    }
}
