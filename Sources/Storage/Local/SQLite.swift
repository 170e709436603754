import CSQLite

// This wrapper is ours (not GRDB) because the store needs only a handful of statements,
// with precise control of transactions and of the busy timeout.

/// A value bound to a `?` parameter. Blob bytes are copied by SQLite during binding.
enum SQLValue {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(UnsafeRawBufferPointer)
    case bytes([UInt8])
    case null
}

/// One result row; valid only inside the callback of `SQLiteDatabase.run`.
struct SQLRow {
    fileprivate let statement: OpaquePointer

    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func real(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
    func text(_ column: Int32) -> String {
        sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""
    }
    /// nil for SQL NULL.
    func blob(_ column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let base = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}

/// One SQLite connection. Not thread-safe: `CacheStore` serialises access with a mutex.
final class SQLiteDatabase {
    let path: String
    private let handle: OpaquePointer
    private let busyTimeoutMilliseconds: Int32
    /// Statements prepared once and reused (a handful of fixed SQL texts; preparing one
    /// costs more than running it on a small table).
    private var prepared: [String: OpaquePointer] = [:]

    init(path: String, busyTimeoutMilliseconds: Int32) throws(CacheError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw .cannotOpenDatabase(path: path, reason: reason)
        }
        self.path = path
        handle = db
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit {
        for statement in prepared.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without parameters or results.
    func execute(_ sql: String) throws(CacheError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw failure(rc) }
    }

    /// Runs one statement, calling `row` for each result row; returns the number of rows changed.
    @discardableResult
    func run(_ sql: String, _ bindings: [SQLValue] = [], row: (SQLRow) -> Void = { _ in }) throws(CacheError) -> Int {
        let statement = try statement(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in bindings.enumerated() {
            let rc = bind(value, at: Int32(offset + 1), in: statement)
            guard rc == SQLITE_OK else { throw failure(rc) }
        }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return Int(sqlite3_changes(handle)) }
            guard rc == SQLITE_ROW else { throw failure(rc) }
            row(SQLRow(statement: statement))
        }
    }

    /// Runs `body` without waiting for other connections: what would wait returns busy at once.
    func withoutWaiting<T>(_ body: () -> T) -> T {
        sqlite3_busy_timeout(handle, 0)
        defer { sqlite3_busy_timeout(handle, busyTimeoutMilliseconds) }
        return body()
    }

    private func statement(_ sql: String) throws(CacheError) -> OpaquePointer {
        if let known = prepared[sql] { return known }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw failure(rc) }
        prepared[sql] = statement
        return statement
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT` (taking the write lock up front, so the
    /// busy timeout applies and no read-to-write upgrade can deadlock); rolls back if it throws.
    func writeTransaction<T>(_ body: () throws(CacheError) -> T) throws(CacheError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }

    private func bind(_ value: SQLValue, at index: Int32, in statement: OpaquePointer) -> Int32 {
        switch value {
        case let .integer(v): sqlite3_bind_int64(statement, index, v)
        case let .real(v): sqlite3_bind_double(statement, index, v)
        case let .text(v): sqlite3_bind_text(statement, index, v, -1, sqliteTransient)
        case let .blob(bytes) where bytes.isEmpty: sqlite3_bind_zeroblob(statement, index, 0)
        case let .blob(bytes): sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), sqliteTransient)
        case let .bytes(bytes): bytes.withUnsafeBytes { bind(.blob($0), at: index, in: statement) }
        case .null: sqlite3_bind_null(statement, index)
        }
    }

    private func failure(_ code: Int32) -> CacheError {
        if code & 0xff == SQLITE_FULL { return .diskFull(path: path) }
        return .databaseFailed(path: path, code: code, reason: String(cString: sqlite3_errmsg(handle)))
    }
}

/// SQLITE_TRANSIENT, a C macro Swift cannot import: tells SQLite to copy bound bytes.
private var sqliteTransient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }
