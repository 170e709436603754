// LTOLocalStorage owns the local cache tier: a content-addressed store of build outputs in
// one directory, shared safely by several threads and several ltod processes, and the
// persistent counters and link history kept in its index.
//
// Layout of the cache directory (0700):
//   index.sqlite                 SQLite index (WAL): one row per entry, persistent counters, link history;
//                                upgraded in place from older schema versions (`Schema`)
//   index.sqlite.lock            flock taken while (re)opening the index; removed by a clean close
//   index.sqlite.corrupt-<time>  a damaged index moved aside (see `IndexConnection`)
//   objects/ab/<key hex>         payloads above the inline threshold, sharded by the key's
//                                first two hex digits
//   objects/ab/.tmp-<pid>-<n>    writes in progress, or left by a killed process
//
// Invariants: a payload file is fully written and renamed into place inside the write
// transaction that inserts its row, and deleted inside the transaction that deletes it, so
// processes never see a committed row for a half-written file. Every read verifies the
// payload's XXH3-128 (payloads are read with read(2), never mapped: a truncated file is a
// miss, not a SIGBUS); a bad or missing payload is deleted, counted and reported as a miss.
//
// Nothing waits for fsync: the index runs with `synchronous = NORMAL` (WAL) and payload
// files are not synced before their rename. After a power loss an entry may point at a
// torn payload; its hash check then makes it a miss, so durability costs the link nothing.
// (Measured on the 2-core ext4 VM of docs/BENCHMARKS.md, load average about 9: writing a
// 100 KB payload and renaming it took 0.3-0.4 ms, 5.5-8.7 ms with the file and directory
// fsyncs that were on the path of every compiled partition before.) Payload files are
// read-only (0400): a hard link restored from one must never be written in place.
import Dispatch
import Glibc
import LTOHash
import LTOStatistics
import LTOStorage
import LTOSystem
import Synchronization

/// Size limits of a cache store.
public struct CacheLimits: Sendable {
    /// Total payload bytes above which least-recently-used entries are evicted.
    public var maxBytes: UInt64
    /// Payloads of at most this many bytes are kept inside the index instead of in a file.
    /// Small, so that build outputs are files: a restore shares a file by a hard link, where
    /// it must create and write a copy of an inline payload (on the 2-core ext4 VM of
    /// docs/BENCHMARKS.md: 7-11 µs against 190-290 µs for a 10 KB object in /tmp).
    public var inlineThreshold: Int

    public init(maxBytes: UInt64 = 5 << 30, inlineThreshold: Int = 1 << 10) {
        self.maxBytes = maxBytes
        self.inlineThreshold = inlineThreshold
    }
}

/// A content-addressed cache of build outputs in one directory; see the module header.
/// Thread-safe, and safe to share with other processes using the same directory.
public final class SQLiteStore: LocalStorage, CounterStore, LinkHistory {
    public let directory: String
    private let limits: CacheLimits
    /// The size limit in bytes; `setLimit` changes it while the store is in use.
    private let maxBytes: Atomic<UInt64>
    private let objects: String
    private let indexPath: String
    private let index: Mutex<IndexConnection>
    private let placer: Placer
    private let hitLog = Mutex(HitLog())

    /// Opens (creating if needed) the cache in `directory`. Removes temporary files left by
    /// dead processes, and replaces an index that is not a usable database (see `IndexConnection`).
    public init(directory: String, limits: CacheLimits = .init()) throws(CacheError) {
        self.directory = directory
        self.limits = limits
        maxBytes = Atomic(limits.maxBytes)
        objects = directory + "/objects"
        do { try makeDirectories(objects) } catch { throw directoryFailure(objects, error) }
        removeStaleTemporaryFiles(in: objects)
        indexPath = directory + "/index.sqlite"
        index = Mutex(try IndexConnection(path: indexPath))
        placer = Placer(objects: objects)
    }

