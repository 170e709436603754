// LTOGCC: the cache key of an LTRANS job: everything its output can depend on, framed and hashed.
import LTOHash

/// Everything an LTRANS job's output can depend on, gathered by the daemon.
///
/// Any doubt means a miss: a wrong hit would link stale code into someone's program.
public struct LTRANSKeyInputs: Sendable {
    /// Facts that identify the compiler wherever it is installed: content digests of the
    /// driver, lto1, the assembler and a specs file, `-dumpfullversion`, `-dumpmachine` and a
    /// digest of `-dumpspecs`.
    public var compiler: [String]
    /// `LTRANSCommand.keyArguments(scope:)`.
    public var arguments: [String]
    /// What the driver here expands `-march=native` and its kin to (empty without them).
    public var nativeExpansion: [String]
    /// The working directory; nil only where `KeyScope.withoutLocations` shows the output
    /// cannot record it (with `-g` it is `DW_AT_comp_dir`).
    public var directory: String?
    /// The environment variables that can change what the driver runs or prints.
    public var environment: [String: String]
    /// The digest of the partition file and the form it was computed in.
    public var partition: Digest
    public var partitionForm: PartitionForm

    public init(compiler: [String], arguments: [String], nativeExpansion: [String] = [], directory: String?,
                environment: [String: String], partition: Digest, partitionForm: PartitionForm) {
        self.compiler = compiler
        self.arguments = arguments
        self.nativeExpansion = nativeExpansion
        self.directory = directory
        self.environment = environment
        self.partition = partition
        self.partitionForm = partitionForm
    }

    /// Bumped whenever the key's framing or meaning changes, so old entries miss.
    public static let formatTag = "ltod/gcc-ltrans/3"

    /// Environment variables that reach the key: read by the driver, lto1 or as; choosing
    /// the shared libraries they load; or changing the diagnostics they print.
    /// `COMPILER_PATH` and `GCC_EXEC_PREFIX` (which the link's driver sets to its own install
    /// directories) are not among them: they only choose the programs and specs the driver
    /// uses, which are keyed by their contents, probed with the job's environment.
    public static let environmentNames = [
        "GCC_COMPARE_DEBUG", "SOURCE_DATE_EPOCH",
        "LD_LIBRARY_PATH", "LD_PRELOAD",
        "LANG", "LC_ALL", "LC_MESSAGES", "LC_CTYPE", "GCC_COLORS", "GCC_URLS", "TERM_URLS",
    ]

    public var key: Digest {
        let h = Hasher128()
        h.label("format"); h.add(Self.formatTag)
        h.label("compiler"); h.add(compiler)
        h.label("arguments"); h.add(arguments)
        h.label("native"); h.add(nativeExpansion)
        h.label("directory"); h.add(directory.map { "=" + $0 } ?? "not recorded")
        h.label("environment")
        for name in Self.environmentNames {
            h.add(name)
            h.add(environment[name].map { "=" + $0 } ?? "unset")
        }
        h.label("partition"); h.add(partitionForm.rawValue); h.add(partition)
        return h.finish()
    }
}

/// How a partition file was reduced to a digest.
public enum PartitionForm: String, Sendable {
    /// Every byte, except the random ID suffix GCC appends to `.gnu.lto_*` section names.
    case normalized = "normalized/1"
    /// Every byte as it is (used when the file is not in a shape ltod recognises).
    case raw = "raw"
    /// As `normalized`, with every symbol's order number replaced by its rank among the
    /// partition's orders (`canonicalPartition` in LTOObject).
    case canonical = "canonical/1"
    /// As `canonical`, with the tree and GIMPLE streams digested with every source location
    /// abstracted (`LocationPolicy.abstractAll`): only under `KeyScope.withoutLocations`, for
    /// a partition whose code cannot depend on its locations.
    case withoutLocations = "canonical-without-locations/1"
}
