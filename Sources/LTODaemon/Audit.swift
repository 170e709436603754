import Foundation
import LTOCache
import LTOGCC
import LTOHash
import Synchronization

/// The audit of canonical keys: a sample of the hits that only the canonical key found is
/// compiled again in the background and compared byte for byte with the cached object. A
/// mismatch disables canonical keys for that compiler until the daemon restarts.
final class Audit: Sendable {
    let fraction: Double
    /// Where a mismatch's evidence is kept: `<cache>/audit/<time>-<key>/`.
    let directory: String
    private let disabledCompilers = Mutex<Set<[String]>>([])

    init(fraction: Double, directory: String) {
        self.fraction = fraction
        self.directory = directory
    }

    func shouldAudit() -> Bool { fraction > 0 && Double.random(in: 0..<1) < fraction }
    func isDisabled(_ compiler: [String]) -> Bool { disabledCompilers.withLock { $0.contains(compiler) } }
    func disable(_ compiler: [String]) { _ = disabledCompilers.withLock { $0.insert(compiler) } }
}

/// What an audit needs to run an LTRANS job again.
struct AuditRequest: Sendable {
    let command: LTRANSCommand
    let job: DriverJob
    let compiler: [String]
}

extension GCCBackend {
    /// The provenance recorded beside the canonical entry `key`, if it is still cached.
    func provenance(of key: Digest) -> Provenance? {
        guard let bytes = store.inlinePayload(Provenance.key(for: key)), let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return Provenance(encoded: text)
    }

    /// Records what a canonical entry was built from; in audit mode also keeps the partition,
    /// so that a mismatch can be reported with both partitions.
    func recordProvenance(_ key: Digest, keying: PartitionKeying, partition: String) {
        guard let canonical = keying.canonical else { return }
        let path = tempDirectory + "/provenance-\(getpid())-\(UUID().uuidString)"
        defer { unlink(path) }
        let record = Provenance(bytesDigest: keying.bytesDigest, orders: canonical.orders)
        do {
            try record.encoded.write(toFile: path, atomically: false, encoding: .utf8)
            try store.store(Provenance.key(for: key), from: path, buildSeconds: 0, target: "(provenance)")
            if audit.fraction > 0 { try store.store(Provenance.partitionKey(for: key), from: partition, buildSeconds: 0, target: "(audit partition)") }
        } catch {
            log.warning("provenance of \(key) not recorded: \(error)")
        }
    }

    /// Copies the partition now (lto-wrapper deletes it after the link), then compiles it
    /// again on another thread and compares the object with the cached one.
    func auditLater(_ target: BuildTarget, _ request: AuditRequest) {
        let evidence = audit.directory + "/\(Int(Date().timeIntervalSince1970))-\(target.key.description.prefix(16))-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: evidence, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: target.input, toPath: evidence + "/partition.o")
        } catch {
            log.warning("audit of \(target.key) skipped: \(error)")
            try? FileManager.default.removeItem(atPath: evidence)
            return
        }
        Thread.detachNewThread { [self] in
            runAudit(target, request, evidence: evidence)
        }
    }

    private func runAudit(_ target: BuildTarget, _ request: AuditRequest, evidence: String) {
        let rebuilt = evidence + "/rebuilt.ltrans.o", cached = evidence + "/cached.ltrans.o"
        let args = request.command.retargeted(input: evidence + "/partition.o", output: rebuilt)
        guard let result = try? request.job.with(arguments: args).run(in: tempDirectory, scheduler: scheduler), result.status.succeeded,
              (try? store.retrieve(CacheKey(target.key), to: cached)) != nil
        else {
            log.warning("audit of \(target.key) could not run: LTRANS failed or the entry is gone")
            try? FileManager.default.removeItem(atPath: evidence)
            return
        }
        stats.add("ltrans.audit_runs")
        if readBytes(rebuilt) == readBytes(cached) {
            try? FileManager.default.removeItem(atPath: evidence)
            return
        }
        audit.disable(request.compiler)
        stats.add("ltrans.audit_mismatches")
        _ = try? store.retrieve(Provenance.partitionKey(for: target.key), to: evidence + "/cached-from-partition.o")
        _ = try? store.remove(CacheKey(target.key))
        log.error("""
            audit mismatch: the object cached under canonical key \(target.key) differs from a fresh LTRANS of a \
            renumbered partition; the entry is removed and canonical keys are off for this compiler until ltod \
            restarts. Links since may hold this object: run `ltoc clear` and relink. Evidence (please report it): \(evidence)
            """)
    }
}