    deinit { try? transaction { _ throws(CacheError) in } }

    /// Places the payload for `key` at `destination`, replacing any file there by a rename (see
    /// `Placer`: a reflink, a hard link to the read-only payload file, or a copy of mode 0644).
    /// The payload's hash is verified first; a missing or damaged payload removes the entry,
    /// counts "cache.corrupt" and returns nil like any other miss. A hit updates the entry's
    /// last use and hit count.
    public func retrieve(_ key: CacheKey, to destination: String) throws(CacheError) -> CacheHit? {
        try withRecovery { () throws(CacheError) -> CacheHit? in
            let hex = key.description
            guard let entry = try withIndex({ db throws(CacheError) in try db.entry(hex) }) else { return nil }
            guard let placement = try place(entry, hex, at: destination) else {
                try discardCorrupt(entry, hex)
                return nil
            }
            return CacheHit(size: entry.size, info: entry.info, hits: try noteHits([hex], of: [entry])[0], tier: .local, placement: placement)
        }
    }

    /// `retrieve` for many entries: their rows read under one lock of the index, the payloads
    /// placed a few at a time.
    public func retrieveAll(_ requests: [(key: CacheKey, destination: String)]) throws(CacheError) -> [CacheHit?] {
        try withRecovery { () throws(CacheError) -> [CacheHit?] in
            let hexes = requests.map(\.key.description)
            let entries = try withIndex { db throws(CacheError) -> [IndexEntry?] in try hexes.map { hex throws(CacheError) in try db.entry(hex) } }
            // Placing is file work only: a few at a time.
            let placed = Mutex<[Int: Result<Placement?, CacheError>]>([:])
            DispatchQueue.concurrentPerform(iterations: requests.count) { i in
                guard let entry = entries[i] else { return }
                let result = Result { () throws(CacheError) -> Placement? in try place(entry, hexes[i], at: requests[i].destination) }
                placed.withLock { $0[i] = result }
            }
            var placements: [Placement?] = []
            for i in requests.indices {
                let placement = try placed.withLock({ $0[i] })?.get() ?? nil
                if placement == nil, let entry = entries[i] { try discardCorrupt(entry, hexes[i]) }
                placements.append(placement)
            }
            let found = requests.indices.filter { placements[$0] != nil }
            let hits = try noteHits(found.map { hexes[$0] }, of: found.compactMap { entries[$0] })
            var answers = [CacheHit?](repeating: nil, count: requests.count)
            for (i, count) in zip(found, hits) {
                guard let entry = entries[i], let placement = placements[i] else { continue }
                answers[i] = CacheHit(size: entry.size, info: entry.info, hits: count, tier: .local, placement: placement)
            }
            return answers
        }
    }

    /// Stores a copy of the file at `source` under `key`: inside the index up to the inline
    /// threshold, else as a payload file (temp file, fsync, rename, directory fsync).
    /// Storing a key that is already present does nothing. Afterwards evicts least recently
    /// used entries while the cache exceeds its limit, counting "cache.evictions".
    /// A full disk raises `.diskFull`, with nothing stored and no temporary file left.
    public func store(_ key: CacheKey, from source: String, info: EntryInfo) throws(CacheError) {
        try withRecovery { () throws(CacheError) in
            guard try !withIndex({ db throws(CacheError) in try db.hasEntry(key.description) }) else { return }
            let file: ReadFile
            do throws(Errno) { file = try ReadFile(path: source, followSymlinks: true) } catch {
                throw .cannotReadSource(path: source, errno: error.code)
            }
            let failure: CacheError? = file.bytes.withUnsafeBytes { bytes in
                do throws(CacheError) {
                    try insert(key, bytes, info: info) { fd throws(Errno) in try writeAll(bytes, to: fd) }
                } catch { return error }
                return nil
            }
            if let failure { throw failure }
        }
    }

