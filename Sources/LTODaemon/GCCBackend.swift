import Foundation
import LTOCache
import LTOGCC
import LTOHash
import LTOObject
import LTOProcess
import LTOWire
import Logging
import Synchronization

/// Errors of the GCC backend, phrased for the user whose link they affect.
enum BackendError: Error, CustomStringConvertible {
    case notFromWrapper
    case compilerProbe(String, String)
    case unreadablePartition(String)

    var description: String {
        switch self {
        case .notFromWrapper: return "driver request without LTOD_DRIVER: ltoc must be started by ltod's lto-wrapper"
        case .compilerProbe(let driver, let option): return "\(driver) \(option) failed; is this a working GCC driver?"
        case .unreadablePartition(let path): return "cannot read LTRANS partition \(path)"
        }
    }
}

/// The daemon side of GCC's WHOPR pipeline: runs WPA with the real driver, keys each
/// partition, and answers LTRANS requests from the cache or by running the real LTRANS.
final class GCCBackend: Sendable {
    let store: CacheStore
    let scheduler: Scheduler
    let stats: Statistics
    let configuration: Configuration
    let tempDirectory: String
    let log: Logger
    let compilers = CompilerIdentity()
    let inflight = InFlight()
    let sessions = Mutex<[String: LinkSession]>([:])
    let lastLinks = Mutex<[String: LinkSession]>([:])
    let objects: ObjectMemo
    let audit: Audit
    let storeWarnings = StoreWarnings()

    init(store: CacheStore, scheduler: Scheduler, stats: Statistics, configuration: Configuration, log: Logger) throws(TemporaryAreaError) {
        self.store = store
        self.scheduler = scheduler
        self.stats = stats
        self.configuration = configuration
        self.log = log
        tempDirectory = configuration.cacheDirectory + "/tmp"
        objects = ObjectMemo(stats: stats)
        audit = Audit(fraction: configuration.auditFraction, directory: configuration.cacheDirectory + "/audit")
        try TemporaryArea.prepare(tempDirectory)
    }

    // MARK: Sessions

    func openSession(_ wrapper: Invocation) -> Reply {
        let inputs = objects.inputs(wrapperArguments: Array(wrapper.argv.dropFirst()), directory: wrapper.cwd)
        // Offloading runs mkoffload, which finds the accelerator compiler next to COLLECT_GCC.
        if let offload = inputs.first(where: { $0.summary?.elf.sections.contains { $0.name.hasPrefix(".gnu.offload_lto_") } ?? false }) {
            return .passThrough(reason: "\(offload.name) has offloading sections")
        }
        let id = UUID().uuidString
        let session = LinkSession(id: id, target: linkTarget(collectOptions: wrapper.env("COLLECT_GCC_OPTIONS"), directory: wrapper.cwd),
                                  directory: wrapper.cwd)
        sessions.withLock { $0[id] = session }
        stats.add("sessions.total")
        let previous = lastLinks.withLock { $0[session.target] }?.snapshot.inputs
        session.recordInputs(inputs, changes: previous.map { ObjectMemo.changes(from: $0, to: inputs) })
        log.debug("session opened", metadata: ["session": "\(id)", "target": "\(session.target)"])
        let option = configuration.partition.option(forCollectOptions: wrapper.env("COLLECT_GCC_OPTIONS") ?? "")
        return .session(id: id, partitionOption: option ?? "")
    }

    func closeSession(id: String, status: Int32) -> Reply {
        let warning = storeWarnings.take(session: id).map { Array("ltod did not cache this link's results: \($0)".utf8) } ?? []
        guard let session = sessions.withLock({ $0.removeValue(forKey: id) }) else { return .output(exitStatus: 0, stdout: [], stderr: warning) }
        session.finish(status: status)
        lastLinks.withLock { $0[session.target] = session }
        let s = session.snapshot
        log.info("link finished", metadata: [
            "target": "\(session.target)", "status": "\(status)",
            "reused": "\(s.outcomes.filter { $0.kind == .reused }.count)",
            "rebuilt": "\(s.outcomes.filter { $0.kind == .rebuilt }.count)",
        ])
        return .output(exitStatus: 0, stdout: [], stderr: warning)
    }

    // MARK: Driver requests

