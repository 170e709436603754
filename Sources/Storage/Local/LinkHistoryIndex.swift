// LTOLocalStorage: the link history kept in the cache index (`links`, `link_totals`): the
// newest links of each target with their reports, and each target's totals.
import LTOStorage

extension SQLiteStore {
    /// Adds `entry` and its totals in one write transaction, then drops the links beyond
    /// `limits.linksPerTarget` of its target and the targets beyond `limits.targets`.
    public func recordLink(_ entry: LinkHistoryEntry, limits: LinkHistoryLimits) throws(CacheError) {
        try writing { db throws(CacheError) in
            try db.insertLink(entry)
            try db.addToTotals(entry)
            try db.pruneLinks(of: entry.target, keeping: limits.linksPerTarget)
            try db.pruneTargets(keeping: limits.targets)
        }
    }

    /// The newest link of every target, newest first.
    public func latestLinks() throws(CacheError) -> [LinkHistoryEntry] {
        try reading { db throws(CacheError) in
            try db.links(where: "started = (SELECT MAX(started) FROM links AS newer WHERE newer.target = links.target)", [])
        }
    }

    /// The kept links of `target`, newest first.
    public func links(of target: String) throws(CacheError) -> [LinkHistoryEntry] {
        try reading { db throws(CacheError) in try db.links(where: "target = ?", [.text(target)]) }
    }

    public func linkTotals(of target: String) throws(CacheError) -> LinkTotals? {
        try reading { db throws(CacheError) in try db.totals(of: target) }
    }
}

extension SQLiteDatabase {
    func insertLink(_ e: LinkHistoryEntry) throws(CacheError) {
        let failure: CacheError? = e.report.withUnsafeBytes { report in
            do throws(CacheError) {
                try run(
                    """
                    INSERT INTO links (target, started, partitions, reused, wpa_seconds, saved_seconds, report)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(e.target), .real(e.started), .integer(Int64(e.partitions)), .integer(Int64(e.reused)),
                     .real(e.wpaSeconds), .real(e.savedSeconds), .blob(report)])
            } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    func addToTotals(_ e: LinkHistoryEntry) throws(CacheError) {
        try run(
            """
            INSERT INTO link_totals (target, links, partitions, reused, wpa_seconds, saved_seconds, first_link, last_link)
            VALUES (?, 1, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (target) DO UPDATE SET links = links + 1, partitions = partitions + excluded.partitions,
                reused = reused + excluded.reused, wpa_seconds = wpa_seconds + excluded.wpa_seconds,
                saved_seconds = saved_seconds + excluded.saved_seconds, first_link = MIN(first_link, excluded.first_link),
                last_link = MAX(last_link, excluded.last_link)
            """,
            [.text(e.target), .integer(Int64(e.partitions)), .integer(Int64(e.reused)), .real(e.wpaSeconds),
             .real(e.savedSeconds), .real(e.started), .real(e.started)])
    }

    func pruneLinks(of target: String, keeping count: Int) throws(CacheError) {
        try run(
            "DELETE FROM links WHERE target = ? AND id NOT IN (SELECT id FROM links WHERE target = ? ORDER BY started DESC, id DESC LIMIT ?)",
            [.text(target), .text(target), .integer(Int64(count))])
    }

    /// Forgets the links and totals of every target but the `count` most recently linked.
    func pruneTargets(keeping count: Int) throws(CacheError) {
        let kept = "SELECT target FROM link_totals ORDER BY last_link DESC LIMIT ?"
        try run("DELETE FROM links WHERE target NOT IN (\(kept))", [.integer(Int64(count))])
        try run("DELETE FROM link_totals WHERE target NOT IN (\(kept))", [.integer(Int64(count))])
    }

    func links(where condition: String, _ bindings: [SQLValue]) throws(CacheError) -> [LinkHistoryEntry] {
        var found: [LinkHistoryEntry] = []
        try run(
            """
            SELECT target, started, partitions, reused, wpa_seconds, saved_seconds, report FROM links
            WHERE \(condition) ORDER BY started DESC, id DESC
            """, bindings) { row in
            found.append(LinkHistoryEntry(target: row.text(0), started: row.real(1), partitions: Int(row.integer(2)),
                                          reused: Int(row.integer(3)), wpaSeconds: row.real(4), savedSeconds: row.real(5),
                                          report: row.blob(6) ?? []))
        }
        return found
    }

    func totals(of target: String) throws(CacheError) -> LinkTotals? {
        var found: LinkTotals?
        try run(
            "SELECT links, partitions, reused, wpa_seconds, saved_seconds, first_link, last_link FROM link_totals WHERE target = ?",
            [.text(target)]) { row in
            found = LinkTotals(target: target, links: Int(row.integer(0)), partitions: Int(row.integer(1)),
                               reused: Int(row.integer(2)), wpaSeconds: row.real(3), savedSeconds: row.real(4),
                               firstLink: row.real(5), lastLink: row.real(6))
        }
        return found
    }
}
