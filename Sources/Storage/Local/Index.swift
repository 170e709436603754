import CSQLite
import Glibc
import LTOHash
import LTOStatistics
import LTOStorage
import LTOSystem

/// The index schema, as the steps that built it. `PRAGMA user_version` holds how many steps
/// an index has had (0: a new, empty file); opening an index runs the steps it lacks, in
/// one write transaction. A step is only ever added at the end, never changed.
enum Schema {
    static let steps: [String] = [
        // 1: entries and the persistent counters.
        """
        CREATE TABLE entries (
            key TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            payload_hash TEXT NOT NULL,
            inline BLOB,
            created REAL NOT NULL,
            last_used REAL NOT NULL,
            hits INTEGER NOT NULL,
            build_seconds REAL NOT NULL,
            target TEXT NOT NULL
        );
        CREATE INDEX entries_last_used ON entries (last_used);
        CREATE TABLE counters (name TEXT PRIMARY KEY, value REAL NOT NULL);
        """,
        // 2: the link history (`LinkHistory`): the last links of each target, and its totals.
        """
        CREATE TABLE links (
            id INTEGER PRIMARY KEY,
            target TEXT NOT NULL,
            started REAL NOT NULL,
            partitions INTEGER NOT NULL,
            reused INTEGER NOT NULL,
            wpa_seconds REAL NOT NULL,
            saved_seconds REAL NOT NULL,
            report BLOB NOT NULL
        );
        CREATE INDEX links_target ON links (target, started);
        CREATE TABLE link_totals (
            target TEXT PRIMARY KEY,
            links INTEGER NOT NULL,
            partitions INTEGER NOT NULL,
            reused INTEGER NOT NULL,
            wpa_seconds REAL NOT NULL,
            saved_seconds REAL NOT NULL,
            first_link REAL NOT NULL,
            last_link REAL NOT NULL
        );
        """,
        // 3: what a job printed when it built the entry (all NULL when it printed nothing;
        // the entries of older indexes are of jobs that printed nothing, so NULL is exact).
        Schema.diagnosticsColumns.map { "ALTER TABLE entries ADD COLUMN \($0);\n" }.joined(),
    ]

    /// The version of an index with every step.
    static var version: Int64 { Int64(steps.count) }

    /// What a job printed when it built the entry.
    static let diagnosticsColumns = ["stdout BLOB", "stderr BLOB", "exit_status INTEGER", "diagnostics_context TEXT"]
}

/// One row of `entries`. `inline` is nil when the payload lives in a file under objects/.
struct IndexEntry: Sendable {
    let size: UInt64
    let payloadHash: String
    let inline: [UInt8]?
    let created: Double
    let hits: Int
    let buildSeconds: Double
    let target: String
    let diagnostics: EntryDiagnostics?

    var info: EntryInfo { EntryInfo(buildSeconds: buildSeconds, target: target, diagnostics: diagnostics) }

    /// Whether `bytes` are this entry's payload: its size and XXH3-128.
    func verifies(_ bytes: [UInt8]) -> Bool {
        UInt64(bytes.count) == size && Digest.of(bytes).description == payloadHash
    }
}

/// Hits noted but not yet written to the index, by key.
struct HitLog {
    private var hits: [String: (lastUsed: Double, count: Int)] = [:]
    private var since: Double?

    /// Notes one hit; returns the hits of `key` noted so far.
    mutating func note(_ key: String, at time: Double) -> Int {
        if since == nil { since = time }
        let count = (hits[key]?.count ?? 0) + 1
        hits[key] = (time, count)
        return count
    }

    /// Whether the noted hits should be written now.
    func isDue(at time: Double) -> Bool { hits.count >= 512 || (since.map { time - $0 >= 1 } ?? false) }

    /// The noted hits, forgotten here.
    mutating func take() -> [String: (lastUsed: Double, count: Int)] {
        defer { hits = [:]; since = nil }
        return hits
    }
}