    func compile(sessionID: String, _ inv: Invocation) -> Reply {
        guard let driver = inv.env("LTOD_DRIVER"), !driver.isEmpty else { return .failure(BackendError.notFromWrapper.description) }
        // Only the links this daemon opened: it writes nowhere else (a daemon restarted
        // mid-link has no session; the shim then runs the job itself).
        guard let session = sessions.withLock({ $0[sessionID] }) else {
            return .failure("ltod has no link session \(sessionID.prefix(64)); the job runs without ltod")
        }
        let job = DriverJob(driver: driver, invocation: inv)
        do {
            switch DriverCommand.classify(job.arguments) {
            case .wpa(let wpa): return try runWPA(wpa, job: job, session: session)
            case .ltrans(let ltrans): return try runLTRANS(ltrans, job: job, session: session)
            case .other: return try job.run(in: tempDirectory, scheduler: scheduler).reply
            }
        } catch {
            return .failure("\(error)")
        }
    }

    private func runWPA(_ wpa: WPACommand, job: DriverJob, session: LinkSession) throws -> Reply {
        let result = try job.run(in: tempDirectory, scheduler: scheduler)
        stats.add(["wpa.runs": 1, "wpa.seconds": result.seconds, "wpa.failures": result.status.succeeded ? 0 : 1])
        guard result.status.succeeded,
              let text = readText(job.absolute(wpa.outputList)),
              let entries = LTRANSListEntry.parse(text)
        else { return result.reply }
        var records: [PartitionRecord] = []
        for (index, entry) in entries.enumerated() where !entry.passThrough {
            let path = job.absolute(entry.path)
            guard let (bytes, identity) = try? readFile(path: path) else { continue }
            let keying = PartitionKeying(bytes, canonical: configuration.canonicalKeys)
            records.append(PartitionRecord(index: index, path: path, identity: identity, keying: keying,
                                           functions: functionBodies(in: bytes)))
            if configuration.prefetch && wpa.ltransRunsSerially { prefetch(wpa: wpa, index: index, entry: entry.path, bytes: bytes, keying: keying, job: job, session: session) }
        }
        session.recordWPA(partitions: records, seconds: result.seconds)
        return result.reply
    }

    private func runLTRANS(_ cmd: LTRANSCommand, job: DriverJob, session: LinkSession) throws -> Reply {
        if let reason = cmd.uncacheableReason {
            stats.add("ltrans.uncacheable")
            let result = try job.run(in: tempDirectory, scheduler: scheduler)
            session.record(LTRANSOutcome(index: nil, key: nil, kind: .uncached, seconds: result.seconds, note: reason))
            return result.reply
        }
        let input = job.absolute(cmd.input)
        let partition = try currentPartition(input, session: session)
        let keyed = try self.key(for: cmd, job: job, partition: partition.keying)
        countKeyForm(keyed.form, partition.keying)
        let key = keyed.key
        let output = job.absolute(cmd.output)
        let target = BuildTarget(key: key, form: keyed.form, keying: partition.keying, input: input, inputIdentity: partition.identity,
                                 output: output, index: partition.index)
        let audit = AuditRequest(command: cmd, job: job, compiler: keyed.compiler)
        // A prefetch or another link may be building this very key: wait for it, then reuse.
        _ = inflight.waitIfRunning(key)
        if let reply = reuse(target, session: session, audit: audit) { return reply }
        if inflight.begin(key) {
            return try build(job: job, target, session: session, owned: true)
        }
        _ = inflight.waitIfRunning(key)
        if let reply = reuse(target, session: session, audit: audit) { return reply }
        return try build(job: job, target, session: session, owned: false)
    }

    /// One LTRANS job to build: its key, the partition file the key was computed from, its output.
    struct BuildTarget {
        let key: Digest
        let form: PartitionForm
        let keying: PartitionKeying
        let input: String
        let inputIdentity: FileIdentity
        let output: String
        let index: Int?
    }

