// LTOGCCBackend: the cache key of an LTRANS job: the compiler's identity, the command
// line, what its native options expand to here, the directory (when the output can record
// it), the environment and the partition's digest, in the form the settings and the audit
// allow.
import LTOGCC
import LTOHash
import LTOStatistics
import LTOSystem
import Logging

/// A partition's digests: by its bytes (normalized, or raw when its layout is unusual)
/// and, where the LTO format is one ltod has verified, canonical (orders replaced by ranks).
struct PartitionKeying: Sendable {
    let bytesDigest: Digest
    let bytesForm: PartitionForm
    let canonical: CanonicalPartition?
    /// Why there is no canonical digest.
    let canonicalFailure: String?

    /// With `canonical` false (canonical keys turned off), the stream is not parsed at all.
    init(_ bytes: [UInt8], canonical wanted: Bool) {
        if let d = normalizedPartitionDigest(of: bytes) {
            (bytesDigest, bytesForm) = (d, .normalized)
        } else {
            (bytesDigest, bytesForm) = (Digest.of(bytes), .raw)
        }
        guard wanted else {
            (canonical, canonicalFailure) = (nil, "canonical keys are turned off")
            return
        }
        switch canonicalPartition(of: bytes) {
        case .success(let c): (canonical, canonicalFailure) = (c, nil)
        case .failure(let why): (canonical, canonicalFailure) = (nil, why.description)
        }
    }
}

/// An LTRANS job's key, the form its partition was digested in, and the compiler facts.
struct JobKey: Sendable {
    let key: Digest
    let form: PartitionForm
    let compiler: [String]
}

/// Makes LTRANS keys.
struct KeyMaker: Sendable {
    let context: BackendContext
    let compilers: CompilerIdentity
    let audit: Auditor

    /// The key of `cmd` run as `job` on a partition with `keying`.
    func key(for cmd: LTRANSCommand, job: DriverJob, partition: PartitionKeying) throws -> JobKey {
        let compiler = try compilers.facts(driver: job.executable, environment: job.environment, args: cmd.args,
                                           directory: job.invocation.cwd, session: job.session)
        let native = try compilers.nativeExpansion(driver: job.executable, environment: job.environment, args: cmd.args,
                                                   directory: job.invocation.cwd, session: job.session)
        var env: [String: String] = [:]
        for name in LTRANSKeyInputs.environmentNames { env[name] = lookup(name, in: job.environment) }
        let (digest, form) = partitionDigest(partition, compiler: compiler)
        let directory = MachineDependence.dependsOnDirectory(cmd.keyArguments) ? job.invocation.cwd : nil
        let key = LTRANSKeyInputs(compiler: compiler, arguments: cmd.keyArguments, nativeExpansion: native, directory: directory,
                                  environment: env, partition: digest, partitionForm: form).key
        context.log.debug("LTRANS key", metadata: ["key": "\(key)", "partition": "\(digest) (\(form.rawValue))",
                                                   "compiler": "\(compiler.joined(separator: " "))",
                                                   "arguments": "\(cmd.keyArguments.joined(separator: " "))",
                                                   "native": "\(native.joined(separator: " "))", "directory": "\(directory ?? "-")"])
        return JobKey(key: key, form: form, compiler: compiler)
    }

    /// Counts how a partition was keyed, and why not canonically when canonical keys are on.
    func count(_ form: PartitionForm, _ p: PartitionKeying) {
        switch form {
        case .canonical: context.stats.add(.ltransCanonicalKeys)
        case .raw: context.stats.add(.ltransRawKeys)
        case .normalized: break
        }
        if context.configuration.canonicalKeys, form != .canonical {
            context.stats.add(.ltransCanonicalFallbacks)
            context.log.debug("partition keyed by its bytes", metadata: [
                "reason": "\(p.canonicalFailure ?? "canonical keys disabled for this compiler by an audit mismatch")",
            ])
        }
    }

    /// The canonical digest when enabled, available and not disabled for this compiler by an
    /// audit mismatch; otherwise the digest of the bytes.
    private func partitionDigest(_ p: PartitionKeying, compiler: [String]) -> (Digest, PartitionForm) {
        if context.configuration.canonicalKeys, let canonical = p.canonical, !audit.isDisabled(compiler) {
            return (canonical.digest, .canonical)
        }
        return (p.bytesDigest, p.bytesForm)
    }
}