    /// Stores `payload` under `key` (a remote hit written back); as `store(_:from:info:)`.
    public func store(_ key: CacheKey, payload: [UInt8], info: EntryInfo) throws(CacheError) {
        try withRecovery { () throws(CacheError) in
            guard try !withIndex({ db throws(CacheError) in try db.hasEntry(key.description) }) else { return }
            let failure: CacheError? = payload.withUnsafeBytes { bytes in
                do throws(CacheError) {
                    try insert(key, bytes, info: info) { fd throws(Errno) in try writeAll(bytes, to: fd) }
                } catch { return error }
                return nil
            }
            if let failure { throw failure }
        }
    }

    /// The verified payload and info of `key`, without counting a hit.
    public func load(_ key: CacheKey) throws(CacheError) -> (payload: [UInt8], info: EntryInfo)? {
        let hex = key.description
        guard let entry = try reading({ db throws(CacheError) in try db.entry(hex) }) else { return nil }
        if let bytes = entry.inline { return entry.verifies(bytes) ? (bytes, entry.info) : nil }
        guard isRealDirectory(shardPath(hex)), let file = try? ReadFile(path: payloadPath(hex), followSymlinks: false),
              entry.verifies(file.bytes)
        else { return nil }
        return (file.bytes, entry.info)
    }

    /// Inserts the row for `bytes`, inline or through a payload file written by `fill`.
    private func insert(_ key: CacheKey, _ bytes: UnsafeRawBufferPointer, info: EntryInfo,
                        fill: (Int32) throws(Errno) -> Void) throws(CacheError) {
        let hex = key.description
        let row = NewRow(key: hex, size: UInt64(bytes.count), payloadHash: Digest.of(bytes).description, info: info)
        if bytes.count <= limits.inlineThreshold {
            try commit(row, inline: bytes, payload: nil)
        } else {
            let temporary = try writeTemporary(for: hex, fill)
            defer { removeFile(temporary) }
            try commit(row, inline: nil, payload: temporary)
        }
    }

    /// Removes the entry for `key` and its payload; false when there was none.
    @discardableResult
    public func remove(_ key: CacheKey) throws(CacheError) -> Bool {
        let hex = key.description
        return try writing { db throws(CacheError) -> Bool in
            guard let entry = try db.entry(hex) else { return false }
            try db.deleteEntry(hex)
            if entry.inline == nil { removeFile(payloadPath(hex)) }
            return true
        }
    }

    /// The payload of a small entry (at most 1 MiB), verified, without counting a hit: for
    /// metadata kept beside other entries. nil when absent, larger, or damaged.
    public func smallPayload(_ key: CacheKey) -> [UInt8]? {
        let hex = key.description
        guard let entry = try? reading({ db throws(CacheError) in try db.entry(hex) }), entry.size <= 1 << 20 else { return nil }
        if let bytes = entry.inline { return entry.verifies(bytes) ? bytes : nil }
        guard isRealDirectory(shardPath(hex)), let file = try? ReadFile(path: payloadPath(hex), followSymlinks: false),
              entry.verifies(file.bytes)
        else { return nil }
        return file.bytes
    }

    /// Whether an entry for `key` is indexed (its payload is verified only by `retrieve`);
    /// false also when the index cannot be read.
    public func contains(_ key: CacheKey) -> Bool {
        let hex = key.description
        return (try? reading { db throws(CacheError) in try db.hasEntry(hex) }) ?? false
    }

    /// Entries and payload bytes, and the bytes on disk: the index with its write-ahead log
    /// (checkpointed first, so that the log holds no more than what is being written now),
    /// and the payload files.
    public func summary() throws(CacheError) -> CacheSummary {
        let totals = try reading { db throws(CacheError) in
            db.checkpoint()
            return try db.totals()
        }
        let indexFiles = ["", "-wal", "-shm"].reduce(UInt64(0)) { sum, suffix in
            sum + UInt64(FileIdentity(path: indexPath + suffix)?.size ?? 0)
        }
        return CacheSummary(entries: totals.entries, bytes: totals.bytes, diskBytes: indexFiles + totals.fileBytes,
                            limitBytes: maxBytes.load(ordering: .relaxed))
    }