    /// Answers from the cache if it can: the object is placed at `output` (a private copy).
    private func reuse(_ target: BuildTarget, session: LinkSession, audit request: AuditRequest) -> Reply? {
        let key = target.key
        guard let hit = try? store.retrieve(CacheKey(key), to: target.output) else { return nil }
        if session.wasPrefetched(key) {
            session.record(LTRANSOutcome(index: target.index, key: key, kind: .rebuilt, seconds: hit.buildSeconds, note: "built ahead of lto-wrapper's request"))
            stats.add(["ltrans.rebuilt": 1, "cache.misses": 1])
            return .output(exitStatus: 0, stdout: [], stderr: [])
        }
        let renumbering = target.form == .canonical ? canonicalOnlyReuse(target) : nil
        session.record(LTRANSOutcome(index: target.index, key: key, kind: .reused, seconds: hit.buildSeconds, note: renumbering?.summary))
        stats.add(["ltrans.reused": 1, "cache.hits": 1, "ltrans.seconds_saved": hit.buildSeconds, "ltrans.canonical_hits": renumbering == nil ? 0 : 1])
        if renumbering != nil, audit.shouldAudit() { auditLater(target, request) }
        return .output(exitStatus: 0, stdout: [], stderr: [])
    }

    /// How the partition was renumbered against the one the cached object was built from;
    /// nil when their bytes were the same (a bytes key would have hit too) or unrecorded.
    private func canonicalOnlyReuse(_ target: BuildTarget) -> Renumbering? {
        guard let canonical = target.keying.canonical, let provenance = provenance(of: target.key),
              provenance.bytesDigest != target.keying.bytesDigest
        else { return nil }
        return Renumbering(cached: provenance.orders, current: canonical)
    }

    /// Runs the real LTRANS. The result is stored only if the partition file still is the one
    /// the key was computed from, so a file changed under ltod can never be cached under an old key.
    private func build(job: DriverJob, _ target: BuildTarget, session: LinkSession, owned: Bool) throws -> Reply {
        defer { if owned { inflight.finish(target.key) } }
        let (result, external) = try runListingReads(job)
        if !result.status.succeeded, let full = TemporaryArea.fullFilesystem(tempDirectory) {
            _ = storeWarnings.note(full, session: session.id)
            return .failure(full)
        }
        stats.add(["ltrans.rebuilt": 1, "cache.misses": 1, "ltrans.seconds_spent": result.seconds, "ltrans.failures": result.status.succeeded ? 0 : 1])
        session.record(LTRANSOutcome(index: target.index, key: target.key, kind: .rebuilt, seconds: result.seconds,
                                     note: external.map { "not stored: the assembler read " + $0.joined(separator: ", ") }))
        if external != nil { stats.add("ltrans.uncacheable") }
        if result.status.succeeded && external == nil && FileIdentity(path: target.input) == target.inputIdentity {
            if storeResult(target.key, output: target.output, result: result, session: session), target.form == .canonical {
                recordProvenance(target.key, keying: target.keying, partition: target.input)
            }
        }
        return result.reply
    }

    /// Runs an LTRANS job with `-Wa,--MD,<file>` (which changes nothing in the object) so that
    /// the assembler lists what it read. Returns nil as the second value only when it read
    /// nothing but lto1's output; otherwise the files (or a reason), and the result is not stored.
    private func runListingReads(_ job: DriverJob) throws -> (ProcessResult, external: [String]?) {
        // A private TMPDIR, so that lto1's temporary assembler file is known to be the job's own.
        let jobDirectory = tempDirectory + "/job-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: jobDirectory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: jobDirectory) }
        let deps = jobDirectory + "/deps.d"
        guard !deps.contains(",") else { return (try job.run(in: tempDirectory, scheduler: scheduler), ["(the cache path has a comma)"]) }
        let listing = job.with(arguments: job.rawArguments + ["-Wa,--MD," + deps], setting: ["TMPDIR": jobDirectory])
        let result = try listing.run(in: tempDirectory, scheduler: scheduler)
        guard let text = readText(deps), let listed = AssemblerDependencies.parse(text) else {
            return (result, ["(no dependency list from the assembler)"])
        }
        let external = AssemblerDependencies.externalInputs(listed, privateDirectory: jobDirectory)
        return (result, external.isEmpty ? nil : external)
    }

    /// Stores a finished LTRANS object; true when stored. Jobs that printed diagnostics are
    /// not stored, so their warnings are shown again on every link rather than lost on a hit.
    /// A failure to store is logged, and told to the user when the link closes, once per link.
    private func storeResult(_ key: Digest, output: String, result: ProcessResult, session: LinkSession) -> Bool {
        guard result.stderr.isEmpty, result.stdout.isEmpty else { return false }
        do {
            try store.store(CacheKey(key), from: output, buildSeconds: result.seconds, target: session.target)
            return true
        } catch {
            stats.add("cache.store_failures")
            if storeWarnings.note("\(error)", session: session.id) {
                log.warning("not cached: \(error)", metadata: ["target": "\(session.target)"])
            }
            return false
        }
    }