/// An entry chosen for removal.
struct Victim {
    let key: String
    let size: UInt64
    let isFile: Bool
}

extension SQLiteDatabase {
    /// Opens `path` as a cache index: WAL journal (truncated to 1 MiB after a checkpoint),
    /// 10 s busy timeout, schema created if new and upgraded if older. A symlink at the index
    /// or its journals is refused, never followed.
    static func openIndex(at path: String) throws(CacheError) -> SQLiteDatabase {
        for file in [path, path + "-wal", path + "-shm"] where isSymlink(file) { throw .symlinkRefused(path: file) }
        let db = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: 10_000)
        try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 1048576")
        if try db.userVersion() != Schema.version { try db.upgradeSchema() }
        return db
    }

    /// Runs the schema steps the index lacks, in one write transaction (reading its version
    /// again inside it, as another process may have upgraded it meanwhile). An index of a
    /// newer schema is refused; one whose upgrade fails is reported corrupt, so that it is
    /// set aside and never misread.
    private func upgradeSchema() throws(CacheError) {
        try writeTransaction { () throws(CacheError) in
            let version = try userVersion()
            guard version <= Schema.version else { throw .unsupportedSchema(path: path, version: version) }
            guard version >= 0 else { throw .databaseFailed(path: path, code: SQLITE_CORRUPT, reason: "schema version \(version)") }
            for step in Schema.steps[Int(version)...] {
                do { try execute(step) } catch {
                    throw .databaseFailed(path: path, code: SQLITE_CORRUPT,
                                          reason: "cannot upgrade the index from schema version \(version): \(error)")
                }
            }
            try execute("PRAGMA user_version = \(Schema.version)")
        }
    }

    /// Copies the write-ahead log into the index and truncates it, without waiting for other
    /// connections (with readers or a writer busy, it copies what it can and leaves the log
    /// for the next checkpoint), so that it never holds up a link.
    func checkpoint() {
        withoutWaiting { _ = try? run("PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Fails with SQLITE_CORRUPT unless `PRAGMA quick_check` finds the file intact.
    func checkIntegrity() throws(CacheError) {
        var result = ""
        try run("PRAGMA quick_check(1)") { result = $0.text(0) }
        guard result == "ok" else { throw .databaseFailed(path: path, code: SQLITE_CORRUPT, reason: result) }
    }

    private func userVersion() throws(CacheError) -> Int64 {
        var version: Int64 = 0
        try run("PRAGMA user_version") { version = $0.integer(0) }
        return version
    }

    func entry(_ key: String) throws(CacheError) -> IndexEntry? {
        var found: IndexEntry?
        let sql = """
            SELECT size, payload_hash, inline, created, hits, build_seconds, target, stdout, stderr, exit_status, diagnostics_context
            FROM entries WHERE key = ?
            """
        try run(sql, [.text(key)]) { row in
            found = IndexEntry(
                size: UInt64(row.integer(0)), payloadHash: row.text(1), inline: row.blob(2), created: row.real(3),
                hits: Int(row.integer(4)), buildSeconds: row.real(5), target: row.text(6), diagnostics: Self.diagnostics(row))
        }
        return found
    }

    /// The diagnostics of a row read by `entry`; nil when the job printed nothing. A row whose
    /// diagnostics are incomplete reads as a context nobody has, so it never replays.
    private static func diagnostics(_ row: SQLRow) -> EntryDiagnostics? {
        let (stdout, stderr) = (row.blob(7), row.blob(8))
        guard stdout != nil || stderr != nil else { return nil }
        let context = Digest(hex: row.text(10)) ?? Digest(high: 0, low: 0)
        return EntryDiagnostics(stdout: stdout ?? [], stderr: stderr ?? [], exitStatus: Int32(truncatingIfNeeded: row.integer(9)), context: context)
    }

    func hasEntry(_ key: String) throws(CacheError) -> Bool {
        var found = false
        try run("SELECT 1 FROM entries WHERE key = ?", [.text(key)]) { _ in found = true }
        return found
    }

    func allKeys() throws(CacheError) -> [String] {
        var keys: [String] = []
        try run("SELECT key FROM entries") { keys.append($0.text(0)) }
        return keys
    }

    func insert(key: String, size: UInt64, payloadHash: String, inline: UnsafeRawBufferPointer?,
                now: Double, buildSeconds: Double, target: String, diagnostics: EntryDiagnostics?) throws(CacheError) {
        try run(
            """
            INSERT INTO entries (key, size, payload_hash, inline, created, last_used, hits, build_seconds, target,
                                 stdout, stderr, exit_status, diagnostics_context)
            VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)
            """,
            [.text(key), .integer(Int64(size)), .text(payloadHash), inline.map { .blob($0) } ?? .null,
             .real(now), .real(now), .real(buildSeconds), .text(target),
             diagnostics.map { .bytes($0.stdout) } ?? .null, diagnostics.map { .bytes($0.stderr) } ?? .null,
             diagnostics.map { .integer(Int64($0.exitStatus)) } ?? .null, diagnostics.map { .text($0.context.description) } ?? .null])
    }

    /// Sets last_used and adds `count` hits; returns the new hit count, or nil if the entry is gone.
    func recordHit(_ key: String, at time: Double, count: Int = 1) throws(CacheError) -> Int? {
        var hits: Int?
        try run("UPDATE entries SET last_used = MAX(last_used, ?), hits = hits + ? WHERE key = ? RETURNING hits",
                [.real(time), .integer(Int64(count)), .text(key)]) { hits = Int($0.integer(0)) }
        return hits
    }

    /// Deletes the entry only if it is still the row that was read (same `created`), so a
    /// concurrent evict-and-store by another process is left alone. Returns whether it deleted.
    func deleteEntry(_ key: String, created: Double) throws(CacheError) -> Bool {
        try run("DELETE FROM entries WHERE key = ? AND created = ?", [.text(key), .real(created)]) == 1
    }

    func deleteEntry(_ key: String) throws(CacheError) {
        try run("DELETE FROM entries WHERE key = ?", [.text(key)])
    }

    /// Entries, payload bytes, and the payload bytes kept in files rather than inline.
    func totals() throws(CacheError) -> (entries: Int, bytes: UInt64, fileBytes: UInt64) {
        var totals = (entries: 0, bytes: UInt64(0), fileBytes: UInt64(0))
        try run("SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(CASE WHEN inline IS NULL THEN size ELSE 0 END), 0) FROM entries") {
            totals = (Int($0.integer(0)), UInt64($0.integer(1)), UInt64($0.integer(2)))
        }
        return totals
    }

    func victims(usedBefore cutoff: Double) throws(CacheError) -> [Victim] {
        try victims("SELECT key, size, inline IS NULL FROM entries WHERE last_used < ?", [.real(cutoff)])
    }

    /// The least recently used entries whose sizes add up to at least `bytes`.
    func leastRecentlyUsed(covering bytes: UInt64) throws(CacheError) -> [Victim] {
        try victims(
            """
            SELECT key, size, is_file FROM (
                SELECT key, size, inline IS NULL AS is_file, SUM(size) OVER (ORDER BY last_used, key) AS running
                FROM entries)
            WHERE running - size < ?
            """, [.integer(Int64(bytes))])
    }

    func allVictims() throws(CacheError) -> [Victim] {
        try victims("SELECT key, size, inline IS NULL FROM entries", [])
    }

    private func victims(_ sql: String, _ bindings: [SQLValue]) throws(CacheError) -> [Victim] {
        var found: [Victim] = []
        try run(sql, bindings) { found.append(Victim(key: $0.text(0), size: UInt64($0.integer(1)), isFile: $0.integer(2) != 0)) }
        return found
    }

    func addCounters(_ deltas: [Statistic: Double]) throws(CacheError) {
        for (statistic, delta) in deltas where delta != 0 {
            try run("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                    [.text(statistic.name), .real(delta)])
        }
    }

    func counters() throws(CacheError) -> [Statistic: Double] {
        var values: [Statistic: Double] = [:]
        try run("SELECT name, value FROM counters") { row in
            if let statistic = Statistic(rawValue: row.text(0)) { values[statistic] = row.real(1) }
        }
        return values
    }

    func resetCounters() throws(CacheError) {
        try run("DELETE FROM counters")
    }
}

/// The index connection behind the store's mutex.
///
/// A cache index holds nothing that recompiling cannot rebuild, so a damaged index is
/// replaced rather than reported: if the file at `path` is not a SQLite database or is
/// corrupt (at init or while in use), it is moved aside as `<path>.corrupt-<unix time>`
/// and an empty index is started. If the file is deleted or replaced while in use, the next
/// call notices the changed inode and reopens whatever is at `path` now (recreating it if
/// missing). All (re)opening happens under an flock on `<path>.lock`, so that several
/// processes never move files aside or drop a WAL at the same time.
struct IndexConnection {
    let path: String
    private var database: SQLiteDatabase?
    private var identity: FileNode?
    private var walIdentity: FileNode?

    init(path: String) throws(CacheError) {
        self.path = path
        _ = try reopen(verifying: false)
    }

    /// The open database, reopened first if the file at `path` is no longer the one it opened.
    mutating func current() throws(CacheError) -> SQLiteDatabase {
        if let database, FileNode(path: path) == identity { return database }
        return try reopen(verifying: false)
    }

    /// Checkpoints and closes the index and removes its lock file (a clean stop); the next
    /// `current()` reopens it. SQLite removes the write-ahead log when this was the last
    /// connection to the index.
    mutating func close() {
        guard let lock = try? FileLock(path: path + ".lock") else { return }
        database?.checkpoint()
        database = nil
        identity = nil
        walIdentity = nil
        lock.remove()
    }

    /// Called after a statement reported corruption: keeps the index if it now passes
    /// `quick_check` (another process may have replaced it already), else starts a new one.
    mutating func recover() throws(CacheError) {
        _ = try reopen(verifying: true)
    }

    private mutating func reopen(verifying: Bool) throws(CacheError) -> SQLiteDatabase {
        let lockPath = path + ".lock"
        let lock: FileLock
        do { lock = try FileLock(path: lockPath) } catch {
            throw .fileOperationFailed(operation: "lock", path: lockPath, errno: error.code)
        }
        defer { withExtendedLifetime(lock) {} }
        database = nil
        // SQLite keeps the WAL of a database file that was moved or deleted while open. Left
        // in place it would be replayed into whatever file now has this name, so drop it if
        // it is still the one this connection used.
        if let walIdentity, FileNode(path: path) != identity, FileNode(path: path + "-wal") == walIdentity {
            removeJournals(path)
        }
        let db = try Self.open(path, verifying: verifying)
        database = db
        identity = FileNode(path: path)
        walIdentity = FileNode(path: path + "-wal")
        return db
    }

    private static func open(_ path: String, verifying: Bool) throws(CacheError) -> SQLiteDatabase {
        do {
            let db = try SQLiteDatabase.openIndex(at: path)
            if verifying { try db.checkIntegrity() }
            return db
        } catch where error.isCorruptIndex {
            try moveAside(path)
        }
        return try SQLiteDatabase.openIndex(at: path)
    }

    private static func moveAside(_ path: String) throws(CacheError) {
        let aside = "\(path).corrupt-\(Int(currentTime()))"
        guard rename(path, aside) == 0 || errno == ENOENT else {
            throw .fileOperationFailed(operation: "move aside the corrupt index", path: path, errno: errno)
        }
        removeJournals(path)
    }
}

private func removeJournals(_ path: String) {
    removeFile(path + "-wal")
    removeFile(path + "-shm")
}
