// LTOBackend: what `explain` reports about one finished link, in toolchain-neutral terms,
// and the sink a backend hands each report to.

/// One finished link: which inputs changed (to function granularity), which partitions were
/// rebuilt and why, which were reused and what that saved.
public struct LinkReport: Codable, Equatable, Sendable {
    /// What changed in one input object since the target's previous link.
    public struct InputChange: Codable, Equatable, Sendable {
        public let path: String
        /// Function bodies (or variable initializers) whose code changed, appeared or disappeared.
        public let functions: [String]
        /// Per-file streams that changed (declarations, symbol table, IPA summaries, ...).
        public let streams: [String]
        public let added: Bool
        public let removed: Bool

        public init(path: String, functions: [String], streams: [String], added: Bool, removed: Bool) {
            self.path = path
            self.functions = functions
            self.streams = streams
            self.added = added
            self.removed = removed
        }
    }

    /// One partition rebuilt (or reused with a note), and why.
    public struct Partition: Codable, Equatable, Sendable {
        public let index: Int?
        public let key: String?
        public let seconds: Double
        public let reason: String
        /// The functions (and variables) the partition holds.
        public let functions: [String]
        /// The changed inputs whose changed functions the partition holds.
        public let reachedBy: [String]

        public init(index: Int?, key: String?, seconds: Double, reason: String, functions: [String], reachedBy: [String]) {
            self.index = index
            self.key = key
            self.seconds = seconds
            self.reason = reason
            self.functions = functions
            self.reachedBy = reachedBy
        }
    }

    public let target: String
    /// Seconds since the Unix epoch.
    public let started: Double
    public let wpaSeconds: Double
    /// True when no earlier link of the target was known to compare with.
    public let firstLink: Bool
    public let changes: [InputChange]
    public let total: Int
    public let reused: Int
    public let savedSeconds: Double
    public let rebuilt: [Partition]
    /// Reused partitions whose bytes differ from those the cached object was built from;
    /// the reason says why the entry still applied (e.g. only symbol numbers shifted).
    public let reusedWithNote: [Partition]
    /// The cache key of every partition of the link.
    public let keys: [String]

    public init(target: String, started: Double, wpaSeconds: Double, firstLink: Bool, changes: [InputChange], total: Int,
                reused: Int, savedSeconds: Double, rebuilt: [Partition], reusedWithNote: [Partition], keys: [String]) {
        self.target = target
        self.started = started
        self.wpaSeconds = wpaSeconds
        self.firstLink = firstLink
        self.changes = changes
        self.total = total
        self.reused = reused
        self.savedSeconds = savedSeconds
        self.rebuilt = rebuilt
        self.reusedWithNote = reusedWithNote
        self.keys = keys
    }
}

/// Where a backend hands the report of every link it closes: the daemon keeps them in the
/// link history, so that `explain` survives restarts.
public protocol LinkReportSink: Sendable {
    func linkFinished(_ report: LinkReport)
}