    /// Changes the size limit and evicts least recently used entries down to it.
    public func setLimit(maxBytes bytes: UInt64) throws(CacheError) -> EvictionResult {
        maxBytes.store(bytes, ordering: .relaxed)
        return try evict(maxBytes: bytes, olderThan: nil)
    }

    /// Checkpoints and closes the index and removes its lock file; the next call reopens it.
    public func close() {
        index.withLock { $0.close() }
    }

    /// Removes entries not used for `seconds`, then least recently used entries until at
    /// most `maxBytes` remain. Counts "cache.evictions".
    public func evict(maxBytes: UInt64?, olderThan seconds: Double?) throws(CacheError) -> EvictionResult {
        try writing { db throws(CacheError) in try evict(in: db, maxBytes: maxBytes, olderThan: seconds) }
    }

    /// Removes every entry, and any payload file without an entry (left by a killed process).
    public func clear() throws(CacheError) -> EvictionResult {
        try writing { db throws(CacheError) in
            let result = try remove(db.allVictims(), from: db)
            for shard in shardDirectories(in: objects) {
                for name in directoryEntries("\(objects)/\(shard)") where !name.hasPrefix(temporaryPrefix) {
                    removeFile("\(objects)/\(shard)/\(name)")
                }
            }
            return result
        }
    }

    /// Adds to the persistent counters, creating them at zero.
    public func addCounters(_ deltas: [Statistic: Double]) throws(CacheError) {
        try writing { db throws(CacheError) in try db.addCounters(deltas) }
    }

    /// All persistent counters; they survive restarts. Names this ltod does not know are left out.
    public func counters() throws(CacheError) -> [Statistic: Double] {
        try reading { db throws(CacheError) in try db.counters() }
    }

    public func resetCounters() throws(CacheError) {
        try writing { db throws(CacheError) in try db.resetCounters() }
    }

    /// Every indexed key (for tests and diagnostics).
    func allKeys() throws(CacheError) -> [CacheKey] {
        let keys = try reading { db throws(CacheError) in try db.allKeys() }
        return keys.compactMap { Digest(hex: $0).map(CacheKey.init) }
    }

    /// Where the payload file of `hex` lives.
    func payloadPath(_ hex: String) -> String {
        "\(shardPath(hex))/\(hex)"
    }

    private func shardPath(_ hex: String) -> String {
        "\(objects)/\(hex.prefix(2))"
    }

    /// Deletes the payload file of `hex`, unless its shard is not a real directory: nothing is
    /// ever deleted through a symlink planted in the cache.
    private func removePayload(_ hex: String) {
        if isRealDirectory(shardPath(hex)) { removeFile(payloadPath(hex)) }
    }

    // MARK: - Index access

    /// Runs `body` with the index under the mutex.
    private func withIndex<T: Sendable>(_ body: (SQLiteDatabase) throws(CacheError) -> T) throws(CacheError) -> T {
        try index.withLock { (connection) throws(CacheError) -> T in try body(connection.current()) }
    }

    /// Runs `operation`; if the index turns out corrupt, replaces it and runs `operation` once more.
    private func withRecovery<T>(_ operation: () throws(CacheError) -> T) throws(CacheError) -> T {
        do {
            return try operation()
        } catch where error.isCorruptIndex {
            try index.withLock { (connection) throws(CacheError) in try connection.recover() }
            return try operation()
        }
    }

    /// Runs `body` on the index, with corruption recovery.
    func reading<T: Sendable>(_ body: (SQLiteDatabase) throws(CacheError) -> T) throws(CacheError) -> T {
        try withRecovery { () throws(CacheError) -> T in try withIndex(body) }
    }