    // MARK: Prefetch

    /// Starts the LTRANS job lto-wrapper is about to ask for, when its key misses. Used when
    /// lto-wrapper runs LTRANS serially: ltod then builds the misses in parallel on its scheduler.
    /// (When lto-wrapper is parallel itself, building ahead measured slower, 7.8 s against 6.8 s
    /// for a cold 201-partition link, so it is left to lto-wrapper.)
    /// It runs on a private copy of the partition's bytes (the ones the key was computed
    /// from), so nothing lto-wrapper does to its files can make the stored object stale.
    private func prefetch(wpa: WPACommand, index: Int, entry: String, bytes: [UInt8], keying: PartitionKeying,
                          job: DriverJob, session: LinkSession) {
        guard let predicted = wpa.predictedLTRANS(index: index, input: entry), predicted.uncacheableReason == nil,
              let keyed = try? key(for: predicted, job: job, partition: keying),
              case let key = keyed.key, !store.contains(CacheKey(key)), inflight.begin(key)
        else { return }
        session.markPrefetched(key)
        stats.add("ltrans.prefetched")
        let privateBase = tempDirectory + "/prefetch-\(getpid())-\(UUID().uuidString)"
        Thread.detachNewThread { [self] in
            defer {
                inflight.finish(key)
                unlink(privateBase + ".o")
                unlink(privateBase + ".ltrans.o")
            }
            guard FileManager.default.createFile(atPath: privateBase + ".o", contents: Data(bytes)) else { return }
            let args = predicted.retargeted(input: privateBase + ".o", output: privateBase + ".ltrans.o")
            guard let (result, external) = try? runListingReads(job.with(arguments: args)) else { return }
            stats.add(["ltrans.seconds_spent": result.seconds, "ltrans.failures": result.status.succeeded ? 0 : 1])
            if result.status.succeeded && external == nil {
                if storeResult(key, output: privateBase + ".ltrans.o", result: result, session: session), keyed.form == .canonical {
                    recordProvenance(key, keying: keying, partition: privateBase + ".o")
                }
            }
        }
    }

    // MARK: Keys

    private func currentPartition(_ path: String, session: LinkSession) throws -> PartitionRecord {
        if let known = session.partition(at: path), FileIdentity(path: path) == known.identity { return known }
        guard let (bytes, identity) = try? readFile(path: path) else { throw BackendError.unreadablePartition(path) }
        return PartitionRecord(index: nil, path: path, identity: identity, keying: PartitionKeying(bytes, canonical: configuration.canonicalKeys), functions: functionBodies(in: bytes))
    }

    private func sessionID(of job: DriverJob) -> String { job.invocation.env("LTOD_SESSION") ?? "" }

    /// The key of an LTRANS job, the form its partition was digested in, and the compiler facts.
    private func key(for cmd: LTRANSCommand, job: DriverJob, partition: PartitionKeying) throws
        -> (key: Digest, form: PartitionForm, compiler: [String]) {
        let compiler = try compilers.facts(driver: job.executable, environment: job.environment, args: cmd.args,
                                           directory: job.invocation.cwd, session: sessionID(of: job))
        var env: [String: String] = [:]
        for name in LTRANSKeyInputs.environmentNames { env[name] = lookup(name, in: job.environment) }
        let (digest, form) = partitionDigest(partition, compiler: compiler)
        let key = LTRANSKeyInputs(compiler: compiler, arguments: cmd.keyArguments, directory: job.invocation.cwd,
                                  environment: env, partition: digest, partitionForm: form).key
        log.debug("LTRANS key", metadata: ["key": "\(key)", "partition": "\(digest) (\(form.rawValue))",
                                           "compiler": "\(compiler.joined(separator: " "))", "arguments": "\(cmd.keyArguments.joined(separator: " "))"])
        return (key, form, compiler)
    }

