// LTOGCCBackend: the audit of hits ltod trusts least: a sample of the hits that only the
// canonical key found, of those found only because source locations were abstracted, and
// of those the remote tier answered, is compiled again in the background and compared byte
// for byte with the cached object. A mismatch removes the entry (from both tiers) and keeps
// the evidence; for a canonical-only hit it also disables canonical keys for that compiler,
// for a location-only hit the abstraction of locations, until the daemon restarts.
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
    /// Only the key without source locations found it: the partition's locations moved.
    case locationOnly
}

/// Audits canonical-only, location-only and remote hits (see the file header).
final class Auditor: Sendable {
    /// Where a mismatch's evidence is kept: `<cache>/audit/<time>-<key>/`.
    let directory: String
    private let context: BackendContext
    /// Per kind of doubt (canonical-only, location-only), the compilers a mismatch disabled it for.
    private let disabled = Mutex<[AuditReason: Set<[String]>]>([:])

    init(context: BackendContext) {
        self.context = context
        directory = context.configuration.cacheDirectory + "/audit"
    }

    /// Whether a mismatch turned off, for `compiler`, the keys that found hits of kind `reason`.
    func isDisabled(_ compiler: [String], _ reason: AuditReason = .canonicalOnly) -> Bool {
        disabled.withLock { $0[reason]?.contains(compiler) ?? false }
    }

    /// The probability a hit with `reasons` is audited: the highest configured for any of them.
    func fraction(for reasons: Set<AuditReason>) -> Double {
        reasons.map { $0 == .locationOnly ? context.configuration.auditLocationsFraction : context.configuration.auditFraction }.max() ?? 0
    }

    /// Audits the hit with the configured probability: copies the partition now, then
    /// compiles it again on another thread and compares the object with the cached one.
    func sample(_ request: AuditRequest, reasons: Set<AuditReason>) {
        let fraction = fraction(for: reasons)
        guard fraction > 0, Double.random(in: 0..<1) < fraction else { return }
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
        let doubts = reasons.subtracting([.remoteHit])
        disabled.withLock { for reason in doubts { $0[reason, default: []].insert(request.compiler) } }
        _ = try? context.storage.retrieve(CacheKey(Provenance.partitionKey(for: request.key)), to: evidence + "/cached-from-partition.o")
        context.log.error("\(Self.mismatchMessage(key: request.key, doubts: doubts)) Links since may hold this object: run `ltoc clear` and relink. Evidence (please report it): \(evidence)")
    }

    /// What a mismatch means for a hit found for `doubts` (none: the remote tier answered).
    static func mismatchMessage(key: Digest, doubts: Set<AuditReason>) -> String {
        var turnedOff: [String] = []
        if doubts.contains(.canonicalOnly) { turnedOff.append("canonical keys") }
        if doubts.contains(.locationOnly) { turnedOff.append("keys without source locations") }
        guard !turnedOff.isEmpty else {
            return """
                audit mismatch: the object the remote tier gave for key \(key) differs from a fresh LTRANS; the entry is removed \
                from both tiers. Whoever can write to the remote tier can put code into links (docs/REMOTE.md): find out who wrote it.
                """
        }
        return """
            audit mismatch: the object cached under key \(key) differs from a fresh LTRANS of a partition that differs from the \
            one it was built from only in what the key leaves out; the entry is removed and \(turnedOff.joined(separator: " and ")) \
            are off for this compiler until ltod restarts.
            """
    }
}