    /// Runs `body` in a write transaction, with corruption recovery.
    func writing<T: Sendable>(_ body: (SQLiteDatabase) throws(CacheError) -> T) throws(CacheError) -> T {
        try withRecovery { () throws(CacheError) -> T in try transaction(body) }
    }

    /// Runs `body` in a write transaction, which first writes the hits noted since the last
    /// one; for steps of an operation that recovers as a whole.
    private func transaction<T: Sendable>(_ body: (SQLiteDatabase) throws(CacheError) -> T) throws(CacheError) -> T {
        let hits = hitLog.withLock { $0.take() }
        return try withIndex { db throws(CacheError) -> T in
            try db.writeTransaction { () throws(CacheError) -> T in
                for (hex, hit) in hits { _ = try db.recordHit(hex, at: hit.lastUsed, count: hit.count) }
                return try body(db)
            }
        }
    }

    /// Notes hits of `entries` (keys `hexes`), written with the next write transaction, at the
    /// latest a second or 512 hits later: a write transaction per hit cost more than placing
    /// the object. Returns each entry's hit count including this hit.
    private func noteHits(_ hexes: [String], of entries: [IndexEntry]) throws(CacheError) -> [Int] {
        let now = currentTime()
        let (counts, due) = hitLog.withLock { log in
            (zip(hexes, entries).map { hex, entry in entry.hits + log.note(hex, at: now) }, log.isDue(at: now))
        }
        if due { try transaction { _ throws(CacheError) in } }
        return counts
    }

    // MARK: - Retrieving

    /// Verifies the payload of `entry` and places it at `destination`; nil if the payload is
    /// missing, not a regular file (e.g. a planted symlink) or fails its size or hash.
    private func place(_ entry: IndexEntry, _ hex: String, at destination: String) throws(CacheError) -> Placement? {
        if let bytes = entry.inline {
            guard entry.verifies(bytes) else { return nil }
            try placer.place(bytes, at: destination)
            return .copy
        }
        let path = payloadPath(hex)
        guard isRealDirectory(shardPath(hex)) else { return nil }
        let file: ReadFile
        do { file = try ReadFile(path: path, followSymlinks: false) } catch {
            guard [ENOENT, ENOTDIR, ELOOP, EINVAL].contains(error.code) else {
                throw .fileOperationFailed(operation: "read cache payload", path: path, errno: error.code)
            }
            return nil
        }
        guard entry.verifies(file.bytes) else { return nil }
        return try placer.place(file, payload: path, at: destination)
    }

    /// Deletes an entry whose payload failed verification, unless another process already
    /// removed or replaced it, and counts "cache.corrupt".
    private func discardCorrupt(_ entry: IndexEntry, _ hex: String) throws(CacheError) {
        try transaction { db throws(CacheError) in
            guard try db.deleteEntry(hex, created: entry.created) else { return }
            if entry.inline == nil { removePayload(hex) }
            try db.addCounters([.cacheCorrupt: 1])
        }
    }

    // MARK: - Storing

    private struct NewRow {
        let key: String
        let size: UInt64
        let payloadHash: String
        let info: EntryInfo
    }

