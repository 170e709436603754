// LTOGCCBackend: the cache key of an LTRANS job: the compiler's identity, the command
// line, what its native options expand to here, the directory (unless the key's scope
// shows the output cannot record it), the environment and the partition's digest, in the
// form the key's scope, the settings and the audit allow.
import LTOGCC
import LTOHash
import LTOStatistics
import LTOSystem
import Logging

/// A partition's digests: by its bytes (normalized, or raw when its layout is unusual);
/// where the LTO format is one ltod has verified, canonical (orders replaced by ranks); and,
/// when asked for, canonical with every source location abstracted.
struct PartitionKeying: Sendable {
    let bytesDigest: Digest
    let bytesForm: PartitionForm
    let canonical: CanonicalPartition?
    /// Why there is no canonical digest.
    let canonicalFailure: String?
    /// The location-free digest, or why there is none; nil when it was not asked for.
    let withoutLocations: Result<LocationFreeDigest, LocationKeyRefusal>?

    /// With `canonical` false (canonical keys turned off), the stream is not parsed at all.
    /// With `locations`, the location-free digest is made too (the job's key scope allows it).
    init(_ bytes: [UInt8], canonical wanted: Bool, locations: LocationDigester? = nil) {
        if let d = normalizedPartitionDigest(of: bytes) {
            (bytesDigest, bytesForm) = (d, .normalized)
        } else {
            (bytesDigest, bytesForm) = (Digest.of(bytes), .raw)
        }
        switch wanted ? canonicalPartition(of: bytes) : nil {
        case .success(let c)?: (canonical, canonicalFailure) = (c, nil)
        case .failure(let why)?: (canonical, canonicalFailure) = (nil, why.description)
        case nil: (canonical, canonicalFailure) = (nil, "canonical keys are turned off")
        }
        if let locations, let canonical {
            withoutLocations = locations.digest(bytes, bytesDigest: bytesDigest, exact: canonical.digest)
        } else {
            withoutLocations = nil
        }
    }
}

/// An LTRANS job's key, the form its partition was digested in, and the compiler facts.
struct JobKey: Sendable {
    let key: Digest
    let form: PartitionForm
    let compiler: [String]
    /// The key's scope (`LTRANSWhitelist`).
    let scope: KeyScope
}

/// Makes LTRANS keys.
struct KeyMaker: Sendable {
    let context: BackendContext
    let compilers: CompilerIdentity
    let audit: Auditor
    /// Shared by every stage of the backend: a partition is read without locations once.
    let locations: LocationDigester

    /// The key of `cmd` run as `job` on a partition with `keying`.
    func key(for cmd: LTRANSCommand, job: DriverJob, partition: PartitionKeying) throws -> JobKey {
        let compiler = try compilers.facts(driver: job.executable, environment: job.environment, args: cmd.args,
                                           directory: job.invocation.cwd, session: job.session)
        let native = try compilers.nativeExpansion(driver: job.executable, environment: job.environment, args: cmd.args,
                                                   directory: job.invocation.cwd, session: job.session)
        var env: [String: String] = [:]
        for name in LTRANSKeyInputs.environmentNames { env[name] = lookup(name, in: job.environment) }
        let scope = cmd.keyScope
        let (digest, form) = partitionDigest(partition, scope: scope, compiler: compiler)
        let arguments = cmd.keyArguments(scope: scope)
        let directory = scope == .withoutLocations ? nil : job.invocation.cwd
        let key = LTRANSKeyInputs(compiler: compiler, arguments: arguments, nativeExpansion: native, directory: directory,
                                  environment: env, partition: digest, partitionForm: form).key
        context.log.debug("LTRANS key", metadata: ["key": "\(key)", "partition": "\(digest) (\(form.rawValue))",
                                                   "compiler": "\(compiler.joined(separator: " "))", "scope": "\(scope.rawValue)",
                                                   "arguments": "\(arguments.joined(separator: " "))",
                                                   "native": "\(native.joined(separator: " "))", "directory": "\(directory ?? "-")"])
        return JobKey(key: key, form: form, compiler: compiler, scope: scope)
    }

    /// The reader of location-free digests when `cmd`'s scope lets its key leave locations
    /// out and nothing turned that off; nil otherwise (no stream is read).
    func locationDigester(for cmd: LTRANSCommand) -> LocationDigester? {
        context.configuration.canonicalKeys && cmd.keyScope == .withoutLocations ? locations : nil
    }

    /// Counts how a partition was keyed, and why not canonically (or not without locations)
    /// where the settings and the key's scope would have allowed it.
    func count(_ key: JobKey, _ p: PartitionKeying) {
        switch key.form {
        case .canonical: context.stats.add(.ltransCanonicalKeys)
        case .withoutLocations: context.stats.add([.ltransCanonicalKeys: 1, .ltransLocationKeys: 1])
        case .raw: context.stats.add(.ltransRawKeys)
        case .normalized: break
        }
        guard context.configuration.canonicalKeys else { return }
        if key.form != .canonical && key.form != .withoutLocations {
            context.stats.add(.ltransCanonicalFallbacks)
            context.log.debug("partition keyed by its bytes", metadata: [
                "reason": "\(p.canonicalFailure ?? "canonical keys disabled for this compiler by an audit mismatch")",
            ])
        } else if key.scope == .withoutLocations && key.form == .canonical {
            context.stats.add(.ltransLocationFallbacks)
            let reason: String
            if case .failure(let why)? = p.withoutLocations { reason = why.reason } else { reason = "keys without locations disabled for this compiler by an audit mismatch" }
            context.log.debug("partition keyed with exact locations", metadata: ["reason": "\(reason)"])
        }
    }

    /// The digest the settings, the key's scope and the audit allow: without locations, else
    /// canonical, else by the bytes.
    private func partitionDigest(_ p: PartitionKeying, scope: KeyScope, compiler: [String]) -> (Digest, PartitionForm) {
        guard context.configuration.canonicalKeys, let canonical = p.canonical, !audit.isDisabled(compiler) else {
            return (p.bytesDigest, p.bytesForm)
        }
        if scope == .withoutLocations, case .success(let free)? = p.withoutLocations, !audit.isDisabled(compiler, .locationOnly) {
            return (free.digest, .withoutLocations)
        }
        return (canonical.digest, .canonical)
    }
}