    private func countKeyForm(_ form: PartitionForm, _ p: PartitionKeying) {
        switch form {
        case .canonical: stats.add("ltrans.canonical_keys")
        case .raw: stats.add("ltrans.raw_keys")
        case .normalized: break
        }
        if configuration.canonicalKeys, form != .canonical {
            stats.add("ltrans.canonical_fallbacks")
            log.debug("partition keyed by its bytes", metadata: ["reason": "\(p.canonicalFailure ?? "canonical keys disabled for this compiler by an audit mismatch")"])
        }
    }

    /// The canonical digest when enabled, available and not disabled for this compiler by an
    /// audit mismatch; otherwise the digest of the bytes.
    private func partitionDigest(_ p: PartitionKeying, compiler: [String]) -> (Digest, PartitionForm) {
        if configuration.canonicalKeys, let canonical = p.canonical, !audit.isDisabled(compiler) {
            return (canonical.digest, .canonical)
        }
        return (p.bytesDigest, p.bytesForm)
    }

    /// The symbols whose GIMPLE bodies a partition carries (from its section names).
    private func functionBodies(in bytes: [UInt8]) -> [String] {
        guard let elf = try? ELFFile(bytes: bytes, path: "<partition>") else { return [] }
        return elf.sections.compactMap { section in
            guard case .functionBody(let symbol, _)? = LTOSectionName(section.name)?.kind else { return nil }
            return symbol
        }
    }
}

/// One driver invocation to run for a client: the real driver, the client's
/// environment with ltod's own variables removed, its directory and arguments.
struct DriverJob: Sendable {
    /// The driver as lto-wrapper names it (argv[0] of every run).
    let driver: String
    /// The driver's file: found in the client's PATH, relative names taken from the client's directory.
    let executable: String
    let invocation: Invocation
    let environment: [String]
    let rawArguments: [String]
    /// Arguments with response files expanded (what GCC itself will see).
    let arguments: [String]

    init(driver: String, invocation: Invocation) {
        self.driver = driver
        self.invocation = invocation
        executable = DriverJob.locate(driver, cwd: invocation.cwd, path: invocation.env("PATH"))
        environment = invocation.environment.filter { !$0.hasPrefix("LTOD_DRIVER=") && !$0.hasPrefix("LTOD_SESSION=") && !$0.hasPrefix("COLLECT_GCC=") }
            + ["COLLECT_GCC=\(driver)"]
        rawArguments = Array(invocation.argv.dropFirst())
        let cwd = invocation.cwd
        // A response file that is not valid UTF-8 stays unexpanded: the job is then not
        // recognised as WPA or LTRANS and runs exactly as asked, uncached.
        arguments = ResponseFile.expand(rawArguments) { path in
            readBytes(path.hasPrefix("/") ? path : cwd + "/" + path).flatMap { String(validating: $0, as: UTF8.self) }
        }
    }

    private init(copy: DriverJob, arguments: [String], environment: [String]) {
        driver = copy.driver
        executable = copy.executable
        invocation = copy.invocation
        self.environment = environment
        rawArguments = arguments
        self.arguments = arguments
    }

    func with(arguments: [String], setting extra: [String: String] = [:]) -> DriverJob {
        let env = environment.filter { entry in !extra.keys.contains { entry.hasPrefix($0 + "=") } } + extra.map { "\($0)=\($1)" }
        return DriverJob(copy: self, arguments: arguments, environment: env)
    }

    /// Resolves a driver name the way the client's exec would, as an absolute path.
    static func locate(_ name: String, cwd: String, path: String?) -> String {
        let absolute = { (p: String) in p.hasPrefix("/") ? p : cwd + "/" + p }
        if name.contains("/") { return absolute(name) }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = absolute(dir.isEmpty ? "." : String(dir)) + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return name
    }

    func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : invocation.cwd + "/" + path }

    /// Runs the real driver, exactly as lto-wrapper asked, on a scheduler slot.
    func run(in tempDirectory: String, scheduler: Scheduler) throws -> ProcessResult {
        let cmd = Command(executable: executable, argv: [driver] + rawArguments, environment: environment, directory: invocation.cwd)
        return try scheduler.withSlot { try runCaptured(cmd, tempDirectory: tempDirectory) }
    }
}

extension ProcessResult {
    var reply: Reply { .output(exitStatus: status.code, stdout: stdout, stderr: stderr) }
}
