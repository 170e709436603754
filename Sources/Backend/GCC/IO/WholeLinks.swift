// LTOGCCBackend: whole links. A link whose every input to lto-wrapper is unchanged from a
// recorded one is answered when its session opens: the objects lto-wrapper printed last
// time (LTRANS objects, and the debug objects it adds with -g) are restored under new
// temporary names, and what WPA and LTRANS printed is printed again; neither lto-wrapper nor
// WPA runs. A link that ran through ltod is recorded when it closes, if ltod saw everything
// it printed.
import Foundation
import LTOBackend
import LTOConfig
import LTOGCC
import LTOHash
import LTOStatistics
import LTOStorage
import LTOSystem

/// Answers and records whole links (see the file header).
struct WholeLinks: Sendable {
    let context: BackendContext
    let compilers: CompilerIdentity

    /// The key of the link `wrapper` (lto-wrapper's invocation, `options` its
    /// COLLECT_GCC_OPTIONS with ltod's additions), or why it cannot be answered whole.
    func key(_ wrapper: Invocation, inputs: [InputObject], options: String, session: String) -> Result<Digest, LinkRefusal> {
        guard context.configuration.wholeLink else { return .failure(LinkRefusal("whole-link answers are turned off (whole_link)")) }
        if let why = wholeLinkRefusal(collectOptions: CollectOptions.split(options), collectAsOptions: wrapper.env("COLLECT_AS_OPTIONS")) {
            return .failure(LinkRefusal(why))
        }
        let expanded = ResponseFile.expand(Array(wrapper.argv.dropFirst())) { readFileText(wrapper.absolute($0)) }
        let (arguments, resolutionFile) = LinkKeyInputs.splitResolution(expanded)
        var resolution: Digest?
        if let resolutionFile {
            guard let bytes = readFileBytes(wrapper.absolute(resolutionFile)) else { return .failure(LinkRefusal("cannot read \(resolutionFile)")) }
            resolution = Digest.of(bytes)
        }
        var digests: [(name: String, digest: Digest)] = []
        for input in inputs {
            guard let summary = input.summary else { return .failure(LinkRefusal("cannot read input \(input.name)")) }
            digests.append((input.name, summary.contentDigest))
        }
        guard let driver = wrapper.env("COLLECT_GCC"), !driver.isEmpty else { return .failure(LinkRefusal("COLLECT_GCC is not set")) }
        let job = DriverJob(driver: driver, invocation: wrapper)
        let compiler: [String]
        do {
            compiler = try compilers.linkFacts(driver: job.executable, environment: job.environment, args: CollectOptions.split(options),
                                               directory: wrapper.cwd, session: session)
        } catch {
            return .failure(LinkRefusal("\(error)"))
        }
        var environment: [String: String] = [:]
        for name in LinkKeyInputs.environmentNames { environment[name] = lookup(name, in: job.environment) }
        environment["MAKEFLAGS"] = environment["MAKEFLAGS"].map(LinkKeyInputs.makeFlagsForKey)
        return .success(LinkKeyInputs(compiler: compiler, arguments: arguments, collectOptions: options, directory: wrapper.cwd,
                                      environment: environment, inputs: digests, resolution: resolution).key)
    }

    /// Restores the link recorded under `key` for `wrapper`: the output lto-wrapper would print
    /// (the objects at their new names) and what the link printed, with each object's entry
    /// and build time. nil when there is no usable record; then nothing is left behind.
    func answer(_ key: Digest, wrapper: Invocation) -> (output: JobOutput, objects: [(LinkAnswer.Object, seconds: Double)])? {
        // With the audit on, remote entries are taken only where the audit sees them: by
        // the LTRANS jobs of a link that runs WPA.
        let retrieve = context.configuration.auditFraction > 0 ? context.storage.retrieveAllLocally : context.storage.retrieveAll
        let recordFile = context.scratch.newPath("link")
        defer { unlink(recordFile) }
        guard let found = try? retrieve([(CacheKey(key), recordFile)]), let hit = found.first ?? nil,
              let text = readFileText(recordFile), let record = LinkAnswer(encoded: text) else { return nil }
        let job = DriverJob(driver: wrapper.env("COLLECT_GCC") ?? "", invocation: wrapper)
        if let printed = hit.info.diagnostics, job.diagnosticsContext(of: printed.stderr) != printed.context { return nil }
        guard let directory = Self.temporaryDirectory(wrapper) else { return nil }
        var names = TemporaryNames()
        let placed = record.objects.map { names.next(in: directory, suffix: $0.suffix) }
        let restored = (try? retrieve(zip(record.objects, placed).map { (CacheKey($0.key), $1) })) ?? []
        guard restored.count == placed.count, restored.allSatisfy({ $0 != nil }) else {
            placed.forEach { unlink($0) }
            return nil
        }
        let objects = zip(record.objects, restored).map { ($0, seconds: $1?.info.buildSeconds ?? 0) }
        let stdout = Array(placed.map { $0 + "\n" }.joined().utf8)
        return (JobOutput(exitStatus: 0, stdout: stdout, stderr: hit.info.diagnostics?.stderr ?? []), objects)
    }

    /// Records a link that lto-wrapper finished with status 0 after printing `printed` on
    /// stdout and the link `messages` on stderr (lto-wrapper's own warnings among them), when
    /// ltod saw all it did: WPA answered with finished objects (or the single step of a
    /// `-flto-partition=none` link), no job refused or failed, nothing printed on stdout.
    func record(_ session: GCCLinkSession, printed: [UInt8], messages: [UInt8]) {
        let r = session.snapshot
        guard let key = r.detail.linkKey, let wrapper = r.detail.wrapper,
              r.detail.stages.answeredWPA || r.detail.stages.singleSteps > 0, r.detail.stages.ltransRequests == 0,
              !r.detail.stages.incomplete,
              let text = String(validating: printed, as: UTF8.self) else { return }
        var objects: [LinkAnswer.Object] = []
        for line in text.split(separator: "\n") {
            let path = wrapper.absolute(String(line))
            guard let suffix = TemporaryName.suffix(of: path) else { return }
            // An LTRANS object must be its job's cache entry: one not stored (it read files
            // outside its key, or its options write side files) makes the link unrecordable.
            let entry = LinkAnswer.partitionIndex(suffix) != nil ? r.detail.finished[path] : storeByContent(path, target: session.target)
            guard let entry else { return }
            objects.append(LinkAnswer.Object(key: entry, suffix: suffix))
        }
        guard !objects.isEmpty else { return }
        let stderr = messages
        let job = DriverJob(driver: wrapper.env("COLLECT_GCC") ?? "", invocation: wrapper)
        let diagnostics = stderr.isEmpty ? nil : EntryDiagnostics(stdout: [], stderr: stderr, exitStatus: 0, context: job.diagnosticsContext(of: stderr))
        let recordFile = context.scratch.newPath("link")
        defer { unlink(recordFile) }
        do {
            try writeFile(recordFile, Array(LinkAnswer(objects: objects).encoded.utf8))
            // A record whose objects were evicted stays under the same key: replace it.
            try context.storage.remove(CacheKey(key))
            try context.storage.store(CacheKey(key), from: recordFile,
                                      info: EntryInfo(buildSeconds: r.wpaSeconds, target: session.target, diagnostics: diagnostics))
        } catch {
            context.log.warning("link not recorded: \(error)", metadata: ["target": "\(session.target)"])
        }
    }

    /// Stores an object lto-wrapper printed that is no LTRANS entry (a debug object, the
    /// single object of a `-flto-partition=none` link) under its contents' key.
    private func storeByContent(_ path: String, target: String) -> Digest? {
        guard let bytes = readFileBytes(path) else { return nil }
        let key = LinkAnswer.contentKey(of: Digest.of(bytes))
        do {
            try context.storage.store(CacheKey(key), from: path, info: EntryInfo(buildSeconds: 0, target: target))
        } catch {
            return nil
        }
        return key
    }

    /// Where lto-wrapper would make its temporary files: libiberty's `choose_tmpdir`, the
    /// first usable of TMPDIR, TMP, TEMP, /tmp, /var/tmp, /usr/tmp.
    static func temporaryDirectory(_ wrapper: Invocation) -> String? {
        let candidates = ["TMPDIR", "TMP", "TEMP"].compactMap { wrapper.env($0) } + ["/tmp", "/var/tmp", "/usr/tmp"]
        return candidates.first { isUsableDirectory(wrapper.absolute($0)) }.map { wrapper.absolute($0) }
    }

    private static func isUsableDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR && access(path, R_OK | W_OK | X_OK) == 0
    }
}

/// Names `make_temp_file` could have made, taken by no file now: six characters from a
/// generator seeded once per answer, not the system's random bytes for every character.
struct TemporaryNames {
    private var state = UInt64.random(in: 0...UInt64.max)

    mutating func next(in directory: String, suffix: String) -> String {
        while true {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var bits = state >> 16
            let random = String((0..<6).map { _ in
                defer { bits /= UInt64(TemporaryName.alphabet.count) }
                return TemporaryName.alphabet[Int(bits % UInt64(TemporaryName.alphabet.count))]
            })
            let path = directory + "/" + TemporaryName.name(random: random, suffix: suffix)
            var info = stat()
            if lstat(path, &info) != 0 && errno == ENOENT { return path }
        }
    }
}

/// Why a link is not answered whole (logged at debug level).
struct LinkRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
