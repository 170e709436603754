// LTOGCCBackend: the audit of hits ltod trusts least: a sample of the hits that only the
// canonical key found, and of those the remote tier answered, is compiled again in the
// background and compared byte for byte with the cached object. A mismatch removes the
// entry (from both tiers); for a canonical-only hit it also disables canonical keys for that
// compiler until the daemon restarts.
import Foundation
import LTOBackend
import LTOGCC
import LTOHash
import LTOStatistics
import LTOStorage
import LTOSystem
import Synchronization

/// What an audit needs to run an LTRANS job again.
struct AuditRequest: Sendable {
    let command: LTRANSCommand
    let job: DriverJob
    let compiler: [String]
    let key: Digest
    /// The partition the hit was found for (lto-wrapper deletes it after the link).
    let partition: String
}

/// Why a hit is audited.
enum AuditReason: Sendable {
    /// Only the canonical key found it: the partition's bytes differ from those it was built from.
    case canonicalOnly
    /// Another machine built it: the remote tier answered.
    case remoteHit
}

/// Audits canonical-only and remote hits (see the file header).
final class Auditor: Sendable {
    let fraction: Double
    /// Where a mismatch's evidence is kept: `<cache>/audit/<time>-<key>/`.
    let directory: String
    private let context: BackendContext
    private let disabledCompilers = Mutex<Set<[String]>>([])

    init(context: BackendContext) {
        self.context = context
        fraction = context.configuration.auditFraction
        directory = context.configuration.cacheDirectory + "/audit"
    }

    func isDisabled(_ compiler: [String]) -> Bool { disabledCompilers.withLock { $0.contains(compiler) } }

    /// Audits the hit with the configured probability: copies the partition now, then
    /// compiles it again on another thread and compares the object with the cached one.
    func sample(_ request: AuditRequest, reasons: Set<AuditReason>) {
        guard !reasons.isEmpty, fraction > 0, Double.random(in: 0..<1) < fraction else { return }
        let evidence = directory + "/\(Int(Date().timeIntervalSince1970))-\(request.key.description.prefix(16))-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: evidence, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: request.partition, toPath: evidence + "/partition.o")
        } catch {
            context.log.warning("audit of \(request.key) skipped: \(error)")
            try? FileManager.default.removeItem(atPath: evidence)
            return
        }
        Thread.detachNewThread { [self] in run(request, reasons: reasons, evidence: evidence) }
    }

    private func run(_ request: AuditRequest, reasons: Set<AuditReason>, evidence: String) {
        let rebuilt = evidence + "/rebuilt.ltrans.o", cached = evidence + "/cached.ltrans.o"
        let args = request.command.retargeted(input: evidence + "/partition.o", output: rebuilt)
        guard let result = try? request.job.with(arguments: args).run(context.runner, for: DaemonJob()), result.status.succeeded,
              (try? context.storage.retrieve(CacheKey(request.key), to: cached)) != nil
        else {
            context.log.warning("audit of \(request.key) could not run: LTRANS failed or the entry is gone")
            try? FileManager.default.removeItem(atPath: evidence)
            return
        }
        context.stats.add(.ltransAuditRuns)
        if readFileBytes(rebuilt) == readFileBytes(cached) {
            try? FileManager.default.removeItem(atPath: evidence)
            return
        }
        context.stats.add(.ltransAuditMismatches)
        _ = try? context.storage.remove(CacheKey(request.key))
        if reasons.contains(.canonicalOnly) {
            _ = disabledCompilers.withLock { $0.insert(request.compiler) }
            _ = try? context.storage.retrieve(CacheKey(Provenance.partitionKey(for: request.key)), to: evidence + "/cached-from-partition.o")
            context.log.error("""
                audit mismatch: the object cached under canonical key \(request.key) differs from a fresh LTRANS of a \
                renumbered partition; the entry is removed and canonical keys are off for this compiler until ltod \
                restarts. Links since may hold this object: run `ltoc clear` and relink. Evidence (please report it): \(evidence)
                """)
        } else {
            context.log.error("""
                audit mismatch: the object the remote tier gave for key \(request.key) differs from a fresh LTRANS; the \
                entry is removed from both tiers. Whoever can write to the remote tier can put code into links (docs/REMOTE.md): \
                find out who wrote it. Links since may hold this object: run `ltoc clear` and relink. Evidence: \(evidence)
                """)
        }
    }
}
