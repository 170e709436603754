// LTOGCC: the key of a whole link's LTO step (everything lto-wrapper's output depends on),
// the links it may not be used for, and the record a link's answer is restored from.
import LTOHash

/// Everything GCC's lto-wrapper step of a link depends on: when all of it is unchanged,
/// its output (the objects it prints, and what WPA and LTRANS printed) is unchanged too.
///
/// Any doubt means a miss: an answer from a stale key would link stale code.
public struct LinkKeyInputs: Sendable {
    /// The compiler's identity (as for LTRANS keys) and the real lto-wrapper's file stamp.
    public var compiler: [String]
    /// lto-wrapper's arguments, response files expanded, the resolution file's name replaced
    /// by a token (its contents are in `resolution`).
    public var arguments: [String]
    /// `COLLECT_GCC_OPTIONS` as lto-wrapper sees it (ltod's partition option added).
    public var collectOptions: String
    /// The working directory (with `-g` it is the binary's `DW_AT_comp_dir`).
    public var directory: String
    /// The values of `environmentNames`, `MAKEFLAGS` through `makeFlagsForKey`.
    public var environment: [String: String]
    /// Every input object as named in the arguments, with the digest of its contents (the
    /// whole file, for an archive member).
    public var inputs: [(name: String, digest: Digest)]
    /// The digest of the linker plugin's resolution file; nil when there is none.
    public var resolution: Digest?

    public init(compiler: [String], arguments: [String], collectOptions: String, directory: String, environment: [String: String],
                inputs: [(name: String, digest: Digest)], resolution: Digest?) {
        self.compiler = compiler
        self.arguments = arguments
        self.collectOptions = collectOptions
        self.directory = directory
        self.environment = environment
        self.inputs = inputs
        self.resolution = resolution
    }

    /// Bumped whenever the key's framing or meaning changes, so old records miss.
    public static let formatTag = "ltod/gcc-link/1"

    /// What lto-wrapper, the driver, lto1 and as read from the environment. The variables
    /// that only style messages (`DiagnosticsContext`) are not in the key: a record that
    /// printed something is answered only in the context it printed it in.
    public static let environmentNames = LTRANSKeyInputs.environmentNames + [
        "PATH", "COLLECT_GCC", "COLLECT_AS_OPTIONS", "LIBRARY_PATH", "MAKE", "MAKEFLAGS",
    ]

    /// `MAKEFLAGS` with the jobserver's descriptors or fifo replaced by a token: whether a
    /// jobserver is offered shapes lto-wrapper's choices, its address (new for every make
    /// run with GNU make 4.4's fifos) does not shape its output.
    public static func makeFlagsForKey(_ flags: String) -> String {
        flags.split(separator: " ").map { word in
            word.hasPrefix("--jobserver-auth=") ? "--jobserver-auth=<jobserver>"
                : word.hasPrefix("--jobserver-fds=") ? "--jobserver-fds=<jobserver>" : String(word)
        }.joined(separator: " ")
    }

    /// The arguments with `-fresolution=FILE` replaced by a token, and FILE.
    public static func splitResolution(_ arguments: [String]) -> (arguments: [String], resolution: String?) {
        var file: String?
        let args = arguments.map { a -> String in
            guard a.hasPrefix("-fresolution=") else { return a }
            file = String(a.dropFirst("-fresolution=".count))
            return "-fresolution=<resolution>"
        }
        return (args, file)
    }

    public var key: Digest {
        let h = Hasher128()
        h.label("format"); h.add(Self.formatTag)
        h.label("compiler"); h.add(compiler)
        h.label("arguments"); h.add(arguments)
        h.label("options"); h.add(collectOptions)
        h.label("directory"); h.add(directory)
        h.label("environment")
        for name in Self.environmentNames {
            h.add(name)
            h.add(environment[name].map { "=" + $0 } ?? "unset")
        }
        h.label("inputs")
        for input in inputs {
            h.add(input.name)
            h.add(input.digest)
        }
        h.label("resolution"); h.add(resolution?.description ?? "none")
        return h.finish()
    }
}

/// Why a link's lto-wrapper step cannot be answered whole from a record: what it would do
/// besides printing its objects and what WPA and LTRANS printed. nil when it can be.
public func wholeLinkRefusal(collectOptions: [String], collectAsOptions: String?) -> String? {
    for option in collectOptions {
        if option == "-v" || option == "-###" { return "option \(option) makes lto-wrapper print its commands" }
        if LTRANSCommand.uncacheablePrefixes.contains(where: { option.hasPrefix($0) }) {
            return "option \(option) writes or reads files outside the link's key"
        }
    }
    if let collectAsOptions, !collectAsOptions.isEmpty {
        return "COLLECT_AS_OPTIONS is set (lto-wrapper may warn about its -Xassembler options)"
    }
    return nil
}

/// What answering a link whole restores: the objects lto-wrapper printed, in order, each a
/// cache entry and the suffix of its temporary name (`.ltrans0.ltrans.o`, `.debug.temp.o`).
public struct LinkAnswer: Equatable, Sendable {
    public struct Object: Equatable, Sendable {
        public let key: Digest
        public let suffix: String

        public init(key: Digest, suffix: String) {
            self.key = key
            self.suffix = suffix
        }
    }

    public let objects: [Object]

    public init(objects: [Object]) { self.objects = objects }

    static let header = "ltod link answer 1"

    public var encoded: String {
        ([Self.header] + objects.map { "\($0.key) \($0.suffix)" }).map { $0 + "\n" }.joined()
    }

    /// nil unless `text` is a record this ltod wrote.
    public init?(encoded text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map(String.init) == Self.header, lines.last == "" else { return nil }
        var objects: [Object] = []
        for line in lines.dropFirst().dropLast() {
            let fields = line.split(separator: " ", maxSplits: 1)
            guard fields.count == 2, let key = Digest(hex: String(fields[0])), TemporaryName.isSuffix(fields[1]) else { return nil }
            objects.append(Object(key: key, suffix: String(fields[1])))
        }
        guard !objects.isEmpty else { return nil }
        self.objects = objects
    }

    /// The partition an LTRANS object's suffix names (`.ltrans3.ltrans.o` gives 3); nil for
    /// other objects.
    public static func partitionIndex(_ suffix: String) -> Int? {
        guard suffix.hasPrefix(".ltrans"), suffix.hasSuffix(".ltrans.o") else { return nil }
        return Int(suffix.dropFirst(".ltrans".count).dropLast(".ltrans.o".count))
    }

    /// The key under which an object that has no LTRANS key (a debug object, the single
    /// object of a `-flto-partition=none` link) is kept: its contents' digest, tagged.
    public static func contentKey(of digest: Digest) -> Digest {
        let h = Hasher128()
        h.label("format"); h.add("ltod/gcc-link-object/1")
        h.add(digest)
        return h.finish()
    }
}

extension TemporaryName {
    /// Whether `text` can be the suffix of a temporary name (no slash, no line break).
    static func isSuffix(_ text: Substring) -> Bool {
        !text.isEmpty && !text.contains("/") && !text.contains("\n")
    }
}