    /// Writes a new read-only temporary file next to the payload path of `hex` (not synced:
    /// see the file header).
    private func writeTemporary(for hex: String, _ fill: (Int32) throws(Errno) -> Void) throws(CacheError) -> String {
        let shard = shardPath(hex)
        do { try makeDirectories(shard) } catch { throw directoryFailure(shard, error) }
        let path = "\(shard)/\(temporaryPrefix)\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        do {
            try createFile(at: path, mode: 0o400) { fd throws(Errno) in try fill(fd) }
        } catch {
            throw .writeFailed("write cache payload", path, error)
        }
        return path
    }

    /// Inserts `row` in one write transaction, first renaming the `payload` temp file into
    /// place, then evicts down to the limit. No-op if the key
    /// appeared meanwhile. If the transaction fails, the renamed payload file is removed again.
    private func commit(_ row: NewRow, inline: UnsafeRawBufferPointer?, payload: String?) throws(CacheError) {
        var placed = false
        do {
            try transaction { db throws(CacheError) in
                guard try !db.hasEntry(row.key) else { return }
                if let payload {
                    try moveIntoPlace(payload, row.key)
                    placed = true
                }
                try db.insert(key: row.key, size: row.size, payloadHash: row.payloadHash, inline: inline,
                              now: currentTime(), buildSeconds: row.info.buildSeconds, target: row.info.target,
                              diagnostics: row.info.diagnostics)
                _ = try evict(in: db, maxBytes: maxBytes.load(ordering: .relaxed), olderThan: nil)
            }
        } catch {
            if placed { removePayload(row.key) }
            throw error
        }
    }

    private func moveIntoPlace(_ temporary: String, _ hex: String) throws(CacheError) {
        let path = payloadPath(hex)
        guard rename(temporary, path) == 0 else { throw .writeFailed("rename into place", path, Errno()) }
    }

    // MARK: - Evicting

    /// Runs inside a write transaction.
    private func evict(in db: SQLiteDatabase, maxBytes: UInt64?, olderThan seconds: Double?) throws(CacheError) -> EvictionResult {
        var removed = EvictionResult(entriesRemoved: 0, bytesFreed: 0)
        if let seconds {
            removed += try remove(db.victims(usedBefore: currentTime() - seconds), from: db)
        }
        if let maxBytes, case let total = try db.totals().bytes, total > maxBytes {
            removed += try remove(db.leastRecentlyUsed(covering: total - maxBytes), from: db)
        }
        if removed.entriesRemoved > 0 { try db.addCounters([.cacheEvictions: Double(removed.entriesRemoved)]) }
        return removed
    }

    /// Deletes the rows and payload files of `victims`. A payload file another process already
    /// deleted is fine; one that cannot be deleted is left as an orphan for `clear` to sweep.
    private func remove(_ victims: [Victim], from db: SQLiteDatabase) throws(CacheError) -> EvictionResult {
        for victim in victims {
            try db.deleteEntry(victim.key)
            if victim.isFile { removePayload(victim.key) }
        }
        return EvictionResult(entriesRemoved: victims.count, bytesFreed: victims.reduce(0) { $0 + $1.size })
    }
}

private let temporaryPrefix = ".tmp-"

/// The shard directories under `objects`; a symlink there is skipped, never followed.
private func shardDirectories(in objects: String) -> [String] {
    directoryEntries(objects).filter { isRealDirectory("\(objects)/\($0)") }
}

/// The store's error for a cache directory that could not be created or used.
private func directoryFailure(_ path: String, _ error: Errno) -> CacheError {
    error.code == ELOOP ? .symlinkRefused(path: path) : .cannotCreateDirectory(path: path, errno: error.code)
}

/// Removes temporary files of processes that no longer exist, and any older than an hour.
private func removeStaleTemporaryFiles(in objects: String) {
    let now = currentTime()
    for shard in shardDirectories(in: objects) {
        for name in directoryEntries("\(objects)/\(shard)") where name.hasPrefix(temporaryPrefix) {
            let path = "\(objects)/\(shard)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let ageSeconds = now - Double(info.st_mtim.tv_sec)
            if ageSeconds > 3600 || !processExists(temporaryOwner(name)) { removeFile(path) }
        }
    }
}

/// The pid in a `.tmp-<pid>-<random>` name.
private func temporaryOwner(_ name: String) -> pid_t? {
    pid_t(name.dropFirst(temporaryPrefix.count).prefix { $0 != "-" })
}

private func processExists(_ pid: pid_t?) -> Bool {
    guard let pid, pid > 0 else { return false }
    return kill(pid, 0) == 0 || errno != ESRCH
}
